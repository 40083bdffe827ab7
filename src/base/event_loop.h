// A small event loop on its own thread: tasks posted from any thread, timers and readable file
// descriptors handled on the loop's thread, one at a time. Used where work is driven by
// events (the pipeline engine) rather than by threads that wait.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "base/fd.h"

namespace kiln::base {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();  // Stop()
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs the loop on its own thread. False if the loop's wake descriptor could not be made.
  bool Start();
  // Ends the loop after the task running now; tasks not yet run are dropped. Joins the thread
  // (unless called on it). Any thread.
  void Stop();
  // Runs fn on the loop's thread, in the order posted. Any thread.
  void Post(std::function<void()> fn);
  bool InLoop() const { return std::this_thread::get_id() == thread_.get_id(); }

  // Loop thread only. Runs fn once, at (or soon after) the monotonic time at_ms; returns an id
  // for CancelTimer.
  uint64_t At(int64_t at_ms, std::function<void()> fn);
  void CancelTimer(uint64_t id);
  // Loop thread only. Calls fn whenever fd is readable, until Unwatch(fd).
  void Watch(int fd, std::function<void()> fn);
  void Unwatch(int fd);

 private:
  void Run();
  void RunPosted();
  void RunDueTimers();
  int NextTimeoutMs() const;

  UniqueFd wake_;  // eventfd
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::function<void()>> posted_;  // guarded by mu_
  bool stop_ = false;                          // guarded by mu_
  // Loop thread only:
  std::multimap<int64_t, std::pair<uint64_t, std::function<void()>>> timers_;
  uint64_t next_timer_ = 1;
  std::map<int, std::function<void()>> watched_;
};

}  // namespace kiln::base
