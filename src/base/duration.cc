#include "base/duration.h"

#include <cctype>
#include <string>

namespace kiln::base {
namespace {

constexpr int64_t kMaxMillis = int64_t{100} * 365 * 24 * 3600 * 1000;  // a century

int64_t UnitMillis(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s" || unit.empty()) return 1000;
  if (unit == "m") return 60'000;
  if (unit == "h") return 3'600'000;
  if (unit == "d") return 86'400'000;
  return -1;
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return InvalidInput("invalid duration '" + std::string(text) +
                        "' (expected e.g. 90s, 20m, 1h30m, 500ms)");
  };
  if (text.empty()) return bad();
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return bad();
    int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + (text[i++] - '0');
      if (n > kMaxMillis) return bad();
    }
    size_t u = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    int64_t unit = UnitMillis(text.substr(u, i - u));
    if (unit < 0 || (u == i && i != text.size())) return bad();
    total += n * unit;
    if (total > kMaxMillis) return bad();
  }
  return total;
}

}  // namespace kiln::base
