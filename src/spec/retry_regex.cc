#include "spec/retry_regex.h"

#include <re2/re2.h>

namespace kiln::spec {

base::Result<RetryRegex> RetryRegex::Compile(std::string_view pattern) {
  if (pattern.size() > kMaxRetryRegexBytes) {
    return base::InvalidInput("regex is longer than " + std::to_string(kMaxRetryRegexBytes) +
                              " bytes");
  }
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kRetryRegexMaxMem);
  auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) {
    return base::InvalidInput("invalid regex '" + std::string(pattern) + "': " + re->error());
  }
  return RetryRegex(std::move(re));
}

bool RetryRegex::Matches(std::string_view text) const {
  if (text.size() > kRetryScanBytes) text.remove_prefix(text.size() - kRetryScanBytes);
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

const std::string& RetryRegex::pattern() const { return re_->pattern(); }

}  // namespace kiln::spec
