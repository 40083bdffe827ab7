// A task's health (ECS healthStatus): the container healthCheck of its essential container
// and, behind a load balancer, the target group's check, run periodically on the loop.
//   container check (ECS): every interval, a run that fails or exceeds timeout is a failure;
//     `retries` consecutive failures make it UNHEALTHY; failures inside startPeriod do not
//     count, a success there does; one success makes it HEALTHY.
//   balancer check (ELB): healthyThreshold consecutive successes make it HEALTHY,
//     unhealthyThreshold consecutive failures UNHEALTHY; failures inside
//     healthCheckGracePeriodSeconds do not count (ECS).
//   the task: UNHEALTHY if any check is, HEALTHY when all are, else UNKNOWN. With no check
//     configured, a task is HEALTHY once it has run for 1 s (Kiln's rule).
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deploy/service_spec.h"

namespace kiln::deploy {

enum class Health { kUnknown, kHealthy, kUnhealthy };
const char* HealthName(Health health);  // UNKNOWN | HEALTHY | UNHEALTHY

struct TaskHealthOptions {
  uint16_t port = 0;
  std::optional<ContainerHealthCheck> container;
  // The container check is run elsewhere (an engine runs it) and reported by SetContainer;
  // `container` is then ignored.
  bool external_container = false;
  std::optional<BalancerHealthCheck> balancer;
  int64_t grace_period_ms = 0;           // healthCheckGracePeriodSeconds
  int64_t started_ago_ms = 0;            // how long the task has already run (adopted tasks)
  std::vector<std::string> command_env;  // for the container check command
  std::string command_cwd;
};

// Loop affinity: created, called back and destroyed on the loop. Destroying it stops every
// check; no callback follows.
class TaskHealth {
 public:
  // on_change(health, reason): reason explains the newest failure, e.g. "health check
  // failed: GET /api/health-check answered 500".
  using OnChange = std::function<void(Health, const std::string& reason)>;
  TaskHealth(boost::asio::io_context& loop, TaskHealthOptions options, OnChange on_change);
  ~TaskHealth();
  TaskHealth(const TaskHealth&) = delete;
  TaskHealth& operator=(const TaskHealth&) = delete;

  Health health() const;
  // The external container check's verdict (options.external_container).
  void SetContainer(Health health, const std::string& reason);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace kiln::deploy
