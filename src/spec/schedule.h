// Schedule expressions for `schedules` in kiln.yml (a pipeline started on a timer, as an
// EventBridge rule starts a CodePipeline): standard 5-field cron ("0 3 * * 1-5"), AWS's
// "cron(0 3 ? * MON-FRI *)" (6 fields, `?` = any, year must be `*`), and "rate(15 minutes)".
// Times are UTC, as EventBridge's.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::spec {

struct ScheduleSpec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;                     // 1-31
  std::bitset<13> months;                   // 1-12
  std::bitset<7> weekdays;                  // 0 = Sunday
  bool any_day = true, any_weekday = true;  // cron's rule: if both are restricted, either matches
  int64_t rate_ms = 0;                      // rate(...): every rate_ms, aligned to the epoch
};

// Parses an expression; on failure returns nullopt and sets *error to a one-line reason.
std::optional<ScheduleSpec> ParseSchedule(std::string_view text, std::string* error);

// The first time (ms since the epoch, UTC) strictly after after_ms that the schedule fires;
// nullopt if none within about 5 years (e.g. "0 0 30 2 *").
std::optional<int64_t> NextFire(const ScheduleSpec& spec, int64_t after_ms);

}  // namespace kiln::spec
