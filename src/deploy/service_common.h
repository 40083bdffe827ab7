// What every kind of Service (service.h) does the same way: its desired count across restarts,
// its load balancer, and the pieces of DescribeServices' answer.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "deploy/load_balancer.h"
#include "deploy/service_spec.h"
#include "store/service_store.h"

namespace kiln::deploy {

// kiln.yml's desiredCount, or the count a Scale set while kiln.yml's value has not changed.
base::Result<int> DesiredCount(store::ServiceStore& store, const ServiceSpec& spec);

// The service's load balancer, started; null when it has none. kIo if it cannot bind.
base::Result<std::unique_ptr<LoadBalancer>> StartBalancer(boost::asio::io_context& loop,
                                                          const ServiceSpec& spec);

// One deployments[] entry (without runningCount, which each kind counts its own way).
nlohmann::json DeploymentJson(const store::DeploymentRow& row);
// The service's newest events, newest first.
nlohmann::json EventsJson(store::ServiceStore& store, const std::string& service);

// The reason of a deployment that did not reach a steady state within its timeout (ECS's
// words), and that timeout: the action's (when > 0) or kiln.yml's deploymentTimeout.
int64_t DeploymentLimitMs(int64_t action_timeout_ms, int64_t service_timeout_ms);
std::string TimedOutReason(int64_t action_timeout_ms, int64_t service_timeout_ms);

// The wall clock in ns since the epoch, as the engine stamps events and update statuses.
int64_t EngineNowNs();

}  // namespace kiln::deploy
