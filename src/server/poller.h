// Polling for connections that send no webhooks (`poll: 60s`): fetch the mirror, resolve each
// watching pipeline's branch, and queue an execution for a commit not started before (the
// store's (pipeline, commit) de-duplication makes this exactly once, across restarts).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "server/context.h"

namespace kiln::server {

class Poller {
 public:
  // Starts one thread per connection with poll_ms > 0 that some pipeline's source uses.
  Poller(ServerContext& ctx, std::function<void()> queued);
  ~Poller();
  void Stop();

 private:
  void Run(const spec::Connection& connection);
  void PollOnce(const spec::Connection& connection);
  ServerContext& ctx_;
  std::function<void()> queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace kiln::server
