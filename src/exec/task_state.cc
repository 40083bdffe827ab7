// A task's verdict from its inspected containers: ECS's rules on essential containers and
// container health (AWS-CONTAINERS.md §3.1, §3.2, §3.5). Pure.
#include <algorithm>
#include <charconv>
#include <limits>

#include "exec/task_containers.h"

namespace kiln::exec {

namespace {

std::string Label(const std::map<std::string, std::string>& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? "" : it->second;
}

// ECS's container reasons (the agent's dockerapi/errors.go words).
std::string ContainerReason(const ContainerInfo& info) {
  if (info.oom_killed) return "OutOfMemoryError: Container killed due to memory usage";
  if (!info.error.empty()) return "CannotStartContainerError: " + info.error;
  return "";
}

TaskContainerState StateOf(const ContainerInfo& info) {
  std::string name = Label(info.labels, kContainerLabel);
  return {.name = name.empty() ? info.name : name,
          .id = info.id,
          .essential = Label(info.labels, kEssentialLabel) != "false",  // ECS default: true
          .status = info.status,
          .exit_code = info.exit_code,
          .health = info.health,
          .reason = ContainerReason(info),
          .started_at_ns = info.started_at_ns};
}

bool Exited(const TaskContainerState& c) {
  return c.status == ContainerStatus::kExited || c.status == ContainerStatus::kDead;
}

// ECS task health: essential containers with a check only; any unhealthy makes it unhealthy,
// all healthy make it healthy, otherwise it is still starting (ECS: UNKNOWN).
HealthStatus TaskHealth(const std::vector<TaskContainerState>& containers) {
  bool any = false, all_healthy = true;
  for (const TaskContainerState& c : containers) {
    if (!c.essential || c.health == HealthStatus::kNone) continue;
    if (c.health == HealthStatus::kUnhealthy) return HealthStatus::kUnhealthy;
    any = true;
    all_healthy = all_healthy && c.health == HealthStatus::kHealthy;
  }
  if (!any) return HealthStatus::kNone;
  return all_healthy ? HealthStatus::kHealthy : HealthStatus::kStarting;
}

}  // namespace

size_t TaskStartOrderOf(const std::map<std::string, std::string>& labels) {
  std::string text = Label(labels, kStartOrderLabel);
  size_t order = std::numeric_limits<size_t>::max();  // unlabelled: last to start, first to stop
  std::from_chars(text.data(), text.data() + text.size(), order);
  return order;
}

TaskState TaskStateFrom(const std::string& task_id, std::vector<ContainerInfo> containers) {
  std::stable_sort(containers.begin(), containers.end(), [](const auto& a, const auto& b) {
    return TaskStartOrderOf(a.labels) < TaskStartOrderOf(b.labels);
  });
  TaskState state{.task_id = task_id};
  for (const ContainerInfo& info : containers) state.containers.push_back(StateOf(info));
  state.health = TaskHealth(state.containers);
  auto essential = [&](auto pred) {
    return std::any_of(state.containers.begin(), state.containers.end(),
                       [&](const TaskContainerState& c) { return c.essential && pred(c); });
  };
  if (essential(Exited)) {  // ECS: one essential container stopping stops the task
    state.verdict = TaskVerdict::kStopped;
    state.stopped_reason = "Essential container in task exited";
  } else if (state.health == HealthStatus::kUnhealthy) {  // ECS: services replace the task
    state.verdict = TaskVerdict::kUnhealthy;
    state.stopped_reason = "Task failed container health checks";
  } else if (essential([](const auto& c) { return c.status == ContainerStatus::kCreated; })) {
    state.verdict = TaskVerdict::kPending;
  } else {
    state.verdict = TaskVerdict::kRunning;
  }
  return state;
}

}  // namespace kiln::exec
