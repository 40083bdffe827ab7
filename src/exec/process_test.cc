// KillTree finds a tree's processes by the exact KILN_TREE_TOKEN entry of their environment.
#include "exec/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "base/ids.h"

namespace kiln::exec {
namespace {

// A `sleep` in its own process group with exactly env as its environment.
pid_t SleepWithEnv(std::vector<std::string> env) {
  env.push_back("PATH=/usr/bin:/bin");
  auto pid = Spawn({.argv = {"sleep", "30"}, .env = std::move(env)});
  EXPECT_TRUE(pid.ok());
  return pid.ok() ? *pid : -1;
}

bool Exited(pid_t pid) { return WaitFor(pid, 0).has_value() || ::kill(pid, 0) != 0; }

void Reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  WaitFor(pid, 5000);
}

// Regression: the match was built as `"\0" + entry`, which drops the NUL (a "\0" literal is an
// empty C string), so an entry that merely ended in "KILN_TREE_TOKEN=<token>" marked the
// process and KillTree killed a process of another tree.
TEST(KillTreeTest, SparesAProcessWhoseEntryOnlyEndsWithTheToken) {
  std::string token = base::NewUuid();
  std::string entry = std::string(kTreeTokenVar) + "=" + token;
  pid_t decoy = SleepWithEnv({"OUTER_" + entry, "SAVED=" + entry});
  KillTree(0, token, 100);
  EXPECT_FALSE(Exited(decoy));
  Reap(decoy);
}

TEST(KillTreeTest, KillsAProcessMarkedByTheFirstOrTheLastEntry) {
  std::string token = base::NewUuid();
  std::string entry = std::string(kTreeTokenVar) + "=" + token;
  pid_t first = SleepWithEnv({entry, "A=1"});
  pid_t last = SleepWithEnv({"A=1", entry});
  KillTree(0, token, 2000);
  EXPECT_TRUE(Exited(first));
  EXPECT_TRUE(Exited(last));
  Reap(first);
  Reap(last);
}

}  // namespace
}  // namespace kiln::exec
