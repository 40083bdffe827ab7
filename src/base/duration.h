// Durations as users write them: "90s", "20m", "1h30m", "500ms", or a bare number of seconds.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace kiln::base {

// Parses a duration into milliseconds. Refuses negatives, unknown units and overflow.
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace kiln::base
