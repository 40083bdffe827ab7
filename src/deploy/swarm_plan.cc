#include "deploy/swarm_plan.h"

#include <algorithm>

namespace kiln::deploy {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;

exec::HealthcheckConfig HealthOf(const ContainerHealthCheck& c) {
  return {.test = c.command,
          .interval_ns = c.interval_ms * kNsPerMs,
          .timeout_ns = c.timeout_ms * kNsPerMs,
          .start_period_ns = c.start_period_ms * kNsPerMs,
          .retries = c.retries};
}

// ECS's percents as Swarm's batches: above 100 %, start-first in batches of the spare tasks
// (max - 100 % of desired); else stop-first in batches of what minimumHealthyPercent leaves
// free. At least one task per batch.
exec::SwarmUpdateConfig UpdateConfigOf(const ServiceSpec& s, const TaskSpec& task, int desired) {
  int spare = s.MaxTasks(desired) - desired;
  int free = desired - s.MinHealthyTasks(desired);
  int64_t batch = std::max(1, std::max(spare, free));
  int64_t monitor_ms = 5'000;
  if (const ContainerHealthCheck* h =
          task.main().health_check ? &*task.main().health_check : nullptr) {
    monitor_ms = h->start_period_ms + h->interval_ms * (h->retries + 1);
  }
  monitor_ms = std::max(monitor_ms, s.health_check_grace_period_ms);
  bool rollback = s.circuit_breaker.enable && s.circuit_breaker.rollback;
  if (spare > 0) batch = spare;
  return {.parallelism = batch,
          .failure_action =
              rollback ? exec::SwarmFailureAction::kRollback : exec::SwarmFailureAction::kPause,
          .monitor_ns = monitor_ms * kNsPerMs,
          .max_failure_ratio = 0,
          .order =
              spare > 0 ? exec::SwarmUpdateOrder::kStartFirst : exec::SwarmUpdateOrder::kStopFirst};
}

}  // namespace

int SlotPort(int prefix, int64_t slot) {
  return int(slot < 10 ? prefix * 10 + slot : prefix * 100 + slot);
}

int PortPrefixOf(const std::vector<std::string>& env) {
  constexpr std::string_view kTemplate = "{{.Task.Slot}}";
  for (const std::string& e : env) {
    if (!e.starts_with("PORT=") || !e.ends_with(kTemplate)) continue;
    std::string digits = e.substr(5, e.size() - 5 - kTemplate.size());
    if (digits.empty() || digits.size() > 3 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      return 0;
    }
    int prefix = std::stoi(digits);
    return prefix < kMinPortPrefix || prefix > kMaxPortPrefix ? 0 : prefix;
  }
  return 0;
}

int TaskPort(const std::vector<std::string>& env, int64_t slot) {
  int prefix = PortPrefixOf(env);
  return prefix == 0 || slot < 1 || slot > 99 ? 0 : SlotPort(prefix, slot);
}

int64_t RevisionOf(const exec::SwarmSpecSummary& spec) {
  auto it = spec.labels.find("kiln.revision");
  if (it == spec.labels.end() || it->second.empty() || it->second.size() > 12 ||
      it->second.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  return std::stoll(it->second);
}

std::string SwarmServiceName(const std::string& service) { return "kiln-" + service; }

base::Result<exec::SwarmServiceSpec> SwarmPlan(const SwarmPlanInput& in) {
  const TaskSpec& task = *in.task;
  if (task.containers.size() != 1) {
    return base::Status(base::ErrorKind::kUnsupported,
                        "a Swarm task runs one container; this task definition has " +
                            std::to_string(task.containers.size()));
  }
  if (in.desired > 99) {
    return base::Status(base::ErrorKind::kUnsupported,
                        "a Swarm service behind Kiln's ports runs at most 99 tasks");
  }
  if (in.port_prefix < kMinPortPrefix || in.port_prefix > kMaxPortPrefix) {
    return base::InvalidInput("port prefix out of range");
  }
  const ContainerSpec& c = task.containers[0];
  exec::SwarmServiceSpec spec{.name = SwarmServiceName(in.service->name),
                              .labels = {{"kiln.service", in.service->name},
                                         {"kiln.state", in.state_label},
                                         {"kiln.revision", std::to_string(in.revision)}},
                              .image = c.image,
                              .command = c.entry_point,
                              .args = c.command,
                              .init = true,
                              .replicas = in.desired,
                              .network = task.network_mode == NetworkMode::kNone
                                             ? exec::SwarmNetwork::kNone
                                             : exec::SwarmNetwork::kHost};
  for (const auto& [k, v] : c.environment) spec.env.push_back(k + "=" + v);
  spec.env.push_back("PORT=" + std::to_string(in.port_prefix) + "{{.Task.Slot}}");
  for (const auto& [k, v] : in.secrets) spec.secret_env[k] = v;
  if (c.health_check) spec.health_check = HealthOf(*c.health_check);
  if (c.cpu) spec.resources.nano_cpus_limit = *c.cpu * 1'000'000'000 / 1024;
  if (c.memory_mib) spec.resources.memory_bytes_limit = *c.memory_mib << 20;
  if (c.memory_reservation_mib)
    spec.resources.memory_bytes_reservation = *c.memory_reservation_mib << 20;
  spec.stop_grace_period_ns = c.stop_timeout_ms.value_or(in.service->stop_timeout_ms) * kNsPerMs;
  spec.update_config = UpdateConfigOf(*in.service, task, in.desired);
  spec.rollback_config = spec.update_config;
  spec.rollback_config.failure_action = exec::SwarmFailureAction::kPause;
  spec.restart_policy = {.condition = exec::SwarmRestartCondition::kAny,
                         .delay_ns = 1'000 * kNsPerMs};
  return spec;
}

}  // namespace kiln::deploy
