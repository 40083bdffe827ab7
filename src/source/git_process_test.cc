#include "source/git_process.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "base/ids.h"

namespace kiln::source {
namespace {

std::vector<std::string> PathOnly() { return {std::string("PATH=") + std::getenv("PATH")}; }

TEST(RunProcess, CapturesStdoutStderrAndExitCodeApart) {
  auto out = RunProcess({"sh", "-c", "echo out; echo err >&2; exit 3"}, PathOnly(), "", {});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->out, "out\n");
  EXPECT_EQ(out->err, "err\n");
  EXPECT_EQ(out->exit_code, 3);
}

TEST(RunProcess, EnvironmentIsExactlyTheOneGiven) {
  auto out = RunProcess({"env"}, {"ONLY=1"}, "/", {});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->out, "ONLY=1\n");
}

TEST(RunProcess, OutputBeyondTheCapIsDropped) {
  auto out = RunProcess({"head", "-c", "1000000", "/dev/zero"}, PathOnly(), "", {.max_stdout = 10});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->out.size(), 10u);
  EXPECT_EQ(out->exit_code, 0);
}

TEST(RunProcess, TimeoutKillsTheWholeGroup) {
  int64_t start = base::MonotonicMillis();
  // The background sleep keeps stdout open: only killing the group ends the run.
  auto out = RunProcess({"sh", "-c", "sleep 30 & sleep 30"}, PathOnly(), "", {.timeout_ms = 200});
  EXPECT_EQ(out.status().kind(), base::ErrorKind::kFailed);
  EXPECT_NE(out.status().message().find("timed out"), std::string::npos);
  EXPECT_LT(base::MonotonicMillis() - start, 5000);
}

TEST(RunProcess, MissingProgramIsAnError) {
  EXPECT_FALSE(RunProcess({"kiln-no-such-program"}, PathOnly(), "", {}).ok());
}

TEST(RunPiped, ConsumerReadsTheProducerOnFd3) {
  auto out = RunPiped({"printf", "hello"}, {"cat", "/dev/fd/3"}, PathOnly(), "", {});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->out, "hello");
  EXPECT_EQ(out->exit_code, 0);
}

TEST(RunPiped, EitherSidesFailureIsReported) {
  auto producer =
      RunPiped({"sh", "-c", "echo bad >&2; exit 4"}, {"cat", "/dev/fd/3"}, PathOnly(), "", {});
  ASSERT_TRUE(producer.ok());
  EXPECT_EQ(producer->exit_code, 4);
  EXPECT_EQ(producer->err, "bad\n");
  auto consumer = RunPiped({"printf", "x"}, {"sh", "-c", "exit 5"}, PathOnly(), "", {});
  ASSERT_TRUE(consumer.ok());
  EXPECT_NE(consumer->exit_code, 0);
}

}  // namespace
}  // namespace kiln::source
