#include "deploy/process_watch.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>

#include "base/files.h"
#include "exec/process.h"

namespace kiln::deploy {

struct ProcessWatch::State {
  explicit State(boost::asio::io_context& loop) : descriptor(loop) {}
  boost::asio::posix::stream_descriptor descriptor;
  OnExit on_exit;
  bool cancelled = false;
};

namespace {

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Reaps pid if it is our child; -1 when it is not (or was reaped elsewhere).
int Reap(pid_t pid) {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  return r == pid ? exec::ExitCodeOf(status) : -1;
}

std::string StartTime(pid_t pid) {
  auto stat = base::ReadFile("/proc/" + std::to_string(pid) + "/stat", 64 * 1024);
  if (!stat.ok()) return "";
  size_t paren = stat->rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat->size() || (*stat)[paren + 2] == 'Z')
    return "";
  size_t pos = paren + 2;  // field 3 (state); starttime is field 22
  for (int field = 3; field < 22 && pos != std::string::npos; ++field) {
    pos = stat->find(' ', pos);
    if (pos != std::string::npos) ++pos;
  }
  if (pos == std::string::npos) return "";
  return stat->substr(pos, stat->find(' ', pos) - pos);
}

}  // namespace

std::string ProcessToken(pid_t pid) {
  if (pid <= 0) return "";
  std::string start = StartTime(pid);
  auto boot = base::ReadFile("/proc/sys/kernel/random/boot_id", 128);
  if (start.empty() || !boot.ok()) return "";
  return boot->substr(0, boot->find('\n')) + ":" + start;
}

base::Result<std::unique_ptr<ProcessWatch>> ProcessWatch::Start(boost::asio::io_context& loop,
                                                                pid_t pid, OnExit on_exit) {
  int fd = PidfdOpen(pid);
  if (fd < 0 && errno == ESRCH)
    return base::NotFound("process " + std::to_string(pid) + " is gone");
  if (fd < 0) return base::IoError("pidfd_open " + std::to_string(pid), errno);
  auto state = std::make_shared<State>(loop);
  state->descriptor.assign(fd);
  state->on_exit = std::move(on_exit);
  state->descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                               [state, pid](const boost::system::error_code&) {
                                 if (state->cancelled) return;
                                 state->cancelled = true;
                                 int code = Reap(pid);
                                 auto callback = std::move(state->on_exit);
                                 boost::system::error_code ignored;
                                 state->descriptor.close(ignored);
                                 if (callback) callback(code);
                               });
  return std::unique_ptr<ProcessWatch>(new ProcessWatch(pid, std::move(state)));
}

ProcessWatch::~ProcessWatch() {
  state_->cancelled = true;
  state_->on_exit = nullptr;
  boost::system::error_code ignored;
  state_->descriptor.close(ignored);
}

void SignalGroup(pid_t pgid, int sig) {
  if (pgid > 1) ::kill(-pgid, sig);
}

}  // namespace kiln::deploy
