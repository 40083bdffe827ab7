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

ContainerSpec ParseContainer(const Json& c) {
  ContainerSpec out{.name = Text(c, "name"),
                    .image = Text(c, "image"),
                    .image_digest = Text(c, "imageDigest"),
                    .entry_point = Strings(c, "entryPoint"),
                    .command = Strings(c, "command"),
                    .environment = Pairs(c, "environment", "value"),
                    .secrets = Pairs(c, "secrets", "valueFrom"),
                    .essential = !Member(c, "essential").is_boolean() || c["essential"].get<bool>(),
                    .working_directory = Text(c, "workingDirectory")};
  if (Member(c, "healthCheck").is_object())
    out.health_check = ParseContainerCheck(c["healthCheck"]);
  if (Member(c, "stopTimeout").is_number_integer())
    out.stop_timeout_ms = Int(c, "stopTimeout", 0) * 1000;
  return out;
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

base::Result<TaskSpec> ParseTaskDefinition(const nlohmann::json& task_definition) {
  TaskSpec task;
  for (const Json& c : Member(task_definition, "containerDefinitions")) {
    task.containers.push_back(ParseContainer(c));
  }
  if (task.containers.empty()) return base::InvalidInput("the task definition has no container");
  if (task.containers.size() > 1) {
    return base::Unsupported(
        "the process provider runs one container per task; this task "
        "definition has " +
        std::to_string(task.containers.size()));
  }
  const ContainerSpec& main = task.main();
  if (main.entry_point.empty() && main.command.empty()) {
    return base::InvalidInput("container '" + main.name +
                              "' needs a command or an entryPoint (the process provider has "
                              "no image default)");
  }
  return task;
}

base::Result<ServiceSpec> ParseServiceSpec(const spec::Service& service) {
  Json json = Json::parse(service.definition_json, nullptr, false);
  if (!json.is_object()) return base::InvalidInput("service " + service.name + ": bad definition");
  ServiceSpec spec{.name = service.name, .desired_count = service.desired_count};
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
