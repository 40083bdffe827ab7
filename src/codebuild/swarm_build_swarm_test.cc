// Builds on a swarm cluster (environment.cluster), run through RunBuild as container builds
// are, on the single-node swarm of CTest's swarm_engine fixture (label `swarm`): the build is
// one Swarm job whose task talks to Kiln through the same FIFOs as a build container.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/ids.h"
#include "codebuild/build_containers.h"
#include "codebuild/engine.h"
#include "exec/container_shell.h"
#include "exec/engine_fixture.h"
#include "exec/swarm_job.h"
#include "exec/swarm_test_engine.h"
#include "spec/buildspec.h"

namespace kiln::codebuild {
namespace {
namespace fs = std::filesystem;

constexpr char kImage[] = "kiln/busybox:test";  // imported by the suite

std::string ReadFile(const std::string& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class SwarmBuildTest : public exec::testing::SwarmEngineSuite {
 protected:
  void SetUp() override {
    exec::testing::SwarmEngineSuite::SetUp();
    if (IsSkipped()) return;
    char tmpl[] = "/tmp/kiln-sbuild-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fs::create_directories(dir_ / "src");
    fs::create_directories(dir_ / "state");
  }
  void TearDown() override {
    if (swarm_ && !build_id_.empty()) {
      (void)exec::RemoveOrphanJobServices(*swarm_, "kiln.build", build_id_);
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  BuildRequest Request(const std::string& buildspec, const std::string& image) {
    auto parsed = spec::ParseBuildspec(buildspec, "buildspec.yml");
    EXPECT_TRUE(parsed.spec.has_value());
    build_id_ = "jobbed:" + base::NewUuid();
    BuildRequest r{.project = "jobbed",
                   .build_id = build_id_,
                   .source_dir = dir_ / "src",
                   .buildspec = *parsed.spec,
                   .state_dir = dir_ / "state"};
    r.environment.image = image;
    r.environment.cluster = "farm";
    r.cluster_engine = exec::testing::ReadLine(std::string(KILN_SWARM_ENGINE_DIR) + "/docker-host");
    return r;
  }
  // Services and containers of this build on the swarm's engine.
  size_t Left() {
    auto services = swarm_->ListServiceIds({{"kiln.build", build_id_}});
    auto containers = swarm_->engine().ListContainers({{"kiln.build", build_id_}}, true);
    EXPECT_TRUE(services.ok() && containers.ok());
    return services.ok() && containers.ok() ? services->size() + containers->size() : 99;
  }
  static const PhaseRecord* Phase(const BuildRecord& r, PhaseType t) {
    for (const auto& p : r.phases) {
      if (p.type == t) return &p;
    }
    return nullptr;
  }

  fs::path dir_;
  std::string build_id_;
};

TEST_F(SwarmBuildTest, PhasesVariablesOnFailureAndArtifactsAsInAContainerBuild) {
  BuildRequest req = Request(
      "version: 0.2\nenv:\n  exported-variables: [GREETING]\nphases:\n"
      "  install:\n    commands:\n      - export GREETING=hello-from-install\n"
      "  build:\n    on-failure: CONTINUE\n    commands:\n"
      "      - echo \"build sees $GREETING\"\n"
      "      - echo artifact-$GREETING > out.txt\n      - false\n      - echo not reached\n"
      "  post_build:\n    commands:\n      - echo post_build after failure\n"
      "artifacts:\n  files:\n    - out.txt\n",
      kImage);
  size_t services_during_build = 0;
  req.on_update = [&](const BuildRecord& r) {
    if (r.current_phase != PhaseType::kBuild) return;
    auto ids = swarm_->ListServiceIds({{"kiln.build", build_id_}});
    if (ids.ok()) services_during_build = ids->size();
  };
  BuildRecord r = RunBuild(req);
  std::string log = ReadFile(r.log_path);
  EXPECT_EQ(r.status, BuildStatus::kFailed) << log;
  ASSERT_NE(Phase(r, PhaseType::kPostBuild), nullptr) << log;
  EXPECT_EQ(Phase(r, PhaseType::kProvisioning)->status, BuildStatus::kSucceeded);
  EXPECT_EQ(Phase(r, PhaseType::kInstall)->status, BuildStatus::kSucceeded);
  EXPECT_EQ(Phase(r, PhaseType::kBuild)->status, BuildStatus::kFailed);
  EXPECT_EQ(Phase(r, PhaseType::kPostBuild)->status, BuildStatus::kSucceeded);
  EXPECT_NE(log.find("Running on Kiln's swarm job executor (cluster farm, node "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("build sees hello-from-install"), std::string::npos) << log;
  EXPECT_NE(log.find("post_build after failure"), std::string::npos) << log;
  EXPECT_EQ(log.find("not reached"), std::string::npos) << log;
  EXPECT_EQ(services_during_build, 1u);
  EXPECT_EQ(r.exported,
            (std::vector<std::pair<std::string, std::string>>{{"GREETING", "hello-from-install"}}));
  EXPECT_EQ(r.artifacts.files, std::vector<std::string>{"out.txt"});
  EXPECT_EQ(ReadFile(r.artifacts.location + "/out.txt"), "artifact-hello-from-install\n");
  EXPECT_EQ(ToJson(r)["environment"]["executor"], "swarm-job");
  EXPECT_EQ(ToJson(r)["environment"]["cluster"], "farm");
  EXPECT_EQ(Left(), 0u);
}

TEST_F(SwarmBuildTest, StoppingEndsTheJobWithinSecondsAndLeavesNoServiceOrContainer) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  BuildRequest req = Request(
      "version: 0.2\nphases:\n  build:\n    commands:\n      - echo sleeping\n      - sleep 300\n",
      kImage);
  req.cancel_fd = fds[0];
  std::chrono::steady_clock::time_point stopped_at;
  req.on_update = [&](const BuildRecord& r) {
    if (r.current_phase != PhaseType::kBuild || stopped_at.time_since_epoch().count() != 0) return;
    stopped_at = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    std::thread([fd = fds[1]] {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      (void)!::write(fd, "x", 1);
    }).detach();
  };
  BuildRecord r = RunBuild(req);
  auto took = std::chrono::steady_clock::now() - stopped_at;
  std::string log = ReadFile(r.log_path);
  EXPECT_EQ(r.status, BuildStatus::kStopped) << log;
  EXPECT_LT(took, std::chrono::seconds(5)) << log;
  EXPECT_NE(log.find("sleeping"), std::string::npos) << log;
  EXPECT_EQ(Left(), 0u);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_F(SwarmBuildTest, AMissingImageFailsProvisioningWithTheReason) {
  // A registry on the swarm's own loopback that refuses: no traffic leaves.
  BuildRecord r = RunBuild(Request(
      "version: 0.2\nphases:\n  build:\n    commands:\n      - echo no\n", "127.0.0.1:1/no/pe:1"));
  EXPECT_EQ(r.status, BuildStatus::kFailed);
  const PhaseRecord* p = Phase(r, PhaseType::kProvisioning);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->status, BuildStatus::kFailed);
  ASSERT_FALSE(p->contexts.empty());
  EXPECT_NE(p->contexts[0].message.find("cannot get image '127.0.0.1:1/no/pe:1': "),
            std::string::npos)
      << p->contexts[0].message;
  EXPECT_EQ(Phase(r, PhaseType::kBuild), nullptr);
  EXPECT_EQ(Left(), 0u);
}

TEST_F(SwarmBuildTest, TheStartSweepRemovesThisStateDirsJobsOnly) {
  build_id_ = "jobbed:" + base::NewUuid();
  auto job = [&](const fs::path& state) {
    exec::SwarmServiceSpec spec{
        .name = "kiln-sweep-" + base::NewUuid().substr(0, 8),
        .labels = {{kBuildLabel, build_id_}, {kStateLabel, StateLabel(state)}},
        .image = *image_id_,
        .args = {"sleep", "100"},
        .init = true,
        .mode = exec::SwarmServiceMode::kReplicatedJob,
        .restart_policy = {.condition = exec::SwarmRestartCondition::kNone}};
    auto id = swarm_->CreateService(spec);
    EXPECT_TRUE(id.ok()) << id.status().message();
  };
  job(dir_ / "state");
  job(dir_ / "other");
  std::string engine = exec::testing::ReadLine(std::string(KILN_SWARM_ENGINE_DIR) + "/docker-host");
  auto sweep = RemoveOrphanBuildJobs(dir_ / "state", engine);
  ASSERT_TRUE(sweep.ok()) << sweep.status().message();
  EXPECT_TRUE(sweep->engine);
  EXPECT_EQ(sweep->services, 1u);
  auto theirs = swarm_->ListServiceIds({{kStateLabel, StateLabel(dir_ / "other")}});
  ASSERT_TRUE(theirs.ok());
  EXPECT_EQ(theirs->size(), 1u);
  auto gone = RemoveOrphanBuildJobs(dir_ / "other", "unix:///nonexistent/kiln.sock");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->engine);
}

}  // namespace
}  // namespace kiln::codebuild
