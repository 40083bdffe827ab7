// on-failure RETRY-<regex>: the user's pattern, compiled once with RE2. RE2 matches in time
// linear in the text with bounded memory whatever the pattern, so a hostile buildspec cannot
// hang a build with catastrophic backtracking (`(a+)+$`) or overflow the stack on a long error
// message, as std::regex can.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace re2 {
class RE2;
}

namespace kiln::spec {

// A longer pattern is refused: a retry rule names an error, it does not parse a log.
inline constexpr size_t kMaxRetryRegexBytes = 1024;
// RE2's budget for the compiled program and its DFA cache; past it the pattern is refused
// (compile) or RE2 falls back to its slower, still linear, matcher (search).
inline constexpr int64_t kRetryRegexMaxMem = 1 << 20;
// Only the last 64 KiB of the error message is searched: its end says why the command failed
// ("... Reason: exit status 1"), and the cost of one search stays bounded.
inline constexpr size_t kRetryScanBytes = 64 * 1024;

class RetryRegex {
 public:
  // Compiles pattern (RE2 syntax). InvalidInput naming the problem when it is longer than
  // kMaxRetryRegexBytes, malformed, or too large for kRetryRegexMaxMem.
  static base::Result<RetryRegex> Compile(std::string_view pattern);

  // True if the pattern matches anywhere in the last kRetryScanBytes of text.
  bool Matches(std::string_view text) const;

  // The pattern as written.
  const std::string& pattern() const;

 private:
  explicit RetryRegex(std::shared_ptr<const re2::RE2> re) : re_(std::move(re)) {}
  std::shared_ptr<const re2::RE2> re_;  // shared: a Buildspec is copied, its program is not
};

}  // namespace kiln::spec
