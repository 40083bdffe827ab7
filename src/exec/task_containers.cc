// StartTask, ReadTask, StopTask, RemoveTask, ListTasks against the engine.
#include "exec/task_containers.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

namespace kiln::exec {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPoll = std::chrono::milliseconds(50);
constexpr int64_t kMaxStopTimeoutMs = 86'400'000;  // a day: keeps seconds inside an int

// ECS's stoppedReason words for a task that did not start (the agent's "<ErrorName>: <msg>").
base::Status CannotPull(const std::string& message) {
  return {base::ErrorKind::kFailed, "CannotPullContainerError: " + message};
}
base::Status CannotStart(const std::string& message) {
  return {base::ErrorKind::kFailed, "CannotStartContainerError: " + message};
}

const char* ConditionText(DependencyCondition c) {
  switch (c) {
    case DependencyCondition::kComplete:
      return "COMPLETE";
    case DependencyCondition::kSuccess:
      return "SUCCESS";
    case DependencyCondition::kHealthy:
      return "HEALTHY";
    case DependencyCondition::kStart:
      break;
  }
  return "START";
}

bool Exited(const ContainerInfo& info) {
  return info.status == ContainerStatus::kExited || info.status == ContainerStatus::kDead;
}

base::Status Unmet(const std::string& why) { return {base::ErrorKind::kFailed, why}; }

// Whether `info` meets `condition`; an error when it never will.
base::Result<bool> Met(const ContainerInfo& info, DependencyCondition condition) {
  switch (condition) {
    case DependencyCondition::kStart:
      return true;
    case DependencyCondition::kComplete:
      return Exited(info);
    case DependencyCondition::kSuccess:
      if (Exited(info) && info.exit_code != 0) {
        return Unmet("it exited " + std::to_string(info.exit_code));
      }
      return Exited(info);
    case DependencyCondition::kHealthy:
      if (info.health == HealthStatus::kUnhealthy) return Unmet("it is unhealthy");
      if (Exited(info)) return Unmet("it exited " + std::to_string(info.exit_code));
      return info.health == HealthStatus::kHealthy;
  }
  return base::Internal("unknown dependsOn condition");
}

// HEALTHY: the engine decides within start_period + retries checks, each at most interval +
// timeout apart; one more round for the first check's delay. Otherwise ECS's startTimeout.
std::chrono::milliseconds WaitBound(const TaskContainer& dep, DependencyCondition condition,
                                    int64_t start_timeout_ms) {
  if (condition != DependencyCondition::kHealthy || !dep.health_check) {
    return std::chrono::milliseconds(start_timeout_ms);
  }
  const TaskHealthCheck& h = *dep.health_check;
  return std::chrono::milliseconds(h.start_period_ms +
                                   (h.interval_ms + h.timeout_ms) * (int64_t{h.retries} + 1));
}

base::Status AwaitDependency(const DockerClient& client, const std::string& id,
                             const TaskContainer& dep, const ContainerDependency& want,
                             int64_t start_timeout_ms) {
  std::string what = "dependsOn '" + dep.name + "' " + ConditionText(want.condition) + ": ";
  auto deadline = Clock::now() + WaitBound(dep, want.condition, start_timeout_ms);
  for (;;) {
    auto info = client.Inspect(id);
    if (!info.ok()) return CannotStart(what + info.status().message());
    auto met = Met(*info, want.condition);
    if (!met.ok()) return CannotStart(what + met.status().message());
    if (*met) return {};
    if (Clock::now() >= deadline) return CannotStart(what + "not met in time");
    std::this_thread::sleep_for(kPoll);
  }
}

const TaskContainer& Named(const TaskLaunch& launch, const std::string& name) {
  return *std::find_if(launch.containers.begin(), launch.containers.end(),
                       [&](const TaskContainer& c) { return c.name == name; });
}

// One task's start: the containers created so far, by name, to wait on and to clean up.
struct Starting {
  const DockerClient& client;
  const TaskLaunch& launch;
  std::vector<StartedContainer> created;

