#include "spec/schedule.h"

#include <gtest/gtest.h>

namespace kiln::spec {
namespace {

// 2026-11-28T20:00:00Z, a Saturday.
constexpr int64_t kSat2000 = 1795896000000;

int64_t Next(const std::string& expr, int64_t after = kSat2000) {
  std::string error;
  auto spec = ParseSchedule(expr, &error);
  EXPECT_TRUE(spec) << expr << ": " << error;
  auto next = spec ? NextFire(*spec, after) : std::nullopt;
  return next.value_or(-1);
}

TEST(Schedule, StandardCronFields) {
  EXPECT_EQ(Next("*/15 * * * *"), kSat2000 + 15 * 60'000);
  EXPECT_EQ(Next("0 3 * * *"), kSat2000 + 7 * 3'600'000);                   // 03:00 next day
  EXPECT_EQ(Next("30 9 * * MON-FRI"), kSat2000 + (37 * 60 + 30) * 60'000);  // Monday 09:30
  EXPECT_EQ(Next("0 0 1 JAN *"), 1798761600000);                            // 2027-01-01
  EXPECT_EQ(Next("0 12 * * 7"), kSat2000 + 16 * 3'600'000);                 // Sunday noon (7 = 0)
  EXPECT_EQ(Next("5,10 20 * * *"), kSat2000 + 5 * 60'000);
}

TEST(Schedule, AwsFormsAndRate) {
  EXPECT_EQ(Next("cron(0 3 ? * * *)"), kSat2000 + 7 * 3'600'000);
  EXPECT_EQ(Next("rate(5 minutes)"), kSat2000 + 5 * 60'000);
  EXPECT_EQ(Next("rate(1 hour)"), kSat2000 + 3'600'000);
}

TEST(Schedule, BadExpressionsSayWhy) {
  std::string error;
  EXPECT_FALSE(ParseSchedule("61 * * * *", &error));
  EXPECT_NE(error.find("minute"), std::string::npos) << error;
  EXPECT_FALSE(ParseSchedule("* * *", &error));
  EXPECT_NE(error.find("5 cron fields"), std::string::npos) << error;
  EXPECT_FALSE(ParseSchedule("cron(0 3 * * ? 2027)", &error));
  EXPECT_FALSE(ParseSchedule("rate(0 minutes)", &error));
  EXPECT_FALSE(ParseSchedule("*/0 * * * *", &error));
  EXPECT_FALSE(ParseSchedule("0 0 * FOO *", &error));
  std::string ok;
  auto never = ParseSchedule("0 0 30 2 *", &ok);  // 30 February
  ASSERT_TRUE(never);
  EXPECT_FALSE(NextFire(*never, kSat2000));
}

}  // namespace
}  // namespace kiln::spec
