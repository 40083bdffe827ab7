// ShellSession against a real sh and bash: state carries across commands, `exit N` fails only
// its command, timeouts and cancels kill the whole tree.
#include "exec/shell_session.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "base/ids.h"
#include "exec/process.h"

extern "C" char** environ;

namespace kiln::exec {
namespace {
namespace fs = std::filesystem;

// Alive and not a zombie (an unreaped zombie has already died).
bool Running(pid_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return false;
  char state = 0;
  int n = std::fscanf(f, "%*d (%*[^)]) %c", &state);
  std::fclose(f);
  return n == 1 && state != 'Z';
}

class Collect : public OutputSink {
 public:
  void OnOutput(std::string_view b) override { text.append(b); }
  std::string text;
};

class ShellSessionTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    BecomeSubreaper();  // as `kiln build` does: orphans come back to us to be reaped
    char tmpl[] = "/tmp/kiln-shell-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<ShellSession> Start(std::vector<std::string> commands, int cancel_fd = -1,
                                      std::vector<std::string> run_as = {}) {
    ShellOptions o{.shell = GetParam(),
                   .cwd = dir_,
                   .scratch_dir = dir_ / ".scratch",
                   .commands = std::move(commands),
                   .run_as = std::move(run_as),
                   .tree_token = base::NewUuid()};
    for (char** e = environ; *e; ++e) o.env.emplace_back(*e);
    auto s = ShellSession::Start(o, &out_, cancel_fd);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.status().message());
    return std::move(s.value());
  }
  int Exit(ShellSession& s, size_t i) {
    auto r = s.Run(i, 0);
    EXPECT_EQ(r.outcome, CommandOutcome::kExited);
    return r.exit_code;
  }

  fs::path dir_;
  Collect out_;
};

TEST_P(ShellSessionTest, CdAndVariablesCarryAcrossCommands) {
  auto s = Start({"mkdir sub && cd sub", "export EXPORTED=one; PLAIN=two",
                  "echo \"$(pwd) $EXPORTED $PLAIN\"", "sh -c 'echo child:$EXPORTED:$PLAIN'"});
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(Exit(*s, i), 0);
  s->Close(1000);
  fs::path sub = fs::canonical(dir_ / "sub");
  EXPECT_EQ(out_.text, sub.string() + " one two\nchild:one:\n");
}

TEST_P(ShellSessionTest, ExitFailsOnlyThatCommand) {
  auto s = Start({"X=before; exit 7", "echo still here X=$X", "if true; then exit 3; fi; echo no",
                  "false", "echo 'unterminated"});
  EXPECT_EQ(Exit(*s, 0), 7);
  EXPECT_EQ(Exit(*s, 1), 0);
  EXPECT_EQ(Exit(*s, 2), 3);
  EXPECT_EQ(Exit(*s, 3), 1);
  EXPECT_NE(Exit(*s, 4), 0);  // a syntax error fails its own command only
  EXPECT_EQ(Exit(*s, 1), 0);
  s->Close(1000);
  // Variables set before `exit` are kept, as in one shell session.
  EXPECT_NE(out_.text.find("still here X=before\n"), std::string::npos) << out_.text;
  EXPECT_EQ(out_.text.find("no\n"), std::string::npos);
}

TEST_P(ShellSessionTest, MultiLineCommandIsOneCommandWithLastStatus) {
  auto s = Start({"false\necho second line", "echo a\nfalse"});
  EXPECT_EQ(Exit(*s, 0), 0);  // sh without set -e: only the last line's status counts
  EXPECT_EQ(Exit(*s, 1), 1);
  s->Close(1000);
}

