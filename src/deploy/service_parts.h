// ServiceController's records of its tasks and deployments, shared by its .cc files only.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "deploy/service_controller.h"

namespace kiln::deploy {

struct ServiceController::Task {
  // state PROVISIONING | RUNNING | DEACTIVATING | STOPPING (STOPPED ones are erased)
  store::TaskRow row;
  std::unique_ptr<TaskHealth> health;
  bool registered = false;      // with the load balancer
  bool stop_requested = false;  // while PROVISIONING: stop once started
  std::string stop_reason;

  bool stopping() const { return row.state == "DEACTIVATING" || row.state == "STOPPING"; }
  bool healthy() const { return !stopping() && row.health == "HEALTHY"; }
};

struct ServiceController::Deployment {
  store::DeploymentRow row;
  OnDeploymentDone on_done;
  std::unique_ptr<boost::asio::steady_timer> timeout;
  bool in_progress() const { return row.rollout_state == "IN_PROGRESS"; }
};

}  // namespace kiln::deploy
