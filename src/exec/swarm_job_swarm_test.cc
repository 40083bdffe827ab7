// SwarmJobLauncher on the single-node swarm of CTest's swarm_engine fixture (label `swarm`):
// a job Swarm will not run fails Launch with Swarm's words within a bounded wait, and leaves
// no service behind. (Whole builds on a job: codebuild/swarm_build_swarm_test.cc.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "base/ids.h"
#include "exec/swarm_job.h"
#include "exec/swarm_test_engine.h"

namespace kiln::exec {
namespace {
namespace fs = std::filesystem;

class SwarmJobTest : public testing::SwarmEngineSuite {
 protected:
  void SetUp() override {
    testing::SwarmEngineSuite::SetUp();
    if (IsSkipped()) return;
    char tmpl[] = "/tmp/kiln-sjob-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fs::create_directories(dir_ / "ws");
    fs::create_directories(dir_ / "scratch");
    build_ = base::NewUuid();
  }
  void TearDown() override {
    if (swarm_) (void)RemoveOrphanJobServices(*swarm_, "kiln.build", build_);
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  SwarmJobOptions Options(const std::string& image, const std::string& node_id) {
    return {.container = {.image = image,
                          .workspace_dir = dir_ / "ws",
                          .workspace_path = "/codebuild/output/src1/src",
                          .network_mode = NetworkMode::kHost,
                          .labels = {{"kiln.build", build_}}},
            .node_id = node_id,
            .start_timeout_ms = 3'000};
  }
  base::Status Launch(SwarmJobLauncher& launcher) {
    auto channels = launcher.Launch({.shell = "sh",
                                     .script = dir_ / "scratch" / "driver.sh",
                                     .scratch_dir = dir_ / "scratch",
                                     .cwd = "/codebuild/output/src1/src"});
    return channels.ok() ? base::Status::Ok() : channels.status();
  }
  size_t ServicesLeft() {
    auto ids = swarm_->ListServiceIds({{"kiln.build", build_}});
    EXPECT_TRUE(ids.ok());
    return ids.ok() ? ids->size() : 99;
  }

  fs::path dir_;
  std::string build_;
};

TEST_F(SwarmJobTest, AnImageTheNodeLacksIsRejectedWithSwarmsWords) {
  auto info = swarm_->Info();
  ASSERT_TRUE(info.ok());
  auto start = std::chrono::steady_clock::now();
  {
    SwarmJobLauncher launcher(*swarm_, Options("kiln/absent:none", info->node_id));
    base::Status st = Launch(launcher);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("swarm did not run the job: rejected"), std::string::npos)
        << st.message();
    EXPECT_NE(st.message().find("No such image: kiln/absent:none"), std::string::npos)
        << st.message();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(ServicesLeft(), 0u);
}

TEST_F(SwarmJobTest, AnUnmetConstraintFailsAtTheDeadlineSayingWhy) {
  auto start = std::chrono::steady_clock::now();
  {
    SwarmJobLauncher launcher(*swarm_, Options(*image_id_, "no-such-node"));
    base::Status st = Launch(launcher);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("the job's task did not start in 3 s (pending"), std::string::npos)
        << st.message();
    EXPECT_NE(st.message().find("no suitable node"), std::string::npos) << st.message();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(ServicesLeft(), 0u);
}

}  // namespace
}  // namespace kiln::exec
