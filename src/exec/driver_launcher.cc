#include "exec/driver_launcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "exec/process.h"

namespace kiln::exec {
namespace {

constexpr int kPipeSize = 1 << 20;

// A pipe whose ends are CLOEXEC and numbered >= 10 (so dup2 onto 3 and 4 never collides).
base::Status HighPipe(base::UniqueFd* read_end, base::UniqueFd* write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return base::IoError("pipe", errno);
  read_end->Reset(::fcntl(p[0], F_DUPFD_CLOEXEC, 10));
  write_end->Reset(::fcntl(p[1], F_DUPFD_CLOEXEC, 10));
  ::close(p[0]);
  ::close(p[1]);
  if (!read_end->valid() || !write_end->valid()) return base::IoError("fcntl", errno);
  return base::Status::Ok();
}

// sh and bash from /bin when they are there: a PATH search costs a failed execve per entry.
std::string ResolveShell(const std::string& shell) {
  if ((shell == "sh" || shell == "bash") && ::access(("/bin/" + shell).c_str(), X_OK) == 0) {
    return "/bin/" + shell;
  }
  return shell;
}

}  // namespace

base::Result<DriverChannels> HostLauncher::Launch(const DriverLaunch& launch) {
  DriverChannels ch;
  base::UniqueFd out_w, ctl_r, ack_w;
  if (auto st = HighPipe(&ch.out, &out_w); !st.ok()) return st;
  if (auto st = HighPipe(&ctl_r, &ch.ctl); !st.ok()) return st;
  if (auto st = HighPipe(&ch.ack, &ack_w); !st.ok()) return st;
  ::fcntl(ch.out.get(), F_SETPIPE_SZ, kPipeSize);
  ::fcntl(ch.out.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(ch.ack.get(), F_SETFL, O_NONBLOCK);

  SpawnRequest req;
  req.argv = {ResolveShell(launch.shell), launch.script.string()};
  req.env = launch.env;
  if (!tree_token_.empty()) req.env.push_back(std::string(kTreeTokenVar) + "=" + tree_token_);
  req.cwd = launch.cwd.string();
  req.stdout_fd = out_w.get();
  req.stderr_fd = out_w.get();
  req.extra_fds = {{ctl_r.get(), 3}, {ack_w.get(), 4}};
  auto pid = Spawn(req);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  return ch;
}

// Background jobs outlive an idle driver on the host: the state changes nothing here.
void HostLauncher::End(int64_t grace_ms, DriverState /*state*/) {
  if (ended_ || pid_ <= 0) return;
  ended_ = true;
  // A driver that was told to quit exits at once; a busy one (timeout, cancel) is killed by
  // KillTree, which also reaps it.
  (void)WaitFor(pid_, grace_ms > 0 ? 50 : 0);
  KillTree(pid_, tree_token_, grace_ms);
}

}  // namespace kiln::exec
