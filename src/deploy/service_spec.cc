#include "deploy/service_spec.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "base/json_text.h"
#include "spec/kiln_config.h"

namespace kiln::deploy {
namespace {

using Json = nlohmann::json;

const Json& Member(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

int64_t Int(const Json& object, const char* key, int64_t fallback) {
  const Json& v = Member(object, key);
  return v.is_number_integer() ? v.get<int64_t>() : fallback;
}

std::string Text(const Json& object, const char* key, const std::string& fallback = "") {
  const Json& v = Member(object, key);
  return v.is_string() ? v.get<std::string>() : fallback;
}

std::vector<std::string> Strings(const Json& object, const char* key) {
  std::vector<std::string> out;
  for (const Json& item : Member(object, key)) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> Pairs(const Json& object, const char* key,
                                                       const char* value_key) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Json& item : Member(object, key)) {
    out.emplace_back(Text(item, "name"), Text(item, value_key));
  }
  return out;
}

// Kiln's durations: an integer of seconds or a string such as "90s" (base::ParseDuration).
base::Result<int64_t> Duration(const Json& object, const char* key, int64_t fallback) {
  const Json& v = Member(object, key);
  if (v.is_null()) return fallback;
  std::string text = v.is_string() ? v.get<std::string>() : base::JsonText(v);
  auto ms = base::ParseDuration(text);
  if (!ms.ok()) return base::InvalidInput(std::string(key) + ": " + ms.status().message());
  return *ms;
}

ContainerHealthCheck ParseContainerCheck(const Json& check) {
  return {.command = Strings(check, "command"),
          .interval_ms = Int(check, "interval", 30) * 1000,
          .timeout_ms = Int(check, "timeout", 5) * 1000,
          .retries = int(Int(check, "retries", 3)),
          .start_period_ms = Int(check, "startPeriod", 0) * 1000};
}

std::optional<int64_t> OptionalInt(const Json& object, const char* key) {
  const Json& v = Member(object, key);
  if (v.is_number_integer()) return v.get<int64_t>();
  return std::nullopt;
}

uint16_t Port(const Json& object, const char* key) {
  return uint16_t(std::clamp<int64_t>(Int(object, key, 0), 0, 65535));
}

std::vector<PortMapping> ParsePortMappings(const Json& c) {
  std::vector<PortMapping> out;
  for (const Json& m : Member(c, "portMappings")) {
    out.push_back({.container_port = Port(m, "containerPort"),
                   .host_port = Port(m, "hostPort"),
                   .protocol = Text(m, "protocol", "tcp"),
                   .name = Text(m, "name")});
  }
  return out;
}

base::Result<std::vector<ContainerDependency>> ParseDependsOn(const Json& c) {
  using Condition = ContainerDependency::Condition;
  static const std::pair<const char*, Condition> kConditions[] = {
      {"START", Condition::kStart},
      {"COMPLETE", Condition::kComplete},
      {"SUCCESS", Condition::kSuccess},
      {"HEALTHY", Condition::kHealthy}};
  std::vector<ContainerDependency> out;
  for (const Json& d : Member(c, "dependsOn")) {
    std::string text = Text(d, "condition");
    auto it = std::find_if(std::begin(kConditions), std::end(kConditions),
                           [&](const auto& p) { return text == p.first; });
    if (it == std::end(kConditions)) {
      return base::InvalidInput("container '" + Text(c, "name") + "': dependsOn condition '" +
                                text + "' is not START, COMPLETE, SUCCESS or HEALTHY");
    }
    out.push_back({.container_name = Text(d, "containerName"), .condition = it->second});
  }
  return out;
}

std::optional<LogConfiguration> ParseLogConfiguration(const Json& c) {
  const Json& log = Member(c, "logConfiguration");
  if (!log.is_object()) return std::nullopt;
  LogConfiguration out{.log_driver = Text(log, "logDriver")};
  const Json& options = Member(log, "options");
  if (options.is_object()) {
    for (const auto& [key, value] : options.items()) {
      out.options.emplace_back(
          key, value.is_string() ? value.get<std::string>() : base::JsonText(value));
    }
  }
  return out;
}

base::Result<ContainerSpec> ParseContainer(const Json& c) {
  ContainerSpec out{.name = Text(c, "name"),
                    .image = Text(c, "image"),
                    .image_digest = Text(c, "imageDigest"),
                    .entry_point = Strings(c, "entryPoint"),
                    .command = Strings(c, "command"),
                    .environment = Pairs(c, "environment", "value"),
                    .secrets = Pairs(c, "secrets", "valueFrom"),
                    .essential = !Member(c, "essential").is_boolean() || c["essential"].get<bool>(),
                    .working_directory = Text(c, "workingDirectory"),
                    .port_mappings = ParsePortMappings(c),
                    .cpu = OptionalInt(c, "cpu"),
                    .memory_mib = OptionalInt(c, "memory"),
                    .memory_reservation_mib = OptionalInt(c, "memoryReservation"),
                    .log_configuration = ParseLogConfiguration(c),
                    .user = Text(c, "user")};
  if (Member(c, "healthCheck").is_object())
    out.health_check = ParseContainerCheck(c["healthCheck"]);
  if (Member(c, "stopTimeout").is_number_integer())
    out.stop_timeout_ms = Int(c, "stopTimeout", 0) * 1000;
  auto depends_on = ParseDependsOn(c);
  if (!depends_on.ok()) return depends_on.status();
  out.depends_on = std::move(*depends_on);
  return out;
}

base::Result<NetworkMode> ParseNetworkMode(const Json& task) {
  const Json& mode = Member(task, "networkMode");
  if (mode.is_null()) return NetworkMode::kUnset;
  std::string text = mode.is_string() ? mode.get<std::string>() : base::JsonText(mode);
  if (text == "bridge") return NetworkMode::kBridge;
  if (text == "host") return NetworkMode::kHost;
  if (text == "awsvpc") return NetworkMode::kAwsvpc;
  if (text == "none") return NetworkMode::kNone;
  return base::InvalidInput("networkMode '" + text + "' is not bridge, host, awsvpc or none");
}

// ECS's task cpu and memory: an integer, or a string as RegisterTaskDefinition takes it.
base::Result<std::optional<int64_t>> TaskSize(const Json& task, const char* key, bool cpu) {
  const Json& v = Member(task, key);
  if (v.is_null()) return std::optional<int64_t>();
  if (v.is_number_integer()) return std::optional<int64_t>(v.get<int64_t>());
  std::string text = v.is_string() ? v.get<std::string>() : base::JsonText(v);
  auto size = cpu ? spec::ParseTaskCpu(text) : spec::ParseTaskMemory(text);
  if (!size) return base::InvalidInput(std::string(key) + " '" + text + "' is not a task size");
  return size;
}

base::Status ParseTaskFields(const Json& task, TaskSpec& out) {
  auto mode = ParseNetworkMode(task);
  if (!mode.ok()) return mode.status();
  auto cpu = TaskSize(task, "cpu", true);
  if (!cpu.ok()) return cpu.status();
  auto memory = TaskSize(task, "memory", false);
  if (!memory.ok()) return memory.status();
  out.family = Text(task, "family");
  out.network_mode = *mode;
  out.cpu = *cpu;
  out.memory_mib = *memory;
  out.requires_compatibilities = Strings(task, "requiresCompatibilities");
  out.execution_role_arn = Text(task, "executionRoleArn");
  out.task_role_arn = Text(task, "taskRoleArn");
  return base::Status::Ok();
}

LoadBalancerSpec ParseBalancer(const Json& lb) {
  const Json& check = Member(lb, "healthCheck");
  LoadBalancerSpec out{.listen = Text(lb, "listen"),
                       .http = Text(lb, "mode", "http") == "http",
                       .deregistration_delay_ms = Int(lb, "deregistrationDelay", 300) * 1000};
  out.health_check = {.http = out.http,
                      .path = Text(check, "path", "/"),
                      .matcher = Text(check, "matcher", "200"),
                      .body = Text(check, "body"),
                      .interval_ms = Int(check, "interval", 30) * 1000,
                      .timeout_ms = Int(check, "timeout", 5) * 1000,
                      .healthy_threshold = int(Int(check, "healthyThreshold", 5)),
                      .unhealthy_threshold = int(Int(check, "unhealthyThreshold", 2))};
  return out;
}

base::Status ParseTimings(const Json& json, ServiceSpec& spec) {
  auto timeout = Duration(json, "deploymentTimeout", spec.deployment_timeout_ms);
  if (!timeout.ok()) return timeout.status();
  auto stop = Duration(json, "stopTimeout", spec.stop_timeout_ms);
  if (!stop.ok()) return stop.status();
  spec.deployment_timeout_ms = *timeout;
  spec.stop_timeout_ms = *stop;
  spec.health_check_grace_period_ms = Int(json, "healthCheckGracePeriodSeconds", 0) * 1000;
  return base::Status::Ok();
}

int64_t Scaled(int64_t ms, double factor) { return static_cast<int64_t>(double(ms) * factor); }

}  // namespace

int ServiceSpec::MinHealthyTasks(int desired) const {
  return (desired * minimum_healthy_percent + 99) / 100;
}

int ServiceSpec::MaxTasks(int desired) const { return desired * maximum_percent / 100; }

int ServiceSpec::FailureThreshold(int desired) const {
  if (circuit_breaker.threshold > 0) return circuit_breaker.threshold;
  return std::clamp((desired + 1) / 2, 3, 200);
}

const ContainerSpec& TaskSpec::main() const {
  auto it = std::find_if(containers.begin(), containers.end(),
                         [](const ContainerSpec& c) { return c.essential; });
  return it != containers.end() ? *it : containers.front();
}

const ContainerSpec* TaskSpec::Find(const std::string& name) const {
  auto it = std::find_if(containers.begin(), containers.end(),
                         [&](const ContainerSpec& c) { return c.name == name; });
  return it != containers.end() ? &*it : nullptr;
}

base::Result<TaskSpec> ParseTaskDefinition(const nlohmann::json& task_definition) {
  TaskSpec task;
  for (const Json& c : Member(task_definition, "containerDefinitions")) {
    auto container = ParseContainer(c);
    if (!container.ok()) return container.status();
    task.containers.push_back(std::move(*container));
  }
  if (task.containers.empty()) return base::InvalidInput("the task definition has no container");
  if (auto st = ParseTaskFields(task_definition, task); !st.ok()) return st;
  return task;
}

base::Result<ServiceSpec> ParseServiceSpec(const spec::Service& service,
                                           const spec::Cluster* cluster) {
  Json json = Json::parse(service.definition_json, nullptr, false);
  if (!json.is_object()) return base::InvalidInput("service " + service.name + ": bad definition");
  ServiceSpec spec{.name = service.name, .desired_count = service.desired_count};
  if (cluster) {
    spec.provider = cluster->provider;
    spec.engine = cluster->engine;
  }
  const Json& config = Member(json, "deploymentConfiguration");
  spec.minimum_healthy_percent = int(Int(config, "minimumHealthyPercent", 100));
  spec.maximum_percent = int(Int(config, "maximumPercent", 200));
  const Json& breaker = Member(config, "deploymentCircuitBreaker");
  spec.circuit_breaker = {
      .enable = Member(breaker, "enable") == true,
      .rollback = Member(breaker, "rollback") == true,
      .threshold = int(std::clamp<int64_t>(Int(breaker, "threshold", 0), 0, 5000))};
  if (auto st = ParseTimings(json, spec); !st.ok()) {
    return base::InvalidInput("service " + service.name + ": " + st.message());
  }
  if (Member(json, "loadBalancer").is_object())
    spec.load_balancer = ParseBalancer(json["loadBalancer"]);
  auto task = ParseTaskDefinition(Member(json, "taskDefinition"));
  if (!task.ok()) {
    return base::Status(task.status().kind(),
                        "service " + service.name + ": " + task.status().message());
  }
  spec.task = std::move(*task);
  return spec;
}

void ScaleTimings(ServiceSpec& spec, double factor) {
  spec.health_check_grace_period_ms = Scaled(spec.health_check_grace_period_ms, factor);
  if (spec.load_balancer) {
    auto& lb = *spec.load_balancer;
    lb.deregistration_delay_ms = Scaled(lb.deregistration_delay_ms, factor);
    lb.health_check.interval_ms = Scaled(lb.health_check.interval_ms, factor);
    lb.health_check.timeout_ms = Scaled(lb.health_check.timeout_ms, factor);
  }
  ScaleTimings(spec.task, factor);
}

void ScaleTimings(TaskSpec& task, double factor) {
  for (ContainerSpec& c : task.containers) {
    if (!c.health_check) continue;
    c.health_check->interval_ms = Scaled(c.health_check->interval_ms, factor);
    c.health_check->timeout_ms = Scaled(c.health_check->timeout_ms, factor);
    c.health_check->start_period_ms = Scaled(c.health_check->start_period_ms, factor);
  }
}

}  // namespace kiln::deploy
