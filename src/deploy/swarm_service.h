// A service on a `provider: swarm` cluster (issue 12): Swarm schedules, rolls and rolls back;
// Kiln records revisions and deployments, turns each revision into the Swarm service's spec
// (swarm_plan.h), reads the service's update status and tasks back into the same
// DescribeServices answer as its own services, and keeps its load balancer's targets in step
// with the running tasks (each registered once the balancer's health check passes, drained
// when Swarm stops it). Swarm's own update is the deployment: failure_action rollback is the
// circuit breaker, and a rolled-back update is a FAILED deployment whose rollback revision is
// the one Swarm went back to.
//
// Watching: the engine's container events for the service's tasks, and while a deployment is
// in progress a read every second (Swarm says "completed" only when its monitor period ends,
// which no container event marks). Engine calls run on the service's pool.
//
// Task output: the service's log stream is kept in its tasks' log files (swarm_logs.h), served
// as the other providers' are.
//
// Shutdown leaves the Swarm service running: the cluster keeps serving without Kiln; the next
// server adopts it (by name) and its deployments from the store.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deploy/container_runtime.h"
#include "deploy/load_balancer.h"
#include "deploy/service.h"
#include "deploy/service_controller.h"
#include "deploy/swarm_logs.h"
#include "exec/engine_events.h"
#include "exec/swarm_client.h"

namespace kiln::deploy {

class SwarmService final : public Service {
 public:
  // pull_auth: the registry login for the service's image (called on the service's pool),
  // sent with the service's create and update so every node pulls with it.
  static base::Result<std::unique_ptr<SwarmService>> Create(ControllerContext context,
                                                            ServiceSpec spec,
                                                            exec::DockerEndpoint endpoint,
                                                            std::string state_label,
                                                            PullAuth pull_auth = {});
  ~SwarmService() override;

  base::Status Start() override;
  base::Result<std::string> StartDeployment(int64_t revision, OnDeploymentDone on_done,
                                            const std::string& id = "") override;
  base::Result<std::string> Rollback(OnDeploymentDone on_done) override;
  base::Status Scale(int desired) override;
  void Shutdown(std::function<void()> done) override;
  int64_t PrimaryRevision() const override;
  nlohmann::json Describe() const override;                      // swarm_service_state.cc
  base::Result<std::vector<TaskLog>> TaskLogs() const override;  // swarm_service_state.cc

 private:
  struct Deployment {
    store::DeploymentRow row;
    OnDeploymentDone on_done;
    int64_t applied_ns = 0;  // engine time floor: update status older than this is not ours
  };
  struct Target {
    int port = 0;
    int64_t slot = 0;
    std::unique_ptr<TaskHealth> health;
    bool registered = false;
    std::string health_text = "UNKNOWN";
  };
  struct Observed {
    base::Status status;
    std::optional<exec::SwarmServiceInfo> info;
    std::vector<exec::SwarmTask> tasks;
  };

  SwarmService(ControllerContext context, ServiceSpec spec, exec::DockerEndpoint endpoint,
               std::string state_label, exec::SwarmClient client, PullAuth pull_auth);
  std::optional<exec::RegistryAuth> LoginFor(const std::string& image) const;
  template <typename Work, typename Then>
  void Offload(Work work, Then then);
  // new_ports: a new port prefix (a deployment); else the current one (a scale).
  base::Result<exec::SwarmServiceSpec> PlanFor(int64_t revision, int desired, bool new_ports);
  void Apply(exec::SwarmServiceSpec spec, const std::string& deployment_id);
  std::string Record(int64_t revision, OnDeploymentDone on_done, const std::string& id);
  void Refresh();
  void OnObserved(Observed observed);
  void SyncTargets(const std::vector<exec::SwarmTask>& tasks);
  void Judge();
  void Finish(Deployment& d, bool ok, const std::string& reason, int64_t rollback_revision = 0);
  void ArmPoll();
  void Adopt(const exec::SwarmServiceInfo& info);
  void FollowLogs();
  void DeployInitial();
  void Event(const std::string& message);
  void Save(Deployment& d);
  int RunningHealthy() const;
  Deployment* Primary() { return deployments_.empty() ? nullptr : &deployments_.front(); }

  ControllerContext ctx_;
  ServiceSpec spec_;
  exec::DockerEndpoint endpoint_;
  std::string state_label_;
  exec::SwarmClient client_;
  PullAuth pull_auth_;
  int desired_ = 0;
  int port_prefix_ = 0;
  std::string service_id_;
  std::unique_ptr<LoadBalancer> lb_;
  std::vector<Deployment> deployments_;  // [0] is PRIMARY
  std::optional<exec::SwarmServiceInfo> info_;
  std::vector<exec::SwarmTask> tasks_;  // the last read
  std::map<std::string, Target> targets_;
  std::string not_running_;
  bool refreshing_ = false, refresh_again_ = false, shut_down_ = false;
  boost::asio::steady_timer poll_;
  boost::asio::thread_pool pool_{2};
  std::unique_ptr<exec::EngineEventStream> events_;
  std::unique_ptr<SwarmTaskOutput> logs_;  // once the Swarm service is there
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace kiln::deploy
