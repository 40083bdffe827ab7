// A task's containers as engine specs (names, labels, limits, health check, environment) and
// their start order. Pure.
#include <algorithm>
#include <cctype>
#include <set>

#include "exec/task_containers.h"

namespace kiln::exec {

namespace {

constexpr size_t kTaskShort = 12;  // like the engine's short ids
constexpr size_t kMaxNamePart = 64;
constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kMib = 1 << 20;
// Caps that keep the engine's ns and bytes inside int64: a day, 16 TiB.
constexpr int64_t kMaxDurationMs = 86'400'000;
constexpr int64_t kMaxMemoryMib = int64_t{1} << 24;

std::string Sanitise(const std::string& text, size_t max) {
  std::string out;
  for (char c : text) {
    if (out.size() == max) break;
    auto u = static_cast<unsigned char>(c);
    out.push_back(std::isalnum(u) || c == '_' || c == '.' || c == '-' ? c : '-');
  }
  return out;
}

// An ARN's last part ("arn:aws:ecs:...:task/cluster/<id>") or the id itself.
std::string TaskShort(const std::string& task_id) {
  size_t slash = task_id.rfind('/');
  std::string tail = slash == std::string::npos ? task_id : task_id.substr(slash + 1);
  return Sanitise(tail, kTaskShort);
}

const TaskContainer* Find(const std::vector<TaskContainer>& containers, const std::string& name) {
  for (const TaskContainer& c : containers) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// ECS's rules on each dependsOn entry (AWS-CONTAINERS.md §3.1).
base::Status CheckDependency(const std::vector<TaskContainer>& containers,
                             const TaskContainer& from, const ContainerDependency& dep) {
  const TaskContainer* to = Find(containers, dep.container);
  std::string where = "container '" + from.name + "' dependsOn '" + dep.container + "'";
  if (!to) return base::InvalidInput(where + ": no such container in the task");
  if (to == &from) return base::InvalidInput(where + ": itself");
  bool exits = dep.condition == DependencyCondition::kComplete ||
               dep.condition == DependencyCondition::kSuccess;
  if (exits && to->essential) {
    return base::InvalidInput(where + ": COMPLETE and SUCCESS need a non-essential container");
  }
  if (dep.condition == DependencyCondition::kHealthy && !to->health_check) {
    return base::InvalidInput(where + ": HEALTHY needs a health check on it");
  }
  return {};
}

base::Status CheckContainers(const std::vector<TaskContainer>& containers) {
  if (containers.empty()) return base::InvalidInput("a task needs at least one container");
  std::set<std::string> names;
  bool any_essential = false;
  for (const TaskContainer& c : containers) {
    if (c.name.empty()) return base::InvalidInput("a task container has no name");
    if (!names.insert(c.name).second) {
      return base::InvalidInput("container name '" + c.name + "' appears twice");
    }
    any_essential = any_essential || c.essential;
  }
  if (!any_essential) return base::InvalidInput("a task needs an essential container (ECS)");
  for (const TaskContainer& c : containers) {
    for (const ContainerDependency& dep : c.depends_on) {
      if (auto st = CheckDependency(containers, c, dep); !st.ok()) return st;
    }
  }
  return {};
}

size_t IndexOf(const std::vector<TaskContainer>& containers, const std::string& name) {
  return static_cast<size_t>(Find(containers, name) - containers.data());
}

base::Result<HealthcheckConfig> Healthcheck(const TaskHealthCheck& h) {
  if (h.command.empty()) return base::InvalidInput("a health check needs a command");
  auto in_range = [](int64_t ms, int64_t min) { return ms >= min && ms <= kMaxDurationMs; };
  if (!in_range(h.interval_ms, 1) || !in_range(h.timeout_ms, 1) || h.retries < 1 ||
      !in_range(h.start_period_ms, 0)) {
    return base::InvalidInput("a health check needs a positive interval, timeout and retries");
  }
  std::vector<std::string> test = h.command;
  if (test[0] != "CMD" && test[0] != "CMD-SHELL") test.insert(test.begin(), "CMD");  // ECS
  if (test.size() < 2) return base::InvalidInput("a health check command is empty");
  return HealthcheckConfig{.test = std::move(test),
                           .interval_ns = h.interval_ms * kNsPerMs,
                           .timeout_ns = h.timeout_ms * kNsPerMs,
                           .start_period_ns = h.start_period_ms * kNsPerMs,
                           .retries = h.retries};
}

// environment, then secrets (a secret wins over a variable of its name), then PORT. Secrets
// go through the engine's Env as ECS's agent does; anyone who may `docker inspect` the
// container (Config.Env) reads them, but the engine's socket is root-equivalent anyway.
base::Result<std::vector<std::string>> Environment(const TaskContainer& c) {
  EnvPairs all = c.environment;
  all.insert(all.end(), c.secrets.begin(), c.secrets.end());
  if (c.port > 0) all.emplace_back("PORT", std::to_string(c.port));
  std::vector<std::string> env;
  std::map<std::string, size_t> at;
  for (const auto& [name, value] : all) {
    if (name.empty() || name.find('=') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      return base::InvalidInput("container '" + c.name + "': bad variable name '" + name + "'");
    }
    auto [it, fresh] = at.emplace(name, env.size());
    if (fresh) {
      env.push_back(name + "=" + value);
    } else {
      env[it->second] = name + "=" + value;
    }
  }
  return env;
}

base::Status CheckLimits(const TaskContainer& c) {
  if (c.cpu_units < 0 || c.memory_mib < 0 || c.memory_mib > kMaxMemoryMib ||
      c.memory_reservation_mib < 0 || c.memory_reservation_mib > kMaxMemoryMib ||
      c.stop_timeout_ms < 0 || c.stop_timeout_ms > kMaxDurationMs || c.port < 0 || c.port > 65535) {
    return base::InvalidInput("container '" + c.name + "': a limit, timeout or port out of range");
  }
  if (c.memory_mib > 0 && c.memory_reservation_mib > c.memory_mib) {  // ECS: memory > reservation
    return base::InvalidInput("container '" + c.name + "': memoryReservation above memory");
  }
  return {};
}

std::map<std::string, std::string> Labels(const TaskLaunch& launch, const TaskContainer& c,
                                          size_t order) {
  std::map<std::string, std::string> labels = launch.labels;
  labels[kServiceLabel] = launch.service;
  labels[kTaskLabel] = launch.task_id;
  labels[kContainerLabel] = c.name;
  labels[kTaskDefinitionLabel] = launch.task_definition;
  labels[kEssentialLabel] = c.essential ? "true" : "false";
  labels[kStartOrderLabel] = std::to_string(order);
  return labels;
}

NetworkMode NetworkOf(TaskNetwork network) {
  switch (network) {
    case TaskNetwork::kHost:
      return NetworkMode::kHost;
    case TaskNetwork::kBridge:
      return NetworkMode::kBridge;
    case TaskNetwork::kNone:
      break;
  }
  return NetworkMode::kNone;
}

}  // namespace

std::string TaskContainerName(const std::string& service, const std::string& task_id,
                              const std::string& container) {
  return "kiln-" + Sanitise(service, kMaxNamePart) + "-" + TaskShort(task_id) + "-" +
         Sanitise(container, kMaxNamePart);
}

// Kahn's algorithm, always taking the first ready container as listed: a task without
// dependsOn starts in its definition's order.
base::Result<std::vector<size_t>> StartOrder(const std::vector<TaskContainer>& containers) {
  if (auto st = CheckContainers(containers); !st.ok()) return st;
  std::vector<size_t> order;
  std::vector<bool> placed(containers.size(), false);
  while (order.size() < containers.size()) {
    size_t next = containers.size();
    for (size_t i = 0; i < containers.size() && next == containers.size(); ++i) {
      const auto& deps = containers[i].depends_on;
      bool ready = !placed[i] && std::all_of(deps.begin(), deps.end(), [&](const auto& d) {
        return placed[IndexOf(containers, d.container)];
      });
      if (ready) next = i;
    }
    if (next == containers.size()) {
      return base::InvalidInput("dependsOn forms a cycle among the task's containers");
    }
    placed[next] = true;
    order.push_back(next);
  }
  return order;
}

base::Result<ContainerSpec> TaskContainerSpec(const TaskLaunch& launch, size_t index,
                                              size_t order) {
  if (index >= launch.containers.size()) return base::Internal("no such task container");
  const TaskContainer& c = launch.containers[index];
  if (auto st = CheckLimits(c); !st.ok()) return st;
  auto env = Environment(c);
  if (!env.ok()) return env.status();
  ContainerSpec spec{.name = TaskContainerName(launch.service, launch.task_id, c.name),
                     .image = c.image,
                     .cmd = c.command,
                     .entrypoint = c.entry_point,
                     .env = std::move(*env),
                     .labels = Labels(launch, c, order),
                     .network_mode = NetworkOf(launch.network),
                     // ECS units: 1024 per vCPU; NanoCpus: 1e9 per CPU.
                     .nano_cpus = int64_t{c.cpu_units} * 1'000'000'000 / 1024,
                     .memory_bytes = c.memory_mib * kMib,
                     .memory_reservation_bytes = c.memory_reservation_mib * kMib,
                     .init = c.init_process,
                     .stop_timeout_seconds = static_cast<int>((c.stop_timeout_ms + 999) / 1000)};
  if (launch.network == TaskNetwork::kBridge) spec.port_bindings = c.port_bindings;
  if (c.health_check) {
    auto h = Healthcheck(*c.health_check);
    if (!h.ok()) return base::InvalidInput("container '" + c.name + "': " + h.status().message());
    spec.healthcheck = std::move(*h);
  }
  return spec;
}

}  // namespace kiln::exec
