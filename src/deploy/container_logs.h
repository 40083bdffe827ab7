// A container task's output kept by Kiln (ECS logConfiguration: whatever driver is named, the
// task log is Kiln's): one thread per container follows the engine's log stream and appends
// it to the task's log file (0600), each line prefixed "[container] " when the task has more
// than one container. The engine's own log is gone with the container; this file is not.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "exec/docker_client.h"

namespace kiln::deploy {

class TaskOutput {
 public:
  struct Container {
    std::string name;
    std::string id;
  };
  // Starts following. since: unix seconds (an adopted task's log resumes where the file's last
  // write left it); 0: from the container's start.
  TaskOutput(const exec::DockerClient& client, std::filesystem::path log_path,
             std::vector<Container> containers, int64_t since);
  // Aborts the streams still open and joins their threads.
  ~TaskOutput();
  TaskOutput(const TaskOutput&) = delete;
  TaskOutput& operator=(const TaskOutput&) = delete;

 private:
  struct Follower;
  std::vector<std::unique_ptr<Follower>> followers_;
};

}  // namespace kiln::deploy
