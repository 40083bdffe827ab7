// Identifiers and time.
#pragma once

#include <cstdint>
#include <string>

namespace kiln::base {

// A random RFC 4122 version-4 UUID in lower-case hex, from the OS's random source.
std::string NewUuid();

// Milliseconds since the Unix epoch (wall clock).
int64_t NowMillis();
// Monotonic milliseconds, for durations.
int64_t MonotonicMillis();
// "2026-11-28T16:08:23.123Z" for epoch milliseconds.
std::string IsoTime(int64_t epoch_millis);

}  // namespace kiln::base
