// `schedules` of kiln.yml: starts pipelines on a timer (UTC), as an EventBridge rule starts
// CodePipeline (trigger type CloudWatchEvent). Each firing is queued exactly once, keyed by
// (pipeline, schedule, time) in the store, so a restart never repeats one; firings missed
// while the server was down are not made up.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "server/context.h"

namespace kiln::server {

class Scheduler {
 public:
  Scheduler(ServerContext& ctx, std::function<void()> queued);
  ~Scheduler();
  void Stop();

 private:
  void Run();
  void Fire(const spec::Schedule& schedule, int64_t at_ms);
  ServerContext& ctx_;
  std::function<void()> queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace kiln::server
