// Noticing that a process exited, on the event loop, without blocking and without
// waitpid(-1) (other parts of the server own other children): a pidfd (Linux >= 5.3) turns
// readable when the process exits; then waitpid(pid) reaps it if it is our child. Works for
// processes that are not our children too (tasks adopted after a restart).
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"

namespace kiln::deploy {

class ProcessWatch {
 public:
  // on_exit gets the exit code (128 + signal if killed), or -1 when the process was not our
  // child (its status is unknown). Loop affinity: created, called back and destroyed on loop.
  using OnExit = std::function<void(int exit_code)>;

  // Starts watching pid. kNotFound if it has already gone (then nothing is called back).
  static base::Result<std::unique_ptr<ProcessWatch>> Start(boost::asio::io_context& loop, pid_t pid,
                                                           OnExit on_exit);
  // Stops watching; on_exit is never called after this.
  ~ProcessWatch();
  ProcessWatch(const ProcessWatch&) = delete;
  ProcessWatch& operator=(const ProcessWatch&) = delete;

  pid_t pid() const { return pid_; }

 private:
  struct State;
  ProcessWatch(pid_t pid, std::shared_ptr<State> state) : pid_(pid), state_(std::move(state)) {}
  pid_t pid_;
  std::shared_ptr<State> state_;
};

// Sends sig to the process group pgid (the task's leader pid). Never to pgid <= 1.
void SignalGroup(pid_t pgid, int sig);

}  // namespace kiln::deploy

namespace kiln::deploy {

// A process's identity across restarts: "<boot id>:<start time in clock ticks>" (the format
// of pipeline/liveness.h), or "" when pid is gone or a zombie. Pids are reused; this is not.
std::string ProcessToken(pid_t pid);

}  // namespace kiln::deploy
