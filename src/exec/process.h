// Child processes: spawning with posix_spawn into their own process group, and killing a
// whole process tree (the group, then any descendants that escaped it and were reparented to
// us as a child subreaper).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kiln::exec {

struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  std::vector<std::string> env;   // "NAME=VALUE" entries: the child's whole environment
  std::string cwd;                // empty: inherit
  int stdout_fd = -1;             // -1: /dev/null
  int stderr_fd = -1;             // -1: /dev/null
  std::vector<std::pair<int, int>> extra_fds;  // {parent fd, child fd}; child fd >= 3
  bool new_process_group = true;               // the child leads a new process group
};

// Starts the child. stdin is always /dev/null. Signal mask and dispositions are reset for the
// child. Every fd not named in the request is closed in the child (all of ours are CLOEXEC).
base::Result<pid_t> Spawn(const SpawnRequest& request);

// Makes this process a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so descendants of our
// children that lose their parent are reparented to us and can be found and killed.
void BecomeSubreaper();

// Waits for pid to exit, up to timeout_ms (-1: forever). Returns the wait status, or nullopt
// on timeout. EINTR is retried.
std::optional<int> WaitFor(pid_t pid, int64_t timeout_ms);

// The environment entry that marks every process of one tree, so descendants that leave the
// process group (setsid, double fork) are still found: "KILN_TREE_TOKEN=<token>".
inline constexpr char kTreeTokenVar[] = "KILN_TREE_TOKEN";

// Ends a process tree: SIGTERM to the group pgid and to every process whose environment holds
// KILN_TREE_TOKEN=token, then SIGKILL to whatever is left after grace_ms. Reaps those of them
// that are our children (reparented to us as a subreaper). Never touches other trees.
void KillTree(pid_t pgid, const std::string& token, int64_t grace_ms);

// True if any process is still in process group pgid.
bool GroupAlive(pid_t pgid);

struct Captured {
  int exit_code = 0;
  std::string out;  // stdout, at most max_bytes
};
// Runs argv to completion (stdin /dev/null, stderr discarded) and returns its stdout.
base::Result<Captured> Capture(const std::vector<std::string>& argv, const std::string& cwd,
                               size_t max_bytes = 1 << 20);

// Decodes a wait status: the exit code, or 128 + signal number as a shell reports it.
int ExitCodeOf(int wait_status);

}  // namespace kiln::exec
