// DockerClient against a real private engine (CTest fixture docker_engine, label `engine`).
// Each test skips with one line when no engine could be started.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "exec/docker_test_engine.h"
#include "exec/docker_wire.h"

namespace kiln::exec {
namespace {

using testing::kTestImage;

class DockerEngineTest : public testing::EngineSuite {
 protected:
  void SetUp() override {
    testing::EngineSuite::SetUp();
    if (IsSkipped()) return;
  }
  void TearDown() override {
    for (const std::string& id : created_) (void)client_->Remove(id, true);
  }

  const DockerClient& client() { return *client_; }
  // True once the container's PID 1 (on the host: State.Pid; tini) has started its child:
  // tini sets up its signal handling before it forks, so a TERM from then on is forwarded.
  bool CatchesSigterm(const std::string& id) {
    for (int i = 0; i < 250; ++i) {
      auto info = client().Inspect(id);
      if (info.ok() && info->pid > 0 && HasChild(info->pid)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  static bool HasChild(int pid) {
    std::string want = "PPid:\t" + std::to_string(pid) + "\n";
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      std::ifstream status(entry.path() / "status");
      std::stringstream text;
      text << status.rdbuf();
      if (text.str().find(want) != std::string::npos) return true;
    }
    return false;
  }
  // Creates a container that the test's end removes.
  std::string Create(ContainerSpec spec) {
    spec.image = kTestImage;
    spec.labels["kiln.test"] = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    auto id = client().CreateContainer(spec);
    EXPECT_TRUE(id.ok()) << id.status().message();
    if (!id.ok()) return "";
    created_.push_back(*id);
    return *id;
  }
  struct Output {
    std::string out, err;
  };
  // Runs a created container to its exit: attach and wait before start (fact 1), stdin given.
  Output Run(const std::string& id, std::string_view stdin_bytes, int* exit_code) {
    auto attach = client().Attach(id);
    EXPECT_TRUE(attach.ok()) << attach.status().message();
    auto wait = client().Wait(id, WaitCondition::kNextExit);
    EXPECT_TRUE(wait.ok()) << wait.status().message();
    if (!attach.ok() || !wait.ok()) return {};
    EXPECT_TRUE(client().Start(id).ok());
    if (!stdin_bytes.empty()) {
      EXPECT_TRUE(attach->WriteStdin(stdin_bytes).ok());
    }
    EXPECT_TRUE(attach->CloseStdin().ok());
    Output o;
    auto st = attach->ReadAll([&](const FramePiece& p) {
      (p.stream == StreamKind::kStderr ? o.err : o.out).append(p.data);
    });
    EXPECT_TRUE(st.ok()) << st.message();
    auto code = wait->Get();
    EXPECT_TRUE(code.ok()) << code.status().message();
    *exit_code = code.ok() ? *code : -1;
    return o;
  }

  std::vector<std::string> created_;
};

TEST_F(DockerEngineTest, PingsAndNegotiatesTheVersion) {
  EXPECT_TRUE(client().Ping().ok());
  auto v = client().Version();
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_FALSE(v->version.empty());
  EXPECT_EQ(v->os, "linux");
  EXPECT_LE(client().api_version(), kNewestTestedApi);
  EXPECT_LE(client().api_version(), v->api_max);
  EXPECT_GE(client().api_version(), v->api_min);
}

TEST_F(DockerEngineTest, ImportedBusyboxImageInspects) {
  auto info = client().InspectImage(kTestImage);
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_TRUE(info->id.starts_with("sha256:")) << info->id;
  EXPECT_GT(info->size, 500 * 1024);
  EXPECT_EQ(info->cmd, std::vector<std::string>{"sh"});
  EXPECT_NE(std::find(info->env.begin(), info->env.end(), "PATH=/usr/local/bin:/usr/bin:/bin"),
            info->env.end());
  auto missing = client().InspectImage("kiln/none:nope");
  EXPECT_EQ(missing.status().kind(), base::ErrorKind::kNotFound) << missing.status().message();
}

TEST_F(DockerEngineTest, StdinStdoutStderrAndExitCodeRoundTrip) {
  std::string id =
      Create({.cmd = {"sh", "-c", "echo out; echo err >&2; read x; echo got $x; exit 3"},
              .user = "codebuild-user",
              .open_stdin = true});
  ASSERT_FALSE(id.empty());
  int code = -1;
  Output o = Run(id, "hello\n", &code);
  EXPECT_EQ(o.out, "out\ngot hello\n");
  EXPECT_EQ(o.err, "err\n");
  EXPECT_EQ(code, 3);
  auto info = client().Inspect(id);
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->status, ContainerStatus::kExited);
  EXPECT_EQ(info->exit_code, 3);
}

TEST_F(DockerEngineTest, LargeOutputArrivesWholeAcrossFrames) {
  // 200 KB of numbered lines: frames are <= 32 KiB, so it is split (fact 4).
  std::string id = Create({.cmd = {"sh", "-c", "seq 1 40000 | head -c 200000"}});
  ASSERT_FALSE(id.empty());
  int code = -1;
  Output o = Run(id, "", &code);
  EXPECT_EQ(code, 0);
  ASSERT_EQ(o.out.size(), 200000u);
  std::string expected;
  for (int i = 1; expected.size() < 200000; ++i) expected += std::to_string(i) + "\n";
  EXPECT_EQ(o.out, expected.substr(0, 200000));
  std::string logs;
  auto st = client().Logs(id, {}, [&](const FramePiece& p) { logs.append(p.data); });
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(logs, o.out);
}

TEST_F(DockerEngineTest, SigtermThroughInitExits143ThenListAndForceRemove) {
  std::string id = Create({.cmd = {"sleep", "100"},
                           .labels = {{"kiln.run", "kill-test"}},
                           .network_mode = NetworkMode::kHost,
                           .init = true});
  ASSERT_FALSE(id.empty());
  auto wait = client().Wait(id, WaitCondition::kNextExit);
  ASSERT_TRUE(wait.ok()) << wait.status().message();
  ASSERT_TRUE(client().Start(id).ok());
  auto listed = client().ListContainers({{"kiln.run", "kill-test"}}, false);
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, id);
  EXPECT_EQ((*listed)[0].status, ContainerStatus::kRunning);
  EXPECT_EQ(client().Remove(id, false).kind(), base::ErrorKind::kFailed) << "409 while running";
  // A TERM that arrives before init has set its handlers is dropped (PID 1 of a namespace has
  // no default action): wait until init has started its child.
  ASSERT_TRUE(CatchesSigterm(id)) << "init never installed its SIGTERM handler";
  ASSERT_TRUE(client().Kill(id, "SIGTERM").ok());
  auto code = wait->Get();
  ASSERT_TRUE(code.ok()) << code.status().message();
  EXPECT_EQ(*code, 143);
  EXPECT_EQ(client().Kill(id, "SIGTERM").kind(), base::ErrorKind::kFailed) << "409: not running";
  EXPECT_TRUE(client().ListContainers({{"kiln.run", "kill-test"}}, false)->empty())
      << "not running";
  EXPECT_EQ(client().ListContainers({{"kiln.run", "kill-test"}}, true)->size(), 1u) << "all=1";
  ASSERT_TRUE(client().Remove(id, true).ok());
  EXPECT_TRUE(client().ListContainers({{"kiln.run", "kill-test"}}, true)->empty());
  EXPECT_EQ(client().Inspect(id).status().kind(), base::ErrorKind::kNotFound);
}

TEST_F(DockerEngineTest, PullFromAnUnreachableRegistryFailsLocally) {
  // 127.0.0.1:1 refuses at once: no traffic leaves the machine.
  int lines = 0;
  auto st = client().PullImage("127.0.0.1:1/nope:1", std::nullopt,
                               [&](const ProgressEvent&) { ++lines; });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.kind(), base::ErrorKind::kFailed) << st.message();
  EXPECT_NE(st.message().find("127.0.0.1:1"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("connection refused"), std::string::npos) << st.message();
  auto bad = client().PullImage("not a ref", std::nullopt, [](const ProgressEvent&) {});
  EXPECT_EQ(bad.kind(), base::ErrorKind::kInvalidInput);
}

TEST_F(DockerEngineTest, NetworkNoneHasOnlyLoopback) {
  std::string id = Create({.cmd = {"ls", "/sys/class/net"}, .network_mode = NetworkMode::kNone});
  ASSERT_FALSE(id.empty());
  int code = -1;
  Output o = Run(id, "", &code);
  EXPECT_EQ(code, 0) << o.err;
  EXPECT_EQ(o.out, "lo\n");
}

TEST_F(DockerEngineTest, EngineErrorsKeepTheirMeaning) {
  EXPECT_EQ(client().Start("kiln-no-such-container").kind(), base::ErrorKind::kNotFound);
  auto attach = client().Attach("kiln-no-such-container");
  EXPECT_EQ(attach.status().kind(), base::ErrorKind::kNotFound) << attach.status().message();
  auto bad_mount = client().CreateContainer(
      {.image = kTestImage, .binds = {{.source = "/nonexistent/kiln", .target = "/x"}}});
  EXPECT_EQ(bad_mount.status().kind(), base::ErrorKind::kInvalidInput)
      << "a missing bind source is refused, not created";
  std::string id = Create({.cmd = {"true"}});
  EXPECT_EQ(client().Kill(id, "SIGFOO").kind(), base::ErrorKind::kInvalidInput)
      << "400 Invalid signal";
}

}  // namespace
}  // namespace kiln::exec
