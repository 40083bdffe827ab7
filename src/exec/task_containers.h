// An ECS-style task as a group of containers on a Docker engine (AWS-CONTAINERS.md §3): started
// in dependsOn order, read back into a task-level verdict, stopped in reverse order. Engine
// only: the deploy layer maps its task definitions onto TaskLaunch and decides what to do with
// a verdict. Every container of a task carries labels (kiln.task, kiln.container, ...) so a
// task is found again by its id alone, also after a Kiln restart.
//
// Threads: free functions over a const DockerClient; any thread. StartTask blocks while it
// waits for dependencies (bounded, see TaskContainer::depends_on).
// Errors: kInvalidInput for a launch that cannot be run as given (unknown or cyclic dependsOn,
// bad names or durations); kFailed with ECS's stopped-reason words for an engine that refused
// (StartTask); the client's kinds otherwise (docker_client.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "exec/docker_client.h"
#include "exec/docker_types.h"

namespace kiln::exec {

// ECS's defaults (AWS-CONTAINERS.md §3.1, §3.2): passed to the engine explicitly because
// Docker's own differ (its health timeout is 30 s, its stop timeout 10 s).
inline constexpr int64_t kDefaultStopTimeoutMs = 30'000;
inline constexpr int64_t kDefaultStartTimeoutMs = 180'000;  // the agent's dependency wait

// ECS healthCheck. command: ["CMD", arg...] or ["CMD-SHELL", "command"]; neither prefix means
// CMD (ECS). ECS's ranges (interval 5-300 s, ...) are the spec layer's to enforce; here any
// positive duration goes, so tests can check every second.
struct TaskHealthCheck {
  std::vector<std::string> command;
  int64_t interval_ms = 30'000;
  int64_t timeout_ms = 5'000;
  int retries = 3;
  int64_t start_period_ms = 0;
};

// dependsOn conditions (ECS): START the dependency started; COMPLETE it exited; SUCCESS it
// exited 0; HEALTHY its health check passed (it needs one).
enum class DependencyCondition { kStart, kComplete, kSuccess, kHealthy };

struct ContainerDependency {
  std::string container;
  DependencyCondition condition = DependencyCondition::kStart;
};

using EnvPairs = std::vector<std::pair<std::string, std::string>>;

// One containerDefinition, resolved: secrets hold their values, not their ARNs.
struct TaskContainer {
  std::string name;  // unique in the task
  std::string image;
  bool essential = true;                 // ECS default
  std::vector<std::string> entry_point;  // empty: the image's
  std::vector<std::string> command;      // empty: the image's
  EnvPairs environment;
  EnvPairs secrets;  // in the environment, as ECS does; a secret overrides a variable
  std::optional<TaskHealthCheck> health_check;
  // 1024 = one vCPU; 0: none. A hard limit (NanoCpus), as Fargate's task cpu is: ECS on EC2
  // maps container cpu to CpuShares, a mere weight (AWS-CONTAINERS.md §3.1), which would let
  // one task starve the CI host's builds.
  int cpu_units = 0;
  int64_t memory_mib = 0;              // hard limit; 0: none
  int64_t memory_reservation_mib = 0;  // soft limit; 0: none
  int64_t stop_timeout_ms = kDefaultStopTimeoutMs;
  std::vector<ContainerDependency> depends_on;
  int port = 0;  // env PORT: the host port Kiln gave the task (kBridge: the container's); 0: none
  std::vector<PortBinding> port_bindings;  // kBridge only: published on the host
  bool init_process = false;               // ECS linuxParameters.initProcessEnabled: tini as PID 1
};

// Kiln never creates networks (DOCKER-ENGINE §6.2). kBridge is the engine's own `bridge`
// network (ECS networkMode bridge), which an engine started with --bridge=none lacks.
enum class TaskNetwork { kHost, kNone, kBridge };

struct TaskLaunch {
  std::string task_id;          // unique; the kiln.task label
  std::string service;          // the kiln.service label
  std::string task_definition;  // "family:revision", the kiln.task-definition label
  TaskNetwork network = TaskNetwork::kHost;
  std::vector<TaskContainer> containers;
  std::map<std::string, std::string> labels;          // added to every container
  int64_t start_timeout_ms = kDefaultStartTimeoutMs;  // COMPLETE/SUCCESS waits (ECS startTimeout)
};

// Labels on every task container.
inline constexpr char kServiceLabel[] = "kiln.service";
inline constexpr char kTaskLabel[] = "kiln.task";
inline constexpr char kContainerLabel[] = "kiln.container";
inline constexpr char kTaskDefinitionLabel[] = "kiln.task-definition";
inline constexpr char kEssentialLabel[] = "kiln.essential";     // "true" / "false"
inline constexpr char kStartOrderLabel[] = "kiln.start-order";  // 0, 1, ...: stop in reverse

// The started containers, in start order.
struct StartedContainer {
  std::string name;
  std::string id;
};

// Creates and starts launch's containers in dependsOn order, each after its dependencies met
// their conditions. A HEALTHY wait lasts at most start_period + (interval + timeout) *
// (retries + 1); COMPLETE/SUCCESS waits at most launch.start_timeout_ms. On any failure what
// was created is removed and the error is kFailed "CannotPullContainerError: ..." (the image
// is missing: Kiln does not pull here, the deploy layer does) or "CannotStartContainerError:
// ...", the words ECS puts in stoppedReason.
base::Result<std::vector<StartedContainer>> StartTask(const DockerClient& client,
                                                      const TaskLaunch& launch);

enum class TaskVerdict {
  kPending,  // an essential container was created but has not started yet
  kRunning,
  kStopped,    // an essential container exited: the task is over (ECS)
  kUnhealthy,  // an essential container failed its health check: replace the task (ECS)
};

struct TaskContainerState {
  std::string name;
  std::string id;
  bool essential = true;
  ContainerStatus status = ContainerStatus::kCreated;
  int exit_code = 0;  // meaningful once exited
  HealthStatus health = HealthStatus::kNone;
  std::string reason;  // ECS's container reason ("OutOfMemoryError: ..."), if any
  int64_t started_at_ns = 0;
};

struct TaskState {
  std::string task_id;
  std::vector<TaskContainerState> containers;  // in start order
  TaskVerdict verdict = TaskVerdict::kRunning;
  std::string stopped_reason;  // ECS's words for kStopped / kUnhealthy
  // ECS task health: from essential containers with a check; kNone when none has one.
  HealthStatus health = HealthStatus::kNone;
};

// The verdict from inspected containers (pure; ReadTask's second half).
TaskState TaskStateFrom(const std::string& task_id, std::vector<ContainerInfo> containers);

// Inspects the task's containers. kNotFound when the engine has none for task_id.
base::Result<TaskState> ReadTask(const DockerClient& client, const std::string& task_id);

// Stops the task's containers in reverse start order: `POST /stop?t=` (the StopSignal, then
// SIGKILL after the timeout: ECS stopTimeout), then removes them. A negative timeout means each
// container's own (TaskContainer::stop_timeout_ms). Containers already gone are fine; the
// first other error is returned after every container was tried.
base::Status StopTask(const DockerClient& client, const std::string& task_id,
                      int64_t stop_timeout_ms = kDefaultStopTimeoutMs);

// Removes the task's containers at once (SIGKILL), whatever their state.
base::Status RemoveTask(const DockerClient& client, const std::string& task_id);

// The ids of tasks with a container carrying every label in `labels` (an empty value matches
// any), sorted, each once: what survives a Kiln restart.
base::Result<std::vector<std::string>> ListTasks(const DockerClient& client,
                                                 const std::map<std::string, std::string>& labels);

// Building blocks, pure, exposed for tests.

// "kiln-<service>-<task short>-<container>" in the engine's name alphabet [a-zA-Z0-9_.-]. The
// task short is the id's first 12 characters (after an ARN's last '/'): two live tasks whose
// ids share them collide (the engine's 409, CannotStartContainerError); ECS's random 32-hex
// ids do not.
std::string TaskContainerName(const std::string& service, const std::string& task_id,
                              const std::string& container);
// The indexes of containers in start order: dependencies first, otherwise as listed.
// kInvalidInput for duplicate or empty names, unknown dependencies, cycles, COMPLETE/SUCCESS
// on an essential container and HEALTHY on one without a health check (ECS's rules).
base::Result<std::vector<size_t>> StartOrder(const std::vector<TaskContainer>& containers);
// A container's kiln.start-order label; the largest size_t when missing or malformed.
size_t TaskStartOrderOf(const std::map<std::string, std::string>& labels);
// The engine's spec for containers[index] (its start position is `order`).
base::Result<ContainerSpec> TaskContainerSpec(const TaskLaunch& launch, size_t index, size_t order);

}  // namespace kiln::exec
