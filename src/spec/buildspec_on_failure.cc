// ParseOnFailure: the grammar of a phase's on-failure (ABORT, CONTINUE, RETRY-<count>-<regex>).
#include <cctype>
#include <optional>
#include <string>

#include "spec/buildspec.h"

namespace kiln::spec {
namespace {

base::Status MalformedOnFailure(std::string_view text) {
  return base::InvalidInput(
      "must be ABORT, CONTINUE, RETRY, RETRY-<count 0..100>, RETRY-<regex> or "
      "RETRY-<count>-<regex>, not " +
      std::string(text));
}

// What follows "RETRY-": "<count>", "<count>-<regex>" or "<regex>" (a remainder that is not a
// count is all regex, so "RETRY-2abc" retries on /2abc/). nullopt when malformed.
std::optional<std::string_view> ParseRetrySuffix(std::string_view rest, OnFailure& out) {
  size_t digits = 0;
  while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
  if (digits > 0 && (digits == rest.size() || rest[digits] == '-')) {
    if (digits > 3) return std::nullopt;
    out.retry_count = std::stoi(std::string(rest.substr(0, digits)));
    if (out.retry_count > 100) return std::nullopt;
    if (digits == rest.size()) return std::string_view();
    rest.remove_prefix(digits + 1);
    if (rest.empty()) return std::nullopt;  // "RETRY-2-" names no regex
  }
  return rest;
}

}  // namespace

// Grammar (CodeBuild): ABORT | CONTINUE | RETRY | RETRY-<count> | RETRY-<regex> |
// RETRY-<count>-<regex>, with count 0..100 (default 3) and regex matching every error if absent.
base::Result<OnFailure> ParseOnFailure(std::string_view text) {
  OnFailure out;
  if (text == "ABORT" || text == "CONTINUE") {
    out.mode = text == "ABORT" ? OnFailure::Mode::kAbort : OnFailure::Mode::kContinue;
    return out;
  }
  if (!text.starts_with("RETRY")) return MalformedOnFailure(text);
  out.mode = OnFailure::Mode::kRetry;
  std::string_view rest = text.substr(5);
  if (rest.empty()) return out;
  if (rest.size() < 2 || rest[0] != '-') return MalformedOnFailure(text);
  std::optional<std::string_view> regex = ParseRetrySuffix(rest.substr(1), out);
  if (!regex) return MalformedOnFailure(text);
  if (regex->empty()) return out;
  base::Result<RetryRegex> compiled = RetryRegex::Compile(*regex);
  if (!compiled.ok()) return compiled.status();
  out.retry_regex = std::move(compiled.value());
  return out;
}

}  // namespace kiln::spec
