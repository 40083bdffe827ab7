#include "base/event_loop.h"

#include <poll.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "base/ids.h"

namespace kiln::base {

EventLoop::EventLoop() : wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

EventLoop::~EventLoop() { Stop(); }

bool EventLoop::Start() {
  if (!wake_.valid()) return false;
  thread_ = std::thread([this] { Run(); });
  return true;
}

void EventLoop::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  uint64_t one = 1;
  if (wake_.valid()) [[maybe_unused]]
    ssize_t n = ::write(wake_.get(), &one, sizeof one);
  if (thread_.joinable() && !InLoop()) thread_.join();
}

void EventLoop::Post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof one);
}

uint64_t EventLoop::At(int64_t at_ms, std::function<void()> fn) {
  uint64_t id = next_timer_++;
  timers_.emplace(at_ms, std::make_pair(id, std::move(fn)));
  return id;
}

void EventLoop::CancelTimer(uint64_t id) {
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      return;
    }
  }
}

void EventLoop::Watch(int fd, std::function<void()> fn) { watched_[fd] = std::move(fn); }

void EventLoop::Unwatch(int fd) { watched_.erase(fd); }

int EventLoop::NextTimeoutMs() const {
  if (timers_.empty()) return -1;
  int64_t wait = timers_.begin()->first - MonotonicMillis();
  return static_cast<int>(std::clamp<int64_t>(wait, 0, INT_MAX));
}

void EventLoop::RunPosted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

void EventLoop::RunDueTimers() {
  int64_t now = MonotonicMillis();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto fn = std::move(timers_.begin()->second.second);
    timers_.erase(timers_.begin());
    fn();
  }
}

void EventLoop::Run() {
  for (;;) {
    std::vector<pollfd> fds{{wake_.get(), POLLIN, 0}};
    for (const auto& [fd, fn] : watched_) fds.push_back({fd, POLLIN, 0});
    int n = ::poll(fds.data(), fds.size(), NextTimeoutMs());
    if (n < 0 && errno != EINTR) return;
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    if (n > 0 && (fds[0].revents & POLLIN)) {
      uint64_t count;
      [[maybe_unused]] ssize_t r = ::read(wake_.get(), &count, sizeof count);
    }
    RunPosted();
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto it = watched_.find(fds[i].fd);
      if (it == watched_.end()) continue;  // an earlier callback unwatched it
      auto fn = it->second;                // the callback may unwatch itself
      fn();
    }
    RunDueTimers();
  }
}

}  // namespace kiln::base
