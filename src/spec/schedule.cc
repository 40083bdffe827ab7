#include "spec/schedule.h"

#include <ctime>
#include <sstream>
#include <vector>

namespace kiln::spec {
namespace {

constexpr const char* kMonths[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDays[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

std::optional<int> Number(std::string_view s, int field) {
  std::string upper;
  for (char c : s) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (field == 3) {
    for (int i = 0; i < 12; ++i)
      if (upper == kMonths[i]) return i + 1;
  }
  if (field == 4) {
    for (int i = 0; i < 7; ++i)
      if (upper == kDays[i]) return i;
  }
  if (s.empty() || s.size() > 4) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// One cron field: "*", "*/n", "a", "a-b", "a-b/n", comma-separated. Sets bits [lo, hi].
bool ParseField(std::string_view text, int field, int lo, int hi, std::vector<bool>* bits,
                bool* any, std::string* error) {
  static constexpr const char* kNames[] = {"minute", "hour", "day of month", "month",
                                           "day of week"};
  *any = text == "*" || text == "?";
  bits->assign(hi + 1, false);
  std::stringstream parts{std::string(text)};
  std::string part;
  while (std::getline(parts, part, ',')) {
    int step = 1;
    if (size_t slash = part.find('/'); slash != std::string::npos) {
      auto s = Number(std::string_view(part).substr(slash + 1), -1);
      if (!s || *s < 1)
        return *error = std::string(kNames[field]) + ": bad step in '" + part + "'", false;
      step = *s;
      part = part.substr(0, slash);
    }
    int a = lo, b = hi;
    if (part != "*" && part != "?") {
      size_t dash = part.find('-');
      auto first = Number(std::string_view(part).substr(0, dash), field);
      auto last = dash == std::string::npos
                      ? first
                      : Number(std::string_view(part).substr(dash + 1), field);
      if (!first || !last)
        return *error = std::string(kNames[field]) + ": '" + part + "' is not a value", false;
      a = *first;
      b = dash == std::string::npos && step > 1 ? hi : *last;
    }
    if (a < lo || b > hi || a > b) {
      return *error = std::string(kNames[field]) + ": '" + std::string(text) +
                      "' is out of range " + std::to_string(lo) + "-" + std::to_string(hi),
             false;
    }
    for (int v = a; v <= b; v += step) (*bits)[v] = true;
  }
  return true;
}

std::optional<ScheduleSpec> ParseRate(std::string_view body, std::string* error) {
  std::stringstream in{std::string(body)};
  int64_t n = 0;
  std::string unit;
  if (!(in >> n >> unit) || n < 1)
    return *error = "rate(...) expects 'N minutes|hours|days'", std::nullopt;
  if (unit.back() == 's') unit.pop_back();
  int64_t ms = unit == "minute" ? 60'000
               : unit == "hour" ? 3'600'000
               : unit == "day"  ? 86'400'000
                                : 0;
  if (ms == 0) return *error = "rate(...): unit must be minutes, hours or days", std::nullopt;
  ScheduleSpec spec;
  spec.rate_ms = n * ms;
  return spec;
}

}  // namespace

std::optional<ScheduleSpec> ParseSchedule(std::string_view text, std::string* error) {
  std::string_view body = text;
  bool aws = false;
  if (body.starts_with("rate(") && body.ends_with(")"))
    return ParseRate(body.substr(5, body.size() - 6), error);
  if (body.starts_with("cron(") && body.ends_with(")")) {
    body = body.substr(5, body.size() - 6);
    aws = true;
  }
  std::vector<std::string> fields;
  std::stringstream in{std::string(body)};
  for (std::string f; in >> f;) fields.push_back(f);
  if (aws && fields.size() == 6) {
    if (fields[5] != "*")
      return *error = "cron(...): only '*' is supported for the year", std::nullopt;
    fields.pop_back();
  }
  if (fields.size() != 5) {
    *error =
        "expected 5 cron fields (minute hour day-of-month month day-of-week), cron(...) or "
        "rate(...)";
    return std::nullopt;
  }
  ScheduleSpec spec;
  const int lo[] = {0, 0, 1, 1, 0}, hi[] = {59, 23, 31, 12, 7};
  std::vector<bool> bits;
  bool any = false;
  for (int i = 0; i < 5; ++i) {
    if (!ParseField(fields[i], i, lo[i], hi[i], &bits, &any, error)) return std::nullopt;
    for (int v = lo[i]; v <= std::min(hi[i], i == 4 ? 6 : hi[i]); ++v) {
      if (!bits[v]) continue;
      if (i == 0) spec.minutes.set(v);
      if (i == 1) spec.hours.set(v);
      if (i == 2) spec.days.set(v);
      if (i == 3) spec.months.set(v);
      if (i == 4) spec.weekdays.set(v);
    }
    if (i == 4 && bits[7]) spec.weekdays.set(0);  // 7 is Sunday too
    if (i == 2) spec.any_day = any;
    if (i == 4) spec.any_weekday = any;
  }
  return spec;
}

std::optional<int64_t> NextFire(const ScheduleSpec& spec, int64_t after_ms) {
  if (spec.rate_ms > 0) return (after_ms / spec.rate_ms + 1) * spec.rate_ms;
  int64_t minute = after_ms / 60'000 + 1;  // whole minutes, strictly after
  for (int64_t limit = minute + 5LL * 366 * 24 * 60; minute < limit; ++minute) {
    time_t t = static_cast<time_t>(minute * 60);
    std::tm tm{};
    gmtime_r(&t, &tm);
    bool day_ok = spec.any_day && spec.any_weekday ? true
                  : spec.any_day                   ? spec.weekdays[tm.tm_wday]
                  : spec.any_weekday               ? spec.days[tm.tm_mday]
                                     : spec.days[tm.tm_mday] || spec.weekdays[tm.tm_wday];
    if (!spec.months[tm.tm_mon + 1] || !day_ok) {
      minute += (23 - tm.tm_hour) * 60 + (59 - tm.tm_min);  // skip to the next day
      continue;
    }
    if (!spec.hours[tm.tm_hour]) {
      minute += 59 - tm.tm_min;  // skip to the next hour
      continue;
    }
    if (spec.minutes[tm.tm_min]) return minute * 60'000;
  }
  return std::nullopt;
}

}  // namespace kiln::spec
