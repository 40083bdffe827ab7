// Starting a task of the process provider (DESIGN.md "Deploy"): a process group running the
// container's entryPoint + command (no shell) in the task's own copy of its bundle, so tasks
// never write into each other's files or into the bundle that a rollback needs.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "deploy/service_spec.h"

namespace kiln::deploy {

struct LaunchRequest {
  std::string task_id;
  std::string service;
  const ContainerSpec* container = nullptr;
  std::filesystem::path bundle_dir;  // the unpacked bundle (read-only by convention)
  std::filesystem::path work_dir;    // the task's copy of it; must not exist yet
  std::filesystem::path log_path;    // stdout and stderr, appended
  uint16_t port = 0;                 // given to the task as $PORT
  std::vector<std::pair<std::string, std::string>> secrets;  // resolved container secrets
};

// What the process provider can run: one container per task (kUnsupported for more), with a
// command or an entryPoint (kInvalidInput: a bundle has no image default to fall back on).
base::Status CheckProcessTask(const TaskSpec& task);

// The task's environment: PATH, HOME, LANG from a clean base, the container's environment
// and secrets, then PORT, KILN_TASK_ID, KILN_SERVICE, KILN_TREE_TOKEN (= task id).
std::vector<std::string> TaskEnvironment(const LaunchRequest& request);

// Copies the bundle into work_dir and spawns the process as leader of a new process group
// (pgid = pid), stdin /dev/null. Blocking (copies files). kInvalidInput for a working
// directory leading outside the copy; kIo when the copy or the spawn fails.
base::Result<pid_t> LaunchTask(const LaunchRequest& request);

// A free TCP port on 127.0.0.1 (asks the kernel), not in `taken`.
base::Result<uint16_t> PickFreePort(const std::set<uint16_t>& taken);

}  // namespace kiln::deploy
