#include "deploy/service_common.h"

#include <algorithm>
#include <chrono>

#include "base/ids.h"

namespace kiln::deploy {

base::Result<int> DesiredCount(store::ServiceStore& store, const ServiceSpec& spec) {
  auto saved = store.GetDesiredCount(spec.name);
  if (!saved.ok()) return saved.status();
  // A Scale holds until kiln.yml's desiredCount itself changes.
  if (*saved && (*saved)->config_desired == spec.desired_count) return int((*saved)->desired);
  return spec.desired_count;
}

base::Result<std::unique_ptr<LoadBalancer>> StartBalancer(boost::asio::io_context& loop,
                                                          const ServiceSpec& spec) {
  if (!spec.load_balancer) return std::unique_ptr<LoadBalancer>();
  return LoadBalancer::Start(
      loop, {.listen = spec.load_balancer->listen,
             .mode = spec.load_balancer->http ? LoadBalancerOptions::Mode::kHttp
                                              : LoadBalancerOptions::Mode::kTcp,
             .deregistration_delay_ms = spec.load_balancer->deregistration_delay_ms});
}

nlohmann::json DeploymentJson(const store::DeploymentRow& row) {
  return {{"id", row.id},
          {"status", row.status},
          {"taskDefinition", row.revision},
          {"desiredCount", row.desired_count},
          {"failedTasks", row.failed_tasks},
          {"rolloutState", row.rollout_state},
          {"rolloutStateReason", row.reason},
          {"createdAt", base::IsoTime(row.created_ms)},
          {"updatedAt", base::IsoTime(row.updated_ms)}};
}

nlohmann::json EventsJson(store::ServiceStore& store, const std::string& service) {
  nlohmann::json events = nlohmann::json::array();
  if (auto rows = store.Events(service, 50); rows.ok()) {
    for (const auto& e : *rows) {
      events.push_back(
          {{"id", e.seq}, {"createdAt", base::IsoTime(e.at_ms)}, {"message", e.message}});
    }
  }
  return events;
}

int64_t DeploymentLimitMs(int64_t action_timeout_ms, int64_t service_timeout_ms) {
  if (action_timeout_ms <= 0) return service_timeout_ms;
  return std::min(action_timeout_ms, service_timeout_ms);
}

// ECS: "... deployment failed: ... did not reach a steady state" (CodePipeline's ECS action
// names its own limit DeploymentTimeout; kiln.yml's is the service's deploymentTimeout).
std::string TimedOutReason(int64_t action_timeout_ms, int64_t service_timeout_ms) {
  bool action = action_timeout_ms > 0 && action_timeout_ms < service_timeout_ms;
  int64_t ms = action ? action_timeout_ms : service_timeout_ms;
  return std::string("did not reach a steady state within ") +
         (action ? "the action's DeploymentTimeout (" : "deploymentTimeout (") +
         std::to_string(ms / 1000) + " s)";
}

int64_t EngineNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace kiln::deploy
