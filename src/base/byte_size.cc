#include "base/byte_size.h"

#include <cctype>
#include <limits>
#include <string>

namespace kiln::base {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Multiplier of a unit, 0 for an unknown one.
uint64_t UnitBytes(std::string_view unit) {
  std::string u = Lower(unit);
  if (u.empty() || u == "b") return 1;
  if (u == "kb") return 1000;
  if (u == "mb") return 1000 * 1000;
  if (u == "gb") return 1000ull * 1000 * 1000;
  if (u == "kib") return 1024;
  if (u == "mib") return 1024 * 1024;
  if (u == "gib") return 1024ull * 1024 * 1024;
  return 0;
}

}  // namespace

Result<uint64_t> ParseByteSize(std::string_view text) {
  size_t i = 0;
  uint64_t number = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (number > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return InvalidInput("size '" + std::string(text) + "' is too large");
    }
    number = number * 10 + digit;
  }
  if (i == 0) {
    return InvalidInput("size '" + std::string(text) + "': expected a number of bytes or " +
                        "a number with KiB, MiB or GiB");
  }
  std::string_view unit = text.substr(i);
  if (unit.starts_with(' ')) unit.remove_prefix(1);
  uint64_t multiplier = UnitBytes(unit);
  if (multiplier == 0) {
    return InvalidInput("size '" + std::string(text) + "': unknown unit '" + std::string(unit) +
                        "' (use B, KB, MB, GB, KiB, MiB or GiB)");
  }
  if (number > std::numeric_limits<uint64_t>::max() / multiplier) {
    return InvalidInput("size '" + std::string(text) + "' is too large");
  }
  return number * multiplier;
}

std::string FormatByteSize(uint64_t bytes) {
  constexpr std::pair<uint64_t, const char*> kUnits[] = {
      {1024ull * 1024 * 1024, "GiB"}, {1024 * 1024, "MiB"}, {1024, "KiB"}};
  for (const auto& [size, name] : kUnits) {
    if (bytes >= size && bytes % size == 0) return std::to_string(bytes / size) + " " + name;
  }
  return std::to_string(bytes) + " B";
}

}  // namespace kiln::base
