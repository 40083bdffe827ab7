// Sizes as users write them: "25MiB", "512KiB", "1GiB", "64MB", or a bare number of bytes.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace kiln::base {

// Parses a size into bytes: an integer with an optional unit B, KB/MB/GB (powers of 1000) or
// KiB/MiB/GiB (powers of 1024), case-insensitive, no space or one space before the unit.
// Refuses negatives, fractions, unknown units and overflow.
Result<uint64_t> ParseByteSize(std::string_view text);

// "25 MiB", "512 KiB", "1000 B": the shortest exact form, for messages.
std::string FormatByteSize(uint64_t bytes);

}  // namespace kiln::base
