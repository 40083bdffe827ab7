// One service of kiln.yml as the ServiceManager drives it, whatever runs it: Kiln's own
// scheduler (ServiceController: the process and docker providers) or a cluster that schedules
// by itself (SwarmService: Swarm's rolling update and rollback).
//
// Loop affinity: every method on the loop; callbacks on the loop.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "deploy/task_logs.h"

namespace kiln::deploy {

struct DeploymentOutcome {
  std::string deployment_id;
  std::string service;
  int64_t revision = 0;
  bool succeeded = false;
  std::string rollout_state;      // COMPLETED | FAILED
  std::string reason;             // why it failed (or "")
  int64_t rollback_revision = 0;  // the revision a rollback went back to, if one started
};
using OnDeploymentDone = std::function<void(const DeploymentOutcome&)>;

class Service {
 public:
  virtual ~Service() = default;
  // Loads the service's state and takes over what already runs. kIo if its LB cannot bind.
  virtual base::Status Start() = 0;
  // Makes revision the primary deployment and rolls it out; one in progress is superseded.
  // timeout_ms > 0: the deploy action's DeploymentTimeout; the deployment fails (and is rolled
  // back) when it has not reached a steady state by then or by kiln.yml's deploymentTimeout,
  // whichever comes first.
  virtual base::Result<std::string> StartDeployment(int64_t revision, OnDeploymentDone on_done,
                                                    const std::string& id = "",
                                                    int64_t timeout_ms = 0) = 0;
  // A new deployment of the newest COMPLETED revision other than the primary's.
  virtual base::Result<std::string> Rollback(OnDeploymentDone on_done) = 0;
  virtual base::Status Scale(int desired) = 0;
  // Stops what the server runs for the service; then done.
  virtual void Shutdown(std::function<void()> done) = 0;
  virtual int64_t PrimaryRevision() const = 0;
  virtual nlohmann::json Describe() const = 0;  // DescribeServices' shape
  // The logs of its newest kMaxLogTasks tasks that have one (stopped ones too), newest-started
  // last.
  virtual base::Result<std::vector<TaskLog>> TaskLogs() const = 0;
};

}  // namespace kiln::deploy