  std::string IdOf(const std::string& name) const {
    for (const StartedContainer& c : created) {
      if (c.name == name) return c.id;
    }
    return "";
  }
  base::Status CreateAndStart(const TaskContainer& c, const ContainerSpec& spec) {
    auto id = client.CreateContainer(spec);
    if (!id.ok()) {  // the engine's 404 on create: no such image
      return id.status().kind() == base::ErrorKind::kNotFound ? CannotPull(id.status().message())
                                                              : CannotStart(id.status().message());
    }
    created.push_back({c.name, *id});
    for (const ContainerDependency& dep : c.depends_on) {
      auto st = AwaitDependency(client, IdOf(dep.container), Named(launch, dep.container), dep,
                                launch.start_timeout_ms);
      if (!st.ok()) return st;
    }
    if (auto st = client.Start(*id); !st.ok()) return CannotStart(st.message());
    return {};
  }
  // A task that failed to start leaves nothing: SIGKILL and remove (the engine's force).
  void Discard() {
    for (auto it = created.rbegin(); it != created.rend(); ++it) {
      (void)client.Remove(it->id, true);
    }
  }
};

// The task's containers, in start order.
base::Result<std::vector<ContainerSummary>> TaskContainerList(const DockerClient& client,
                                                              const std::string& task_id) {
  if (task_id.empty()) return base::InvalidInput("no task id");
  auto list = client.ListContainers({{kTaskLabel, task_id}}, true);
  if (!list.ok()) return list.status();
  std::stable_sort(list->begin(), list->end(), [](const auto& a, const auto& b) {
    return TaskStartOrderOf(a.labels) < TaskStartOrderOf(b.labels);
  });
  return list;
}

// The engine's stop timeout for one container: the caller's, or its own (Config.StopTimeout).
base::Result<int> StopSeconds(const DockerClient& client, const std::string& id,
                              int64_t stop_timeout_ms) {
  if (stop_timeout_ms >= 0) {
    return static_cast<int>((std::min(stop_timeout_ms, kMaxStopTimeoutMs) + 999) / 1000);
  }
  auto info = client.Inspect(id);
  if (!info.ok()) return info.status();
  return info->stop_timeout_seconds.value_or(static_cast<int>(kDefaultStopTimeoutMs / 1000));
}

bool Gone(const base::Status& st) { return st.ok() || st.kind() == base::ErrorKind::kNotFound; }

}  // namespace

base::Result<std::vector<StartedContainer>> StartTask(const DockerClient& client,
                                                      const TaskLaunch& launch) {
  auto order = StartOrder(launch.containers);
  if (!order.ok()) return order.status();
  std::vector<ContainerSpec> specs;  // all checked before anything is created
  for (size_t pos = 0; pos < order->size(); ++pos) {
    auto spec = TaskContainerSpec(launch, (*order)[pos], pos);
    if (!spec.ok()) return spec.status();
    specs.push_back(std::move(*spec));
  }
  Starting starting{client, launch, {}};
  for (size_t pos = 0; pos < order->size(); ++pos) {
    auto st = starting.CreateAndStart(launch.containers[(*order)[pos]], specs[pos]);
    if (!st.ok()) {
      starting.Discard();
      return st;
    }
  }
  return std::move(starting.created);
}

base::Result<TaskState> ReadTask(const DockerClient& client, const std::string& task_id) {
  auto list = TaskContainerList(client, task_id);
  if (!list.ok()) return list.status();
  std::vector<ContainerInfo> infos;
  for (const ContainerSummary& s : *list) {
    auto info = client.Inspect(s.id);
    if (info.ok()) {
      infos.push_back(std::move(*info));
    } else if (info.status().kind() != base::ErrorKind::kNotFound) {  // removed since: skip
      return info.status();
    }
  }
  if (infos.empty()) return base::NotFound("no containers of task " + task_id);
  return TaskStateFrom(task_id, std::move(infos));
}

// ECS: containers stop in reverse dependency order, each SIGTERM then SIGKILL after
// stopTimeout. Sequential, so a dependency outlives whatever depends on it.
base::Status StopTask(const DockerClient& client, const std::string& task_id,
                      int64_t stop_timeout_ms) {
  auto list = TaskContainerList(client, task_id);
  if (!list.ok()) return list.status();
  base::Status first;
  auto keep = [&](const base::Status& st) {
    if (!Gone(st) && first.ok()) first = st;
  };
  for (auto it = list->rbegin(); it != list->rend(); ++it) {
    auto seconds = StopSeconds(client, it->id, stop_timeout_ms);
    keep(seconds.ok() ? client.Stop(it->id, *seconds) : seconds.status());
    keep(client.Remove(it->id, true));
  }
  return first;
}

base::Status RemoveTask(const DockerClient& client, const std::string& task_id) {
  auto list = TaskContainerList(client, task_id);
  if (!list.ok()) return list.status();
  base::Status first;
  for (const ContainerSummary& s : *list) {
    base::Status st = client.Remove(s.id, true);
    if (!Gone(st) && first.ok()) first = st;
  }
  return first;
}

base::Result<std::vector<std::string>> ListTasks(const DockerClient& client,
                                                 const std::map<std::string, std::string>& labels) {
  std::map<std::string, std::string> filter = labels;
  filter.emplace(kTaskLabel, "");  // only task containers
  auto list = client.ListContainers(filter, true);
  if (!list.ok()) return list.status();
  std::set<std::string> ids;
  for (const ContainerSummary& s : *list) {
    auto it = s.labels.find(kTaskLabel);
    if (it != s.labels.end() && !it->second.empty()) ids.insert(it->second);
  }
  return std::vector<std::string>(ids.begin(), ids.end());
}

}  // namespace kiln::exec
