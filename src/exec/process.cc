#include "exec/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string_view>
#include <thread>
#include <tuple>

#include "base/ids.h"

extern "C" char** environ;

namespace kiln::exec {
namespace {

// RAII for posix_spawn's attribute and file-action objects.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

int ConfigureAttr(posix_spawnattr_t* attr, bool new_group) {
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigfillset(&defaults);
  sigdelset(&defaults, SIGKILL);
  sigdelset(&defaults, SIGSTOP);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (new_group) flags |= POSIX_SPAWN_SETPGROUP;
  int rc = posix_spawnattr_setflags(attr, flags);
  if (rc == 0) rc = posix_spawnattr_setsigmask(attr, &empty);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(attr, &defaults);
  if (rc == 0 && new_group) rc = posix_spawnattr_setpgroup(attr, 0);
  return rc;
}

int ConfigureFds(posix_spawn_file_actions_t* a, const SpawnRequest& r) {
  int rc = posix_spawn_file_actions_addopen(a, 0, "/dev/null", O_RDONLY, 0);
  auto out = [&](int fd, int target) {
    if (rc != 0) return;
    rc = fd >= 0 ? posix_spawn_file_actions_adddup2(a, fd, target)
                 : posix_spawn_file_actions_addopen(a, target, "/dev/null", O_WRONLY, 0);
  };
  out(r.stdout_fd, 1);
  out(r.stderr_fd, 2);
  // Parent fds are CLOEXEC and kept >= 10 by callers, so dup2 always clears the flag.
  int highest = 2;
  for (auto [from, to] : r.extra_fds) {
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(a, from, to);
    highest = std::max(highest, to);
  }
  // Not every fd of this process is CLOEXEC (Boost.Asio opens its sockets without it), so
  // everything above the child's own fds is closed: a task or build must never inherit the
  // server's listening sockets (they would keep its ports bound after it dies).
  if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(a, highest + 1);
  if (rc == 0 && !r.cwd.empty()) rc = posix_spawn_file_actions_addchdir_np(a, r.cwd.c_str());
  return rc;
}

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// True if the NUL-separated environment block (as in /proc/PID/environ) holds entry as one
// whole "NAME=VALUE" item: a substring search would also take "X_KILN_TREE_TOKEN=t" or
// "SAVED=KILN_TREE_TOKEN=t" for the mark and kill a process of another tree.
bool EnvironHas(std::string_view block, std::string_view entry) {
  while (!block.empty()) {
    size_t end = block.find('\0');
    if (block.substr(0, end) == entry) return true;
    if (end == std::string_view::npos) break;
    block.remove_prefix(end + 1);
  }
  return false;
}

// The environment block of /proc/<pid>; empty when it cannot be read (gone, not ours).
std::string ReadEnviron(const char* pid) {
  std::string path = std::string("/proc/") + pid + "/environ";
  std::string block;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return block;
  char chunk[8192];
  ssize_t n;
  while ((n = ::read(fd, chunk, sizeof chunk)) > 0) block.append(chunk, static_cast<size_t>(n));
  ::close(fd);
  return block;
}

// Pids of processes whose environment contains entry (e.g. "KILN_TREE_TOKEN=abc").
std::vector<pid_t> ProcessesWithEnv(const std::string& entry) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    if (EnvironHas(ReadEnviron(e->d_name), entry)) {
      out.push_back(static_cast<pid_t>(std::atol(e->d_name)));
    }
  }
  closedir(d);
  return out;
}

void SignalTree(pid_t pgid, const std::vector<pid_t>& marked, int sig) {
  if (pgid > 0) ::kill(-pgid, sig);
  for (pid_t p : marked) ::kill(p, sig);
}

// Reaps those of pids that are our exited children; leaves everyone else's alone.
void ReapThese(const std::vector<pid_t>& pids) {
  for (pid_t p : pids) waitpid(p, nullptr, WNOHANG);
}

}  // namespace

base::Result<pid_t> Spawn(const SpawnRequest& request) {
  if (request.argv.empty()) return base::InvalidInput("spawn: empty argv");
  SpawnSetup s;
  int rc = ConfigureAttr(&s.attr, request.new_process_group);
  if (rc == 0) rc = ConfigureFds(&s.actions, request);
  if (rc != 0) return base::IoError("spawn setup", rc);
  auto argv = CStrings(request.argv);
  auto envp = CStrings(request.env);
  pid_t pid = 0;
  rc = posix_spawnp(&pid, argv[0], &s.actions, &s.attr, argv.data(), envp.data());
  if (rc != 0) return base::IoError("spawn " + request.argv[0], rc);
  return pid;
}

void BecomeSubreaper() { prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

std::optional<int> WaitFor(pid_t pid, int64_t timeout_ms) {
  int64_t deadline = base::MonotonicMillis() + timeout_ms;
  for (int delay_us = 200;; delay_us = std::min(delay_us * 2, 20'000)) {
    int status = 0;
    pid_t r = waitpid(pid, &status, timeout_ms < 0 ? 0 : WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return std::nullopt;
    if (base::MonotonicMillis() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
  }
}

bool GroupAlive(pid_t pgid) { return ::kill(-pgid, 0) == 0 || errno == EPERM; }

void KillTree(pid_t pgid, const std::string& token, int64_t grace_ms) {
  std::string entry = std::string(kTreeTokenVar) + "=" + token;
  std::vector<pid_t> seen;  // a zombie's environ is empty: remember marked pids to reap them
  auto alive = [&] {
    auto marked = ProcessesWithEnv(entry);
    seen.insert(seen.end(), marked.begin(), marked.end());
    ReapThese(seen);
    if (pgid > 0) waitpid(pgid, nullptr, WNOHANG);  // the leader, if it is our child
    return std::pair{(pgid > 0 && GroupAlive(pgid)) || !marked.empty(), marked};
  };
  auto [any, marked] = alive();
  if (!any) return;
  SignalTree(pgid, marked, SIGTERM);
  SignalTree(pgid, marked, SIGCONT);
  int64_t deadline = base::MonotonicMillis() + grace_ms;
  while (any && base::MonotonicMillis() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::tie(any, marked) = alive();
  }
  for (int round = 0; any && round < 100; ++round) {
    SignalTree(pgid, marked, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::tie(any, marked) = alive();
  }
}

base::Result<Captured> Capture(const std::vector<std::string>& argv, const std::string& cwd,
                               size_t max_bytes) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return base::IoError("pipe", errno);
  SpawnRequest req{.argv = argv, .cwd = cwd, .stdout_fd = p[1], .new_process_group = false};
  for (char** e = environ; *e; ++e) req.env.emplace_back(*e);
  auto pid = Spawn(req);
  ::close(p[1]);
  if (!pid.ok()) {
    ::close(p[0]);
    return pid.status();
  }
  Captured c;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (c.out.size() < max_bytes)
      c.out.append(buf, std::min(static_cast<size_t>(n), max_bytes - c.out.size()));
  }
  ::close(p[0]);
  auto status = WaitFor(*pid, -1);
  c.exit_code = status ? ExitCodeOf(*status) : 255;
  return c;
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

}  // namespace kiln::exec
