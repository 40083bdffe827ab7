// ShellSession with its driver in a container (ContainerLauncher) against the private engine
// (CTest fixture docker_engine, label `engine`): the host session's semantics, the workspace
// shared at CodeBuild's path, the container gone after a timeout, Close and destruction.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/ids.h"
#include "exec/container_shell.h"
#include "exec/docker_test_engine.h"
#include "exec/shell_session.h"

namespace kiln::exec {
namespace {
namespace fs = std::filesystem;

constexpr char kWorkspacePath[] = "/codebuild/output/src123456789/src";

class Collect : public OutputSink {
 public:
  void OnOutput(std::string_view b) override { text.append(b); }
  std::string text;
};

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ContainerShellTest : public testing::EngineSuite {
 protected:
  void SetUp() override {
    testing::EngineSuite::SetUp();
    if (IsSkipped()) return;
    char tmpl[] = "/tmp/kiln-cshell-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fs::create_directories(dir_ / "ws");
    build_id_ = base::NewUuid();
  }
  void TearDown() override {
    if (client_) (void)RemoveOrphanContainers(*client_, "kiln.build", build_id_);
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  ContainerShellOptions Options() {
    return {.image = testing::kTestImage,
            .workspace_dir = dir_ / "ws",
            .workspace_path = kWorkspacePath,
            .labels = {{"kiln.build", build_id_}}};
  }
  std::unique_ptr<ShellSession> Start(std::vector<std::string> commands) {
    ShellOptions o{.cwd = kWorkspacePath,
                   .env = {"HOME=/root"},
                   .scratch_dir = dir_ / "scratch",
                   .commands = std::move(commands)};
    auto s =
        ShellSession::Start(o, std::make_unique<ContainerLauncher>(*client_, Options()), &out_, -1);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.status().message());
    return s.ok() ? std::move(*s) : nullptr;
  }
  int Exit(ShellSession& s, size_t i) {
    auto r = s.Run(i, 0);
    EXPECT_EQ(r.outcome, CommandOutcome::kExited);
    return r.exit_code;
  }
  size_t Labelled() {
    auto list = client_->ListContainers({{"kiln.build", build_id_}}, /*all=*/true);
    EXPECT_TRUE(list.ok());
    return list.ok() ? list->size() : 0;
  }

  fs::path dir_;
  std::string build_id_;
  Collect out_;
};

TEST_F(ContainerShellTest, CdAndExportCarryAndExitFailsOnlyItsCommand) {
  auto s = Start({"cd /tmp", "pwd", "export A=1", "echo $A", "exit 3", "echo still $A",
                  "echo $CODEBUILD_SRC_DIR"});
  ASSERT_TRUE(s);
  for (size_t i : {0, 1, 2, 3}) EXPECT_EQ(Exit(*s, i), 0);
  EXPECT_EQ(Exit(*s, 4), 3);
  EXPECT_EQ(Exit(*s, 5), 0);
  EXPECT_EQ(Exit(*s, 6), 0);
  s->Close(1000);
  EXPECT_EQ(out_.text, "/tmp\n1\nstill 1\n" + std::string(kWorkspacePath) + "\n");
  EXPECT_EQ(Labelled(), 0u);
}

TEST_F(ContainerShellTest, ThousandCommandsInOneBatchAndTimingAgainstTheHost) {
  std::vector<std::string> commands(1000, "true");
  auto s = Start(commands);
  ASSERT_TRUE(s);
  int64_t t0 = base::MonotonicMillis();
  auto r = s->RunBatch(0, 999, 0);
  int64_t container_ms = base::MonotonicMillis() - t0;
  EXPECT_EQ(r.outcome, CommandOutcome::kExited);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.index, 999u);
  s->Close(1000);

