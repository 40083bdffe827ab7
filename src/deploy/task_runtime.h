// How a cluster's provider runs a service's tasks (DESIGN.md "Deploy"): the process provider
// (task_launch.h: a process group per task) or a Docker engine (container_runtime.h: a group
// of containers per task). The ServiceController decides what to start and stop; a runtime
// only does it and reports back: a task's start, its exit, and (for providers that run
// container health checks themselves) its container health.
//
// Loop affinity: every method is called on the loop, and every callback arrives on it. A
// runtime may do blocking work elsewhere (an engine's calls run on a pool). Destroying it stops
// every watch and callback; the tasks keep running, to be adopted by the next runtime.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "deploy/service_spec.h"
#include "deploy/task_health.h"
#include "store/service_store.h"

namespace kiln::deploy {

using SecretValues = std::vector<std::pair<std::string, std::string>>;  // name, value

// What a runtime needs to start one task.
struct TaskStart {
  store::TaskRow row;  // id, service, revision, port (the task's own loopback port)
  const TaskSpec* task = nullptr;
  std::vector<SecretValues> secrets;  // resolved, one list per container of task
  std::filesystem::path work_dir;     // the task's own folder (the process provider's copy)
  std::filesystem::path log_path;     // where its output is kept
};

// How a task ended: the essential container's exit code (-1: unknown) and ECS's stoppedReason
// ("Essential container in task exited", "CannotPullContainerError: ...").
struct TaskExit {
  int exit_code = -1;
  std::string reason;
};

// What a runtime needs to record about a started task so the next server adopts it.
struct TaskIdentity {
  int64_t pid = 0;
  std::string pid_token;
  int port = 0;  // > 0: the task's port is this one, not Kiln's (a bridge task's published port)
};

class TaskRuntime {
 public:
  struct Listener {
    std::function<void(const std::string& task_id, const TaskExit&)> exited;
    // Only for options.external_container (ContainerCheck): the essential containers' health.
    std::function<void(const std::string& task_id, Health, const std::string& reason)> health;
  };
  using Started = std::function<void(base::Result<TaskIdentity>)>;
  using Adopted = std::function<void(std::vector<bool> alive)>;

  virtual ~TaskRuntime() = default;
  virtual void SetListener(Listener listener) = 0;

  // kInvalidInput / kUnsupported when this provider cannot run the task definition.
  virtual base::Status Check(const TaskSpec& task) const = 0;
  // The container health check part of a task's TaskHealth: run by TaskHealth as a command
  // (the process provider), or reported by the provider through Listener::health (an engine
  // runs the check itself; options.external_container).
  virtual void ContainerCheck(const TaskStart& start, TaskHealthOptions& options) const = 0;

  // Makes the task definition's images ready (an engine pulls what it lacks); done gets ok or
  // why its tasks cannot start. CreateService's check before a service's first tasks.
  virtual void Prepare(const TaskSpec& task, std::function<void(base::Status)> done) = 0;
  // Starts a task. started gets its identity, or kFailed with ECS's stoppedReason words. After
  // a successful start the runtime watches it: Listener::exited follows when it ends.
  virtual void Start(TaskStart start, Started started) = 0;
  // Which of rows (tasks recorded as live by an earlier server) still run; those are watched
  // from now on. Tasks of this service that the provider runs but rows do not name (a crash
  // between start and record) are removed.
  virtual void Adopt(std::vector<store::TaskRow> rows, Adopted adopted) = 0;
  // Stops a task: SIGTERM (the image's stop signal), SIGKILL after grace_ms. exited follows.
  virtual void Stop(const store::TaskRow& row, int64_t grace_ms) = 0;
  // After exited: removes what is left of the task (its process group, containers, folder).
  virtual void Release(const store::TaskRow& row) = 0;
};

}  // namespace kiln::deploy