TEST_P(ShellSessionTest, SetGetAndExpand) {
  auto s = Start({"export A=\"x y\""});
  ASSERT_TRUE(s->SetVariable("CODEBUILD_BUILD_SUCCEEDING", "0").ok());
  EXPECT_EQ(Exit(*s, 0), 0);
  EXPECT_EQ(*s->GetVariable("CODEBUILD_BUILD_SUCCEEDING"), "0");
  EXPECT_EQ(*s->GetVariable("A"), "x y");
  EXPECT_EQ(*s->Expand("pre-$A-$(echo sub)-${CODEBUILD_BUILD_SUCCEEDING}"), "pre-x y-sub-0");
  EXPECT_FALSE(s->GetVariable("not a name").ok());
  s->Close(1000);
}

// Kiln runs with umask 077; build commands get CodeBuild's 022, and the session's own state
// file (which holds the build's variables) stays private.
TEST_P(ShellSessionTest, CommandsRunWithUmask022WhateverKilnsUmask) {
  mode_t ours = ::umask(077);
  auto s = Start({"umask", "export X=1; touch made"});
  ::umask(ours);
  EXPECT_EQ(Exit(*s, 0), 0);
  EXPECT_EQ(Exit(*s, 1), 0);
  struct stat state;
  ASSERT_EQ(::stat((dir_ / ".scratch" / "state").c_str(), &state), 0);
  EXPECT_EQ(state.st_mode & 0777, 0600u);
  s->Close(1000);
  EXPECT_EQ(out_.text, "0022\n");
  EXPECT_EQ(fs::status(dir_ / "made").permissions(), fs::perms(0644));
}

TEST_P(ShellSessionTest, CommandsCannotReachTheControlPipes) {
  auto s = Start({"echo hijack >&4 || exit 9", "echo r1 >&3 || exit 8", "echo ok"});
  EXPECT_EQ(Exit(*s, 0), 9);  // fds 3 and 4 are closed inside commands
  EXPECT_EQ(Exit(*s, 1), 8);
  EXPECT_EQ(Exit(*s, 2), 0);
  s->Close(1000);
  EXPECT_NE(out_.text.find("ok\n"), std::string::npos);
}

TEST_P(ShellSessionTest, TimeoutReturnsAndCloseKillsTheWholeTree) {
  fs::path pidfile = dir_ / "pids";
  // A background job, a setsid'd daemon and the foreground sleep all must die.
  auto s =
      Start({"sleep 300 & echo $! > pids; setsid sh -c 'echo $$ >> pids; sleep 300' & "
             "sleep 0.2; sleep 300"});
  auto started = base::MonotonicMillis();
  auto r = s->Run(0, base::MonotonicMillis() + 600);
  EXPECT_EQ(r.outcome, CommandOutcome::kTimedOut);
  EXPECT_LT(base::MonotonicMillis() - started, 3000);
  s->Close(500);
  std::string pids;
  {
    FILE* f = std::fopen(pidfile.c_str(), "r");
    ASSERT_NE(f, nullptr);
    long pid;
    int n = 0;
    while (std::fscanf(f, "%ld", &pid) == 1) {
      ++n;
      EXPECT_FALSE(Running(static_cast<pid_t>(pid))) << "pid " << pid << " survived";
    }
    std::fclose(f);
    EXPECT_EQ(n, 2);
  }
}

TEST_P(ShellSessionTest, CancelFdStopsARunningCommand) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  auto s = Start({"sleep 300"}, p[0]);
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    [[maybe_unused]] ssize_t n = ::write(p[1], "x", 1);
  });
  auto r = s->Run(0, 0);
  canceller.join();
  EXPECT_EQ(r.outcome, CommandOutcome::kCancelled);
  pid_t pid = s->pid();
  s->Close(500);
  EXPECT_FALSE(GroupAlive(pid));
  ::close(p[0]);
  ::close(p[1]);
}