  Collect host_out;
  ShellOptions o{.cwd = dir_ / "ws", .scratch_dir = dir_ / "host-scratch", .commands = commands};
  auto h = ShellSession::Start(o, &host_out, -1);
  ASSERT_TRUE(h.ok());
  t0 = base::MonotonicMillis();
  auto hr = (*h)->RunBatch(0, 999, 0);
  int64_t host_ms = base::MonotonicMillis() - t0;
  EXPECT_EQ(hr.index, 999u);
  (*h)->Close(1000);
  std::printf("1000 x true in RunBatch: container %lld ms, host %lld ms, ratio %.2f\n",
              static_cast<long long>(container_ms), static_cast<long long>(host_ms),
              host_ms > 0 ? double(container_ms) / double(host_ms) : 0.0);
}

TEST_F(ContainerShellTest, LargeOutputArrivesWholeAndInOrder) {
  // 200 KB: 20000 numbered lines of 10 bytes, across many FIFO reads.
  auto s = Start({"i=0; while [ $i -lt 20000 ]; do printf '%09d\\n' $i; i=$((i+1)); done"});
  ASSERT_TRUE(s);
  EXPECT_EQ(Exit(*s, 0), 0);
  s->Close(1000);
  std::string want;
  char line[16];
  for (int i = 0; i < 20000; ++i) {
    std::snprintf(line, sizeof line, "%09d\n", i);
    want += line;
  }
  ASSERT_EQ(out_.text.size(), want.size());
  EXPECT_TRUE(out_.text == want);
}

TEST_F(ContainerShellTest, RootOfTheContainerIsNotTheHosts) {
  std::string marker = "/host-marker-" + base::NewUuid();
  auto s = Start({"touch " + marker + " && ls " + marker});
  ASSERT_TRUE(s);
  EXPECT_EQ(Exit(*s, 0), 0);
  s->Close(1000);
  EXPECT_EQ(out_.text, marker + "\n");  // it exists inside...
  EXPECT_FALSE(fs::exists(marker));     // ...and not on the host
}

TEST_F(ContainerShellTest, WorkspaceIsSharedAtTheCodeBuildPath) {
  std::ofstream(dir_ / "ws" / "from-host") << "hello from host\n";
  auto s = Start({"cat " + std::string(kWorkspacePath) + "/from-host",
                  "echo written inside > from-container"});
  ASSERT_TRUE(s);
  EXPECT_EQ(Exit(*s, 0), 0);
  EXPECT_EQ(Exit(*s, 1), 0);
  s->Close(1000);
  EXPECT_EQ(out_.text, "hello from host\n");
  EXPECT_EQ(ReadFile(dir_ / "ws" / "from-container"), "written inside\n");
}

TEST_F(ContainerShellTest, TimeoutThenCloseLeavesNoContainer) {
  auto owned = std::make_unique<ContainerLauncher>(*client_, Options());
  ContainerLauncher* launcher = owned.get();  // lives as long as the session
  ShellOptions o{.cwd = kWorkspacePath, .scratch_dir = dir_ / "scratch", .commands = {"sleep 100"}};
  auto started = ShellSession::Start(o, std::move(owned), &out_, -1);
  ASSERT_TRUE(started.ok()) << started.status().message();
  auto& s = *started;
  EXPECT_EQ(Labelled(), 1u);
  int64_t t0 = base::MonotonicMillis();
  auto r = s->Run(0, t0 + 500);
  EXPECT_EQ(r.outcome, CommandOutcome::kTimedOut);
  EXPECT_LT(base::MonotonicMillis() - t0, 2000);
  t0 = base::MonotonicMillis();
  s->Close(5000);
  // TERM reached the driver through tini: the container ended well before the grace.
  EXPECT_LT(base::MonotonicMillis() - t0, 2500);
  EXPECT_EQ(launcher->exit_code(), 143);  // SIGTERM first, not only the forced removal
  EXPECT_EQ(Labelled(), 0u);
}

TEST_F(ContainerShellTest, DestroyingTheSessionRemovesTheContainer) {
  auto s = Start({"sleep 100 &", "echo started"});
  ASSERT_TRUE(s);
  EXPECT_EQ(Exit(*s, 0), 0);
  EXPECT_EQ(Exit(*s, 1), 0);
  EXPECT_EQ(Labelled(), 1u);
  s.reset();
  EXPECT_EQ(Labelled(), 0u);
}

TEST_F(ContainerShellTest, ADriverKilledMidCommandIsReportedNotWaitedFor) {
  auto s = Start({"kill -9 $$; sleep 100", "echo unreachable"});  // $$: the driver
  ASSERT_TRUE(s);
  int64_t t0 = base::MonotonicMillis();
  auto r = s->Run(0, t0 + 20000);
  EXPECT_EQ(r.outcome, CommandOutcome::kShellLost);
  EXPECT_LT(base::MonotonicMillis() - t0, 10000);
  s->Close(1000);
  EXPECT_EQ(Labelled(), 0u);
}

// The driver runs as a user who cannot open the FIFOs in Kiln's 0700 scratch dir, so it dies
// before ever opening them: only the launcher's hang-up on container exit ends the wait.
TEST_F(ContainerShellTest, ADriverThatNeverOpensItsChannelsIsReportedAsLost) {
  ContainerShellOptions options = Options();
  options.user = "1000:1000";
  ShellOptions o{.cwd = kWorkspacePath, .scratch_dir = dir_ / "scratch", .commands = {"true"}};
  auto s =
      ShellSession::Start(o, std::make_unique<ContainerLauncher>(*client_, options), &out_, -1);
  ASSERT_TRUE(s.ok()) << s.status().message();
  int64_t t0 = base::MonotonicMillis();
  auto r = (*s)->Run(0, t0 + 20000);
  EXPECT_EQ(r.outcome, CommandOutcome::kShellLost);
  EXPECT_LT(base::MonotonicMillis() - t0, 10000);
  (*s)->Close(1000);
  EXPECT_EQ(Labelled(), 0u);
}

// The engine creates the container but cannot start it (an unknown user fails at start):
// Start fails with the engine's words, at once, and the created container is removed.
TEST_F(ContainerShellTest, AContainerThatCannotStartIsReportedAndRemoved) {
  ContainerShellOptions options = Options();
  options.user = "no-such-user";
  ShellOptions o{.cwd = kWorkspacePath, .scratch_dir = dir_ / "scratch", .commands = {"true"}};
  int64_t t0 = base::MonotonicMillis();
  auto s =
      ShellSession::Start(o, std::make_unique<ContainerLauncher>(*client_, options), &out_, -1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("no-such-user"), std::string::npos) << s.status().message();
  EXPECT_LT(base::MonotonicMillis() - t0, 1500);  // no wait for an exit that cannot come
  EXPECT_EQ(Labelled(), 0u);
}

TEST_F(ContainerShellTest, RemoveOrphanContainersRemovesWhatACrashLeft) {
  // As after kill -9 of Kiln: a labelled container running, nobody to remove it.
  ContainerSpec spec{.image = testing::kTestImage,
                     .cmd = {"sleep", "100"},
                     .labels = {{"kiln.build", build_id_}},
                     .init = true};
  auto id = client_->CreateContainer(spec);
  ASSERT_TRUE(id.ok()) << id.status().message();
  ASSERT_TRUE(client_->Start(*id).ok());
  spec.labels = {{"kiln.build", "someone-else-" + build_id_}};
  auto other = client_->CreateContainer(spec);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(Labelled(), 1u);
  auto removed = RemoveOrphanContainers(*client_, "kiln.build", build_id_);
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, 1u);
  EXPECT_EQ(Labelled(), 0u);
  EXPECT_TRUE(client_->Inspect(*other).ok());  // another build's container is not touched
  EXPECT_TRUE(client_->Remove(*other, true).ok());
}

}  // namespace
}  // namespace kiln::exec
