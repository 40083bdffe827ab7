// ServiceController's records of its tasks and deployments, shared by its .cc files only.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "deploy/service_controller.h"

namespace kiln::deploy {

struct ServiceController::Task {
  store::TaskRow row;  // state RUNNING | DEACTIVATING | STOPPING (STOPPED ones are erased)
  std::unique_ptr<ProcessWatch> watch;
  std::unique_ptr<TaskHealth> health;
  std::unique_ptr<boost::asio::steady_timer> kill_timer;
  bool registered = false;  // with the load balancer
  std::string stop_reason;

  bool stopping() const { return row.state != "RUNNING"; }
  bool healthy() const { return !stopping() && row.health == "HEALTHY"; }
};

struct ServiceController::Deployment {
  store::DeploymentRow row;
  OnDeploymentDone on_done;
  std::unique_ptr<boost::asio::steady_timer> timeout;
  bool in_progress() const { return row.rollout_state == "IN_PROGRESS"; }
};

}  // namespace kiln::deploy
