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
      .network = task.network_mode == NetworkMode::kNone ? exec::TaskNetwork::kNone
                                                         : exec::TaskNetwork::kHost,
      .labels = {{"kiln.state", state_label}}};
  for (size_t i = 0; i < task.containers.size(); ++i) {
    const SecretValues none;
    launch.containers.push_back(ContainerFor(task.containers[i],
                                             i < start.secrets.size() ? start.secrets[i] : none,
                                             uint16_t(start.row.port)));
  }
  return launch;
}

}  // namespace kiln::deploy
