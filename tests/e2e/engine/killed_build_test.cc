// `kill -9` of a `kiln build` whose build runs in a container: nothing is left running there
// (the container's watcher sees Kiln's lifeline close and ends it), against the private
// engine (label `engine`).
#include <gtest/gtest.h>
#include <signal.h>

#include "../pipeline_fixture.h"

namespace kiln::e2e {
namespace {

class KilledBuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = KILN_TEST_ENGINE_DIR;
    if (fs::exists(dir + "/unavailable")) {
      GTEST_SKIP() << "no Docker engine: " << ReadText(dir + "/unavailable");
    }
    docker_host_ = ReadText(dir + "/docker-host");
    while (!docker_host_.empty() && docker_host_.back() == '\n') docker_host_.pop_back();
  }

  std::vector<std::string> Env() const { return {"DOCKER_HOST=" + docker_host_}; }

  // `docker ps` lines (ID and status) of this test's containers; all: stopped ones too.
  std::string Containers(bool all) {
    std::vector<std::string> argv = {"docker",   "ps",
                                     "--filter", "label=kiln.state",
                                     "--format", "{{.ID}} {{.Status}} {{.Labels}}"};
    if (all) argv.push_back("-a");
    std::string out;
    std::istringstream lines(RunProcess(argv, tmp_.path(), Env()).out);
    for (std::string line; std::getline(lines, line);) {
      if (line.find(tmp_.path().filename().string()) != std::string::npos) out += line + "\n";
    }
    return out;
  }

  TempDir tmp_;
  std::string docker_host_;
};

TEST_F(KilledBuildTest, KillingTheRunnerLeavesNothingRunningInTheEngine) {
  auto boot = RunKiln({"image", "bootstrap", "--busybox"}, tmp_.path(), Env());
  ASSERT_EQ(boot.exit_code, 0) << boot.err;
  // The project (and so the kiln.build label) is named after the source folder: this test's.
  fs::path src = tmp_.path() / tmp_.path().filename();
  tmp_.Write(src.filename().string() + "/buildspec.yml",
             "version: 0.2\nphases:\n  build:\n    commands:\n      - echo started\n"
             "      - sleep 300\n");
  auto build = StartKiln({"--state-dir", (tmp_.path() / "state").string(), "build", "--image",
                          "kiln/busybox:1", src.string()},
                         tmp_.path(), Env());
  ASSERT_TRUE(WaitUntil([&] { return build->Out().find("] started") != std::string::npos; }))
      << build->Out() << build->Err();
  ASSERT_NE(Containers(false), "");
  build->Signal(SIGKILL);
  EXPECT_TRUE(WaitUntil([&] { return Containers(false).empty(); }, 10000)) << Containers(false);
  // What is left is stopped; the daemon's next start removes it (its state dir's label).
  std::istringstream left(Containers(true));
  for (std::string line; std::getline(left, line);) {
    RunProcess({"docker", "rm", "-f", line.substr(0, line.find(' '))}, tmp_.path(), Env());
  }
}

}  // namespace
}  // namespace kiln::e2e
