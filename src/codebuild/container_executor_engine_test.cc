// Builds whose environment names an image, run by the engine on the container executor
// against the private engine (CTest fixture docker_engine, label `engine`). DOCKER_HOST is
// set from the fixture, as the executor connects from the environment.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "base/ids.h"
#include "codebuild/container_executor.h"
#include "codebuild/engine.h"
#include "exec/container_shell.h"
#include "exec/docker_test_engine.h"
#include "registry/credentials.h"
#include "registry/registry_process.h"
#include "spec/buildspec.h"

namespace kiln::codebuild {
namespace {
namespace fs = std::filesystem;

std::string ReadFile(const std::string& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ContainerBuildTest : public exec::testing::DockerHostSuite {
 protected:
  void SetUp() override {
    exec::testing::DockerHostSuite::SetUp();
    if (IsSkipped()) return;
    char tmpl[] = "/tmp/kiln-cbuild-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fs::create_directories(dir_ / "src");
    fs::create_directories(dir_ / "state");
  }
  void TearDown() override {
    if (client_ && !build_id_.empty()) {
      (void)exec::RemoveOrphanContainers(*client_, "kiln.build", build_id_);
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  BuildRecord Build(const std::string& buildspec, const std::string& image,
                    int64_t timeout_ms = 60'000, int cancel_fd = -1) {
    auto parsed = spec::ParseBuildspec(buildspec, "buildspec.yml");
    EXPECT_TRUE(parsed.spec.has_value());
    BuildRequest r{.project = "boxed",
                   .source_dir = dir_ / "src",
                   .buildspec = *parsed.spec,
                   .state_dir = dir_ / "state"};
    r.environment.image = image;
    r.timeout_ms = timeout_ms;
    r.cancel_fd = cancel_fd;
    build_id_ = "boxed:" + base::NewUuid();
    r.build_id = build_id_;
    if (kiln_yml_) {
      EXPECT_TRUE(ApplyRegistry(*kiln_yml_, &r).ok());
    }
    return RunBuild(r);
  }
  size_t ContainersLeft() {
    auto list = client_->ListContainers({{"kiln.build", build_id_}}, true);
    EXPECT_TRUE(list.ok());
    return list.ok() ? list->size() : 0;
  }
  static const PhaseRecord* Phase(const BuildRecord& r, PhaseType t) {
    for (const auto& p : r.phases) {
      if (p.type == t) return &p;
    }
    return nullptr;
  }

  fs::path dir_;
  std::string build_id_;
  std::optional<spec::KilnConfig> kiln_yml_;  // its registry reaches the build
};

TEST_F(ContainerBuildTest, RunsTheBuildInTheImageAndCollectsArtifactsFromTheMount) {
  fs::path marker = fs::path("/tmp") / ("kiln-host-marker-" + base::NewUuid());
  auto r = Build(
      "version: 0.2\nphases:\n  build:\n    commands:\n      - cd /tmp\n"
      "      - export A=1\n      - echo $A\n      - touch " +
          marker.string() +
          "\n      - cd $CODEBUILD_SRC_DIR && echo hi > out.txt\n"
          "      - pwd\nartifacts:\n  files:\n    - out.txt\n",
      exec::testing::kTestImage);
  std::string log = ReadFile(r.log_path);
  EXPECT_EQ(r.status, BuildStatus::kSucceeded) << log;
  EXPECT_NE(log.find("] 1\n"), std::string::npos) << log;
  EXPECT_NE(log.find("Running on Kiln's container executor (image kiln/busybox:test"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find(ContainerSourcePath(build_id_).string()), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(marker));
  EXPECT_EQ(r.artifacts.files, std::vector<std::string>{"out.txt"});
  EXPECT_EQ(ReadFile(r.artifacts.location + "/out.txt"), "hi\n");
  EXPECT_EQ(ContainersLeft(), 0u);
}

TEST_F(ContainerBuildTest, AMissingImageFailsInProvisioning) {
  auto r =
      Build("version: 0.2\nphases:\n  build:\n    commands:\n      - echo no\n",
            "127.0.0.1:1/nope/none:1");  // a registry on loopback that refuses: no traffic leaves
  EXPECT_EQ(r.status, BuildStatus::kFailed);
  const PhaseRecord* p = Phase(r, PhaseType::kProvisioning);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->status, BuildStatus::kFailed);
  ASSERT_FALSE(p->contexts.empty());
  EXPECT_NE(p->contexts[0].message.find("cannot get image '127.0.0.1:1/nope/none:1': "),
            std::string::npos)
      << p->contexts[0].message;
  EXPECT_EQ(Phase(r, PhaseType::kBuild), nullptr);
}

TEST_F(ContainerBuildTest, ATimeoutEndsTheBuildQuicklyAndRemovesTheContainer) {
  auto start = std::chrono::steady_clock::now();
  auto r = Build("version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 100\n",
                 exec::testing::kTestImage, 2'000);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, BuildStatus::kTimedOut) << ReadFile(r.log_path);
  EXPECT_LT(took, std::chrono::seconds(10));
  EXPECT_EQ(ContainersLeft(), 0u);
}

TEST_F(ContainerBuildTest, StoppingEndsTheBuildQuicklyAndRemovesTheContainer) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    (void)!::write(fds[1], "x", 1);
  });
  auto start = std::chrono::steady_clock::now();
  auto r = Build("version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 100\n",
                 exec::testing::kTestImage, 60'000, fds[0]);
  auto took = std::chrono::steady_clock::now() - start;
  stopper.join();
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(r.status, BuildStatus::kStopped) << ReadFile(r.log_path);
  EXPECT_LT(took, std::chrono::seconds(10));
  EXPECT_EQ(ContainersLeft(), 0u);
}

TEST_F(ContainerBuildTest, AwsInTheContainerLogsInToKilnsRegistryAndTheLogMasksThePassword) {
  if (!registry::FindRegistryBinary().ok()) GTEST_SKIP() << "docker-registry is not installed";
  kiln_yml_.emplace();
  kiln_yml_->registry.listen = "127.0.0.1:" + std::to_string(exec::testing::FreeLoopbackPort());
  auto sup = registry::Supervisor::Start(registry::PathsUnder(dir_ / "state"),
                                         kiln_yml_->registry.listen, [](const std::string&) {});
  ASSERT_TRUE(sup.ok()) << sup.status().message();
  auto r = Build(
      "version: 0.2\nphases:\n  build:\n    commands:\n"
      "      - aws ecr get-login-password --region us-east-1 > pw.txt\n"
      "      - aws ecr get-login-password\n"
      "      - echo \"where=$(command -v aws) registry=$KILN_REGISTRY\"\n"
      "      - wget -q -O - \"http://AWS:$(aws ecr get-login-password)@$KILN_REGISTRY/v2/\" "
      "&& echo login-ok\n"
      "      - aws sts get-caller-identity --query Account --output text\n"
      "      - aws s3 cp a b || echo \"s3 refused $?\"\n"
      "artifacts:\n  files:\n    - pw.txt\n",
      exec::testing::kTestImage);
  std::string log = ReadFile(r.log_path);
  std::string pw = registry::CurrentPassword(registry::PathsUnder(dir_ / "state")).value();
  EXPECT_EQ(r.status, BuildStatus::kSucceeded) << log;
  EXPECT_EQ(ReadFile(r.artifacts.location + "/pw.txt"), pw + "\n");
  EXPECT_EQ(log.find(pw), std::string::npos) << log;
  EXPECT_EQ(ToJson(r).dump().find(pw), std::string::npos);
  EXPECT_NE(log.find("] ***\n"), std::string::npos) << log;
  EXPECT_NE(log.find("where=/kiln/bin/aws registry=" + kiln_yml_->registry.listen),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("login-ok"), std::string::npos) << log;
  EXPECT_NE(log.find("000000000000"), std::string::npos) << log;
  EXPECT_NE(log.find("kiln: `aws s3 cp` is not provided here"), std::string::npos) << log;
  EXPECT_NE(log.find("s3 refused 253"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(fs::path(r.log_path).parent_path().parent_path().parent_path() /
                          "builds/boxed" / std::to_string(r.build_number) / "aws-shim"));
}

TEST_F(ContainerBuildTest, WithoutARegistryTheAwsCommandSaysSo) {
  auto r = Build(
      "version: 0.2\nphases:\n  build:\n    commands:\n"
      "      - aws ecr get-login-password || echo \"login refused $?\"\n",
      exec::testing::kTestImage);
  std::string log = ReadFile(r.log_path);
  EXPECT_EQ(r.status, BuildStatus::kSucceeded) << log;
  EXPECT_NE(log.find("kiln: no registry is configured in kiln.yml (registry:)"), std::string::npos)
      << log;
  EXPECT_NE(log.find("login refused 255"), std::string::npos) << log;
}

TEST(ContainerSourcePathTest, UsesTheBuildIdsDigits) {
  EXPECT_EQ(ContainerSourcePath("p:1a2b-3c"), "/codebuild/output/src123/src");
  EXPECT_EQ(ContainerSourcePath("p:abc"), "/codebuild/output/src0/src");
}

// buildspec run-as in the container: su (busybox's) switches to the user for that phase's
// commands while the root driver keeps the FIFOs; variables carry both ways.
TEST_F(ContainerBuildTest, RunAsRunsThePhasesCommandsAsThatUser) {
  auto r = Build(
      "version: 0.2\nphases:\n  pre_build:\n    commands:\n      - export SEEN=carried\n"
      "  build:\n    run-as: nobody\n    commands:\n"
      "      - echo \"build=$(id -un) uid=$(id -u) seen=$SEEN\"\n      - export BACK=from-nobody\n"
      "  post_build:\n    commands:\n      - echo \"post=$(id -un) back=$BACK\"\n",
      exec::testing::kTestImage);
  std::string log = ReadFile(r.log_path);
  EXPECT_EQ(r.status, BuildStatus::kSucceeded) << log;
  EXPECT_NE(log.find("build=nobody uid=65534 seen=carried\n"), std::string::npos) << log;
  EXPECT_NE(log.find("post=root back=from-nobody\n"), std::string::npos) << log;
  EXPECT_EQ(ContainersLeft(), 0u);
}

TEST_F(ContainerBuildTest, RunAsAnUnknownUserFailsThePhase) {
  auto r =
      Build("version: 0.2\nrun-as: ghost\nphases:\n  build:\n    commands:\n      - echo ran\n",
            exec::testing::kTestImage);
  std::string log = ReadFile(r.log_path);
  EXPECT_EQ(r.status, BuildStatus::kFailed) << log;
  const PhaseRecord* p = Phase(r, PhaseType::kBuild);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->status, BuildStatus::kFailed);
  EXPECT_NE(log.find("run-as: there is no user ghost in this build environment"), std::string::npos)
      << log;
  EXPECT_EQ(log.find("\nran\n"), std::string::npos) << log;
}

}  // namespace
}  // namespace kiln::codebuild
