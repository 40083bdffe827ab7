// A service on a `provider: swarm` cluster (issue 12): Swarm schedules, rolls and rolls back;
// Kiln records revisions and deployments, turns each revision into the Swarm service's spec
// (swarm_plan.h), reads the service's update status and tasks back into the same
// DescribeServices answer as its own services, and keeps its load balancer's targets in step
// with the running tasks (each registered once the balancer's health check passes, drained
// when Swarm stops it). Swarm's own update is the deployment: failure_action rollback is the
// circuit breaker, and a rolled-back update is a FAILED deployment whose rollback revision is
// the one Swarm went back to.
//
// Watching: the engine's events, no steady poll: container events for the service's tasks, and
// the manager's service events (its update state: "completed" comes when the monitor period
// ends, which no container event marks). Each event has the service read, and read again a
// few times shortly after (swarm_service_watch.cc says why). Engine calls run on the
// service's pool.
//
// Timeout: a deployment that has not reached a steady state within the deploy action's
// DeploymentTimeout or kiln.yml's deploymentTimeout fails, and Swarm rolls the service back to
// its previous spec (update with rollback=previous); the rollback is the next deployment.
//
// Task output: the service's log stream is kept in its tasks' log files (swarm_logs.h), served
// as the other providers' are.
//
// Shutdown leaves the Swarm service running: the cluster keeps serving without Kiln; the next
// server adopts it (by name) and its deployments from the store.
#pragma once

#include <boost/asio/post.hpp>
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
                                            const std::string& id = "",
                                            int64_t timeout_ms = 0) override;
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
    std::unique_ptr<boost::asio::steady_timer> timeout;  // while IN_PROGRESS
    bool rollback = false;                               // Swarm's return to a revision
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
  std::string Record(int64_t revision, OnDeploymentDone on_done, const std::string& id,
                     int64_t timeout_ms = 0);
  void Refresh();
  void OnObserved(Observed observed);
  void SyncTargets(const std::vector<exec::SwarmTask>& tasks);
  void Judge();
  void Finish(Deployment& d, bool ok, const std::string& reason, int64_t rollback_revision = 0);
  // swarm_service_watch.cc
  base::Status Watch();
  void OnNews();
  void ArmEcho();
  void ArmTimeout(Deployment& d, int64_t action_timeout_ms);
  void TimedOut(const std::string& id, int64_t action_timeout_ms);
  void RollBackTo(int64_t revision, exec::SwarmServiceSpec current);
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
  boost::asio::steady_timer echo_;  // the re-reads after an event
  int echo_step_ = 0;
  boost::asio::thread_pool pool_{2};
  std::unique_ptr<exec::EngineEventStream> events_;          // the tasks' containers
  std::unique_ptr<exec::EngineEventStream> service_events_;  // the manager's
  std::unique_ptr<SwarmTaskOutput> logs_;                    // once the Swarm service is there
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

// Runs work on the pool and then(result) back on the loop, unless the service is gone.
template <typename Work, typename Then>
void SwarmService::Offload(Work work, Then then) {
  boost::asio::post(pool_, [this, life = std::weak_ptr<int>(life_), work = std::move(work),
                            then = std::move(then)]() mutable {
    auto result = work();
    boost::asio::post(*ctx_.loop,
                      [life, then = std::move(then), result = std::move(result)]() mutable {
                        if (life.lock()) then(std::move(result));
                      });
  });
}

}  // namespace kiln::deploy