// buildspec run-as: the command runs as that user through su, and the session's variables
// (exported or not) and cwd reach it and come back from it; HOME is the user's only while it
// runs. Only root can become another user.
TEST_P(ShellSessionTest, RunAsCommandsRunAsThatUserAndCarryTheSessionState) {
  if (::geteuid() != 0) GTEST_SKIP() << "run-as needs root";
  const char* home = std::getenv("HOME");
  auto s = Start({"cd /tmp && export A=one && B=two",
                  "echo \"$(id -un) $(pwd) $A $B $HOME\"; export C=three; D=four; cd /",
                  "echo \"$(id -un) $(pwd) $C $D $HOME\"", "exit 4", "echo never"},
                 -1, {"", "nobody", "", "nobody", "no-such-user-kiln"});
  EXPECT_EQ(Exit(*s, 0), 0);
  EXPECT_EQ(Exit(*s, 1), 0);
  EXPECT_EQ(Exit(*s, 2), 0);
  EXPECT_EQ(Exit(*s, 3), 4);
  EXPECT_EQ(Exit(*s, 4), 1);
  s->Close(1000);
  EXPECT_EQ(out_.text, "nobody /tmp one two /nonexistent\nroot / three four " +
                           std::string(home ? home : "") +
                           "\nrun-as: there is no user no-such-user-kiln in this build "
                           "environment\n");
}

INSTANTIATE_TEST_SUITE_P(Shells, ShellSessionTest, ::testing::Values("sh", "bash"));

TEST(ShellQuote, QuotesEverything) {
  EXPECT_EQ(ShellQuote("a'b"), "'a'\\''b'");
  EXPECT_EQ(ShellQuote("$(x) `y`"), "'$(x) `y`'");
}

}  // namespace
}  // namespace kiln::exec

namespace kiln::exec {
namespace {

TEST(MayChangeState, OnlyCommandsWithoutAssignmentsOrStateBuiltinsSkipTheSync) {
  for (const char* pure : {"true", "make build", "echo hi | tr a b", "./run.sh", "ls ..",
                           "docker push registry/x:1", "python3 -m pytest tests/"}) {
    EXPECT_FALSE(MayChangeState(pure, "sh")) << pure;
  }
  for (const char* changes : {"X=1", "cd sub", "export A", "make CFLAGS=-O2", ". ./env.sh",
                              "echo ${X:=y}", "read line", "set -- a b", "eval \"$S\"", "unset X",
                              "a && cd b", "f() { cd /; }; f", "source x", "echo $((n=1))"}) {
    EXPECT_TRUE(MayChangeState(changes, "sh")) << changes;
  }
  EXPECT_TRUE(MayChangeState("true", "bash"));  // bash functions may change state when called
}

}  // namespace
}  // namespace kiln::exec

namespace kiln::exec {
namespace {

class Markers : public OutputSink {
 public:
  void OnOutput(std::string_view b) override { text.append(b); }
  void OnCommandStart(size_t index) override { text += "<" + std::to_string(index) + ">"; }
  std::string text;
};

TEST(ShellSessionBatch, MarksEachCommandInTheStreamAndStopsAtTheFirstFailure) {
  char tmpl[] = "/tmp/kiln-batch-XXXXXX";
  std::filesystem::path dir = ::mkdtemp(tmpl);
  ShellOptions o{
      .shell = "sh",
      .cwd = dir,
      .scratch_dir = dir / ".s",
      .commands = {"printf 'no newline'", "printf 'a\\036b\\036\\n'", "exit 5", "echo never"},
      .tree_token = base::NewUuid()};
  for (char** e = environ; *e; ++e) o.env.emplace_back(*e);
  Markers out;
  auto s = ShellSession::Start(o, &out, -1);
  ASSERT_TRUE(s.ok());
  auto r = (*s)->RunBatch(0, 3, 0);
  EXPECT_EQ(r.outcome, CommandOutcome::kExited);
  EXPECT_EQ(r.index, 2u);
  EXPECT_EQ(r.exit_code, 5);
  (*s)->Close(500);
  // A user's own \036 bytes pass through as output; only the driver's token lines are marks.
  EXPECT_EQ(out.text, "<0>no newline<1>a\036b\036\n<2>");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kiln::exec
