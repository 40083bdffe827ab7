// Line splitting shared by the yaml_*.cc files, for checks that look at the raw text.
// Internal to src/spec.
#pragma once

#include <string_view>
#include <vector>

namespace kiln::spec::yaml_text {

// The lines of text without their "\n" or "\r\n"; a final line without a newline counts too.
std::vector<std::string_view> SplitLines(std::string_view text);

}  // namespace kiln::spec::yaml_text
