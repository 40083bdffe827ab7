// StartBuild's environment overrides reach the build (PrepareBuild, as the runner calls it)
// against the private engine (fixture docker_engine): imageOverride on a project without an
// image runs the build in that image.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/ids.h"
#include "codebuild/container_executor.h"
#include "exec/container_shell.h"
#include "exec/docker_test_engine.h"
#include "server/build_source.h"

namespace kiln::server {
namespace {
namespace fs = std::filesystem;

class OverrideBuildTest : public exec::testing::DockerHostSuite {
 protected:
  void SetUp() override {
    exec::testing::DockerHostSuite::SetUp();
    if (IsSkipped()) return;
    char tmpl[] = "/tmp/kiln-override-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    config_.file = (dir_ / "kiln.yml").string();
    config_.projects.push_back({.name = "plain"});  // no environment.image: a host project
  }
  void TearDown() override {
    if (client_ && !build_id_.empty()) {
      (void)exec::RemoveOrphanContainers(*client_, "kiln.build", build_id_);
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  fs::path dir_;
  spec::KilnConfig config_;
  std::string build_id_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_F(OverrideBuildTest, ImageOverrideRunsAHostProjectsBuildInThatImage) {
  build_id_ = "plain:" + base::NewUuid();
  RunnerOptions options{.state_dir = dir_ / "state", .config = &config_};
  store::BuildRow row{.id = build_id_, .project = "plain"};
  StoredBuildRequest request{
      .project_name = "plain",
      .start = {.buildspec_override =
                    "version: 0.2\nphases:\n  build:\n    commands:\n"
                    "      - echo \"in $(pwd) busybox=$(test -x /bin/busybox && echo yes)\"\n",
                .image_override = exec::testing::kTestImage,
                .compute_type_override = spec::ComputeType::kMedium}};
  auto prepared = PrepareBuild(options, row, request);
  ASSERT_TRUE(prepared.ok()) << prepared.status().message();
  EXPECT_EQ(prepared->request.environment.image, exec::testing::kTestImage);
  codebuild::BuildRecord r = codebuild::RunBuild(prepared->request);
  std::string log = ReadAll(r.log_path);
  EXPECT_EQ(r.status, codebuild::BuildStatus::kSucceeded) << log;
  EXPECT_NE(log.find("Running on Kiln's container executor (image kiln/busybox:test, "
                     "computeType BUILD_GENERAL1_MEDIUM, network host)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("in " + codebuild::ContainerSourcePath(build_id_).string() + " busybox=yes"),
            std::string::npos)
      << log;
  EXPECT_EQ(r.environment.image, exec::testing::kTestImage);
  EXPECT_EQ(r.environment.compute_type, spec::ComputeType::kMedium);
}

}  // namespace
}  // namespace kiln::server
