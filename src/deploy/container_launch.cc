// LaunchFor: a revision's task definition as the engine's task launch.
#include "deploy/container_runtime.h"

namespace kiln::deploy {
namespace {

exec::DependencyCondition ConditionOf(ContainerDependency::Condition c) {
  switch (c) {
    case ContainerDependency::Condition::kComplete:
      return exec::DependencyCondition::kComplete;
    case ContainerDependency::Condition::kSuccess:
      return exec::DependencyCondition::kSuccess;
    case ContainerDependency::Condition::kHealthy:
      return exec::DependencyCondition::kHealthy;
    case ContainerDependency::Condition::kStart:
      break;
  }
  return exec::DependencyCondition::kStart;
}

exec::TaskNetwork NetworkOf(NetworkMode mode) {
  switch (mode) {
    case NetworkMode::kNone:
      return exec::TaskNetwork::kNone;
    case NetworkMode::kBridge:
      return exec::TaskNetwork::kBridge;
    default:
      break;
  }
  return exec::TaskNetwork::kHost;  // host, and kiln.yml's default
}

// ECS bridge mode: each portMapping published on the host's loopback (hostPort 0: a dynamic
// port); PORT is the container's own first port.
void Publish(const ContainerSpec& c, exec::TaskContainer& out) {
  out.port = c.port_mappings.empty() ? 0 : c.port_mappings.front().container_port;
  for (const PortMapping& m : c.port_mappings) {
    out.port_bindings.push_back(
        {.container_port = m.container_port, .host_port = m.host_port, .protocol = m.protocol});
  }
}

exec::TaskContainer ContainerFor(const ContainerSpec& c, const SecretValues& secrets,
                                 uint16_t port) {
  exec::TaskContainer out{.name = c.name,
                          .image = c.image,
                          .essential = c.essential,
                          .entry_point = c.entry_point,
                          .command = c.command,
                          .environment = c.environment,
                          .secrets = secrets,
                          .cpu_units = int(c.cpu.value_or(0)),
                          .memory_mib = c.memory_mib.value_or(0),
                          .memory_reservation_mib = c.memory_reservation_mib.value_or(0),
                          .port = port};
  if (c.stop_timeout_ms) out.stop_timeout_ms = *c.stop_timeout_ms;
  if (c.health_check) {
    out.health_check = exec::TaskHealthCheck{.command = c.health_check->command,
                                             .interval_ms = c.health_check->interval_ms,
                                             .timeout_ms = c.health_check->timeout_ms,
                                             .retries = c.health_check->retries,
                                             .start_period_ms = c.health_check->start_period_ms};
  }
  for (const ContainerDependency& d : c.depends_on) {
    out.depends_on.push_back(
        {.container = d.container_name, .condition = ConditionOf(d.condition)});
  }
  return out;
}

}  // namespace

exec::TaskLaunch LaunchFor(const TaskStart& start, const std::string& state_label) {
  const TaskSpec& task = *start.task;
  exec::TaskLaunch launch{
      .task_id = start.row.id,
      .service = start.row.service,
      .task_definition = (task.family.empty() ? start.row.service : task.family) + ":" +
                         std::to_string(start.row.revision),
      .network = NetworkOf(task.network_mode),
      .labels = {{"kiln.state", state_label}}};
  for (size_t i = 0; i < task.containers.size(); ++i) {
    const SecretValues none;
    launch.containers.push_back(ContainerFor(task.containers[i],
                                             i < start.secrets.size() ? start.secrets[i] : none,
                                             uint16_t(start.row.port)));
    if (launch.network == exec::TaskNetwork::kBridge) {
      Publish(task.containers[i], launch.containers.back());
    }
  }
  return launch;
}

std::optional<BridgeTarget> BridgeTargetOf(const TaskSpec& task) {
  if (task.network_mode != NetworkMode::kBridge || task.containers.empty()) return std::nullopt;
  const ContainerSpec& main = task.main();
  if (main.port_mappings.empty()) return std::nullopt;
  const PortMapping& m = main.port_mappings.front();
  return BridgeTarget{.container = main.name,
                      .port_key = std::to_string(m.container_port) + "/" + m.protocol};
}

int PublishedPort(const BridgeTarget& target, const exec::ContainerInfo& info) {
  auto it = info.published_ports.find(target.port_key);
  return it == info.published_ports.end() ? 0 : it->second;
}

}  // namespace kiln::deploy
