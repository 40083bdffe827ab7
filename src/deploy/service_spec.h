// A service's definition as the deploy layer uses it, typed: parsed from spec::Service's
// definition_json (ECS CreateService + RegisterTaskDefinition field names, already validated
// by spec/kiln_config_service.cc) and from a revision's task definition JSON.
// All durations are milliseconds here; kiln.yml's integers are seconds where ECS uses seconds.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kiln::spec {
struct Service;
struct Cluster;
}  // namespace kiln::spec

namespace kiln::deploy {

// ECS container healthCheck. Defaults as ECS: interval 30 s, timeout 5 s, retries 3,
// startPeriod 0.
struct ContainerHealthCheck {
  std::vector<std::string> command;  // ["CMD", program, args...] or ["CMD-SHELL", "text"]
  int64_t interval_ms = 30'000;
  int64_t timeout_ms = 5'000;
  int retries = 3;
  int64_t start_period_ms = 0;  // failures inside it do not count; a success does
};

// ECS PortMapping. host_port 0: a dynamic port in bridge mode (ECS leaves it out for host and
// awsvpc, where the task has the container's port itself).
struct PortMapping {
  uint16_t container_port = 0;
  uint16_t host_port = 0;
  std::string protocol = "tcp";  // tcp | udp
  std::string name;
};

// ECS dependsOn: START started, COMPLETE exited, SUCCESS exited 0, HEALTHY healthy.
struct ContainerDependency {
  enum class Condition { kStart, kComplete, kSuccess, kHealthy };
  std::string container_name;
  Condition condition = Condition::kStart;
};

// ECS logConfiguration, kept as written: Kiln writes every task's output to its own task log
// whichever driver is named (spec accepts ECS's drivers: json-file, awslogs, syslog, ...).
struct LogConfiguration {
  std::string log_driver;
  std::vector<std::pair<std::string, std::string>> options;
};

struct ContainerSpec {
  std::string name;
  std::string image;         // as written: a bundle path, an absolute path or a file:// URL
  std::string image_digest;  // "sha256:<hex>" of the unpacked bundle, once a revision has one
  std::vector<std::string> entry_point, command;
  std::vector<std::pair<std::string, std::string>> environment;
  std::vector<std::pair<std::string, std::string>> secrets;  // name, valueFrom
  std::optional<ContainerHealthCheck> health_check;
  bool essential = true;
  std::string working_directory;  // process provider: relative to the task's copy of the bundle
  std::optional<int64_t> stop_timeout_ms;
  std::vector<PortMapping> port_mappings;
  std::optional<int64_t> cpu;                     // CPU shares (ECS units)
  std::optional<int64_t> memory_mib;              // hard limit
  std::optional<int64_t> memory_reservation_mib;  // soft limit
  std::vector<ContainerDependency> depends_on;
  std::optional<LogConfiguration> log_configuration;
  std::string user;  // ECS/Docker: user, user:group, uid, uid:gid; empty: the image's
};

// ECS networkMode. kUnset: not written; ECS then uses bridge, and Kiln lets the provider
// choose: the host's network (process, docker and swarm alike). kBridge (docker provider): the
// engine's bridge network, portMappings published on 127.0.0.1 (container_runtime.h).
// awsvpc (Fargate's, and the Cruddur task definitions') gives ECS tasks their own address;
// Kiln runs it like host: the task has containerPort itself (spec checks hostPort as ECS does).
enum class NetworkMode { kUnset, kBridge, kHost, kAwsvpc, kNone };

// A revision's task definition: 1 to 10 containers (ECS). The process provider runs one
// container per task and refuses more (CheckProcessTask, task_launch.h).
struct TaskSpec {
  std::vector<ContainerSpec> containers;
  std::string family;
  NetworkMode network_mode = NetworkMode::kUnset;
  std::optional<int64_t> cpu;         // task CPU units ("256", "0.25 vCPU" -> 256)
  std::optional<int64_t> memory_mib;  // task memory ("512", "1 GB" -> 1024)
  std::vector<std::string> requires_compatibilities;
  std::string execution_role_arn, task_role_arn;  // accepted, unused: Kiln has no IAM

  // The first essential container (spec requires one), else the first.
  const ContainerSpec& main() const;
  const ContainerSpec* Find(const std::string& name) const;
};

// Kiln's load balancer health check, with ELB target-group names and defaults (interval 30 s,
// timeout 5 s, healthy threshold 5, unhealthy threshold 2, matcher 200, path /).
struct BalancerHealthCheck {
  bool http = true;  // false: mode tcp, the check is that a connection opens
  std::string path = "/";
  std::string matcher = "200";  // "200", "200,202", "200-299"
  std::string body;             // when set, the response body must contain it
  int64_t interval_ms = 30'000;
  int64_t timeout_ms = 5'000;
  int healthy_threshold = 5;
  int unhealthy_threshold = 2;
};

struct LoadBalancerSpec {
  std::string listen;  // host:port
  bool http = true;    // mode http | tcp
  BalancerHealthCheck health_check;
  int64_t deregistration_delay_ms = 300'000;  // ELB's default
};

struct CircuitBreakerSpec {
  bool enable = false;
  bool rollback = false;
  int threshold = 0;  // 0: ECS's rule (see FailureThreshold); `threshold:` overrides it
};

struct ServiceSpec {
  std::string name;
  std::string provider = "process";  // the cluster's: process | docker | swarm | ecs
  std::string engine;                // docker and swarm: unix:///... of the engine
  int desired_count = 1;
  int minimum_healthy_percent = 100;
  int maximum_percent = 200;
  CircuitBreakerSpec circuit_breaker;
  int64_t deployment_timeout_ms = 30 * 60'000;
  int64_t stop_timeout_ms = 30'000;  // ECS stopTimeout: SIGTERM, then SIGKILL after this
  int64_t health_check_grace_period_ms = 0;
  std::optional<LoadBalancerSpec> load_balancer;
  TaskSpec task;  // the task definition as kiln.yml has it (images not yet resolved)

  // ECS: minimumHealthyPercent of desired, rounded up; maximumPercent, rounded down.
  int MinHealthyTasks(int desired) const;
  int MaxTasks(int desired) const;
  // ECS: 0.5 x desired (rounded up), clamped to [3, 200], unless threshold is set.
  int FailureThreshold(int desired) const;
};

// Parses the service; cluster (the service's, or null for the default process cluster) gives
// the provider and engine. kInvalidInput for malformed JSON or values (validation normally
// caught them) or a task definition without containers. Any number of containers is parsed:
// what a provider cannot run, it refuses where it consumes the spec.
base::Result<ServiceSpec> ParseServiceSpec(const spec::Service& service,
                                           const spec::Cluster* cluster = nullptr);
base::Result<TaskSpec> ParseTaskDefinition(const nlohmann::json& task_definition);

// Multiplies every health-check, grace-period and deregistration duration by factor (tests
// use 0.1 so kiln.yml's seconds become tenths).
void ScaleTimings(ServiceSpec& spec, double factor);
void ScaleTimings(TaskSpec& task, double factor);

}  // namespace kiln::deploy
