// A Swarm service's task output kept by Kiln, as the docker provider keeps its tasks'
// (container_logs.h): one thread follows the service's logs (GET /services/{name}/logs with
// details and timestamps: every node's tasks, each line naming its task) and appends each line
// to <tasks_dir>/<task id>.log (0600), where the service log API reads it (task_logs.h).
//
// The engine ends a followed stream when the service is removed (or made again) and drops it
// when the manager goes away: the thread opens it again after a pause (1 s, doubling to 10 s
// while nothing comes), from just after the last line kept.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "exec/swarm_client.h"

namespace kiln::deploy {

class SwarmTaskOutput {
 public:
  // Starts following `service` (its Swarm name or id). since_ns: where to resume (ns since the
  // epoch; 0: from the service's start).
  SwarmTaskOutput(exec::SwarmClient client, std::string service, std::filesystem::path tasks_dir,
                  int64_t since_ns);
  // Aborts the stream and joins the thread.
  ~SwarmTaskOutput();
  SwarmTaskOutput(const SwarmTaskOutput&) = delete;
  SwarmTaskOutput& operator=(const SwarmTaskOutput&) = delete;

 private:
  class Writer;
  void Run();
  bool Wait(int64_t ms);  // false once stopping

  exec::SwarmClient client_;
  std::string service_;
  std::filesystem::path tasks_dir_;
  int64_t since_ns_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<exec::LogStream> stream_;  // the open one; Abort through it
  bool stopping_ = false;
  std::thread thread_;
};

// The newest modification time (ns since the epoch) of the .log files in tasks_dir: where an
// adopted service's output resumes. 0 when there is none.
int64_t NewestLogNs(const std::filesystem::path& tasks_dir);

}  // namespace kiln::deploy
