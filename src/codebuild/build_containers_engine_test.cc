// Build containers' kiln.state label and the daemon-start sweep (RemoveOrphanBuildContainers,
// which `kiln serve` runs at start) against the private engine (fixture docker_engine).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "base/ids.h"
#include "codebuild/build_containers.h"
#include "codebuild/engine.h"
#include "exec/docker_test_engine.h"
#include "spec/buildspec.h"

namespace kiln::codebuild {
namespace {
namespace fs = std::filesystem;

class BuildContainersTest : public exec::testing::DockerHostSuite {
 protected:
  void SetUp() override {
    exec::testing::DockerHostSuite::SetUp();
    if (IsSkipped()) return;
    char tmpl[] = "/tmp/kiln-orphans-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fs::create_directories(dir_ / "mine");
    fs::create_directories(dir_ / "theirs");
    fs::create_directories(dir_ / "src");
  }
  void TearDown() override {
    for (const auto& id : created_) (void)client_->Remove(id, true);
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // A running container labelled as a build of state dir `state` (as a crash leaves one).
  std::string Leftover(const fs::path& state) {
    exec::ContainerSpec spec{
        .image = exec::testing::kTestImage,
        .cmd = {"sleep", "100"},
        .labels = {{kBuildLabel, "p:" + base::NewUuid()}, {kStateLabel, StateLabel(state)}},
        .init = true};
    auto id = client_->CreateContainer(spec);
    EXPECT_TRUE(id.ok()) << id.status().message();
    if (!id.ok()) return "";
    created_.push_back(*id);
    EXPECT_TRUE(client_->Start(*id).ok());
    return *id;
  }

  size_t WithState(const fs::path& state) {
    auto list = client_->ListContainers({{kStateLabel, StateLabel(state)}}, true);
    EXPECT_TRUE(list.ok());
    return list.ok() ? list->size() : 0;
  }

  fs::path dir_;
  std::vector<std::string> created_;
};

TEST_F(BuildContainersTest, TheStartSweepRemovesThisStatesContainersOnly) {
  std::string mine1 = Leftover(dir_ / "mine");
  std::string mine2 = Leftover(dir_ / "mine");
  std::string theirs = Leftover(dir_ / "theirs");
  ASSERT_FALSE(mine1.empty() || mine2.empty() || theirs.empty());
  ASSERT_EQ(WithState(dir_ / "mine"), 2u);
  // The same dir named another way is the same state.
  auto sweep = RemoveOrphanBuildContainers(dir_ / "src" / ".." / "mine");
  ASSERT_TRUE(sweep.ok()) << sweep.status().message();
  EXPECT_TRUE(sweep->engine);
  EXPECT_EQ(sweep->removed, 2u);
  EXPECT_EQ(WithState(dir_ / "mine"), 0u);
  EXPECT_EQ(client_->Inspect(mine1).status().kind(), base::ErrorKind::kNotFound);
  // Another Kiln's build container on the same engine keeps running.
  auto other = client_->Inspect(theirs);
  ASSERT_TRUE(other.ok()) << other.status().message();
  EXPECT_EQ(WithState(dir_ / "theirs"), 1u);
  // Nothing left: a second sweep removes nothing.
  auto again = RemoveOrphanBuildContainers(dir_ / "mine");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->removed, 0u);
}

TEST_F(BuildContainersTest, WithoutAnEngineTheSweepIsANoteNotAnError) {
  const char* saved = std::getenv("DOCKER_HOST");
  std::string host = saved ? saved : "";
  ::setenv("DOCKER_HOST", ("unix://" + (dir_ / "no-engine.sock").string()).c_str(), 1);
  auto sweep = RemoveOrphanBuildContainers(dir_ / "mine");
  ::setenv("DOCKER_HOST", host.c_str(), 1);
  ASSERT_TRUE(sweep.ok()) << sweep.status().message();
  EXPECT_FALSE(sweep->engine);
  EXPECT_EQ(sweep->removed, 0u);
  EXPECT_FALSE(sweep->note.empty());
}

TEST_F(BuildContainersTest, ABuildsContainerCarriesItsStateLabelWhileItRuns) {
  auto parsed = spec::ParseBuildspec(
      "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 3\n", "buildspec.yml");
  ASSERT_TRUE(parsed.spec);
  BuildRequest r{.project = "boxed",
                 .source_dir = dir_ / "src",
                 .buildspec = *parsed.spec,
                 .state_dir = dir_ / "mine"};
  r.environment.image = exec::testing::kTestImage;
  BuildRecord record;
  std::thread build([&] { record = RunBuild(r); });
  size_t seen = 0;
  for (int i = 0; i < 100 && seen == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    seen = WithState(dir_ / "mine");
  }
  build.join();
  EXPECT_EQ(seen, 1u);
  EXPECT_EQ(record.status, BuildStatus::kSucceeded);
  EXPECT_EQ(WithState(dir_ / "mine"), 0u);  // removed at the end, as always
}

}  // namespace
}  // namespace kiln::codebuild
