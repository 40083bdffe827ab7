// One service's scheduler (ECS rolling update, deploymentController ECS): keeps its tasks at
// the desired count on the primary deployment's revision, rolls deployments out within
// minimumHealthyPercent / maximumPercent, replaces tasks that exit or turn unhealthy, trips
// the circuit breaker, rolls back, registers healthy tasks with the service's load balancer
// and drains them before they stop. Decisions are re-made in Reconcile() after every event.
//
// Loop affinity: every method on the loop; callbacks on the loop. Destroying it without
// Shutdown leaves the tasks running (as a crash would), to be adopted by the next Start.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "deploy/load_balancer.h"
#include "deploy/service.h"
#include "deploy/service_spec.h"
#include "deploy/task_health.h"
#include "deploy/task_runtime.h"
#include "store/service_store.h"

namespace kiln::spec {
struct KilnConfig;
}

namespace kiln::deploy {

struct ControllerContext {
  boost::asio::io_context* loop = nullptr;
  store::ServiceStore* store = nullptr;
  const spec::KilnConfig* config = nullptr;  // for container secrets
  std::filesystem::path service_dir;         // <state>/services/<name>
  double time_scale = 1.0;                   // see ServiceManagerOptions
  // A task definition with concrete images (the docker provider's kiln.yml images): with no
  // deployment yet, the service makes it revision 1 and deploys it at Start, as CreateService
  // does, once the runtime has the images. Empty: the first deploy brings the images.
  std::string initial_definition;
};

// A container's secrets resolved through kiln.yml's secrets and parameters (by name or ARN);
// ones that do not resolve are left out.
SecretValues ResolveContainerSecrets(const spec::KilnConfig* config, const ContainerSpec& c);

class ServiceController final : public Service {
 public:
  // runtime: the provider's (ProcessRuntime, ContainerRuntime); owned from now on.
  ServiceController(ControllerContext context, ServiceSpec spec,
                    std::unique_ptr<TaskRuntime> runtime);
  ~ServiceController() override;
  ServiceController(const ServiceController&) = delete;
  ServiceController& operator=(const ServiceController&) = delete;

  // Starts the load balancer (if configured), loads deployments, adopts the tasks recorded as
  // running whose process is still the same one, and reconciles. kIo if the LB cannot bind.
  base::Status Start() override;

  // Makes revision the primary deployment and rolls it out; a deployment in progress is
  // superseded (its on_done gets FAILED "superseded"). Returns the deployment id.
  base::Result<std::string> StartDeployment(int64_t revision, OnDeploymentDone on_done,
                                            const std::string& id = "",
                                            int64_t timeout_ms = 0) override;
  // A new deployment of the newest COMPLETED revision other than the primary's.
  base::Result<std::string> Rollback(OnDeploymentDone on_done) override;
  base::Status Scale(int desired) override;
  // Stops every task (drain, SIGTERM, SIGKILL after stopTimeout) and the LB; then done.
  void Shutdown(std::function<void()> done) override;

  // The revision the primary deployment runs (0: none yet).
  int64_t PrimaryRevision() const override;
  const std::string& name() const { return spec_.name; }
  nlohmann::json Describe() const override;                      // service_json.cc
  base::Result<std::vector<TaskLog>> TaskLogs() const override;  // service_json.cc

 private:
  struct Task;
  struct Deployment;

  // service_controller.cc: deciding.
  void Reconcile();
  void ScheduleReconcile(int64_t delay_ms);
  void CheckSteady();
  void RecordFailure(int64_t revision, const std::string& reason);
  void FailDeployment(Deployment& d, const std::string& reason);
  void StartRollbackFrom(int64_t failed_revision);
  void FinishDeployment(Deployment& d, bool ok);
  void Recorded(const base::Status& written, const std::string& what);
  void SaveDeployment(Deployment& d);
  void Event(const std::string& message);
  Deployment* Primary();
  const Deployment* Primary() const;
  base::Status LoadDeployments();
  void ArmTimeout(Deployment& d, int64_t action_timeout_ms = 0);
  void DeployInitial();

  // service_tasks.cc: doing, through runtime_.
  bool StartTask(int64_t revision);
  void OnStarted(const std::string& id, base::Result<TaskIdentity> started);
  void StopTask(Task& task, const std::string& reason);
  void Terminate(const std::string& id);
  void OnExit(const std::string& id, const TaskExit& exit);
  void Gone(const std::string& id, bool release, int64_t reconcile_in_ms);
  void OnHealth(const std::string& id, Health health, const std::string& reason);
  void OnContainerHealth(const std::string& id, Health health, const std::string& reason);
  void AdoptTasks();
  void Adopted(store::TaskRow row, bool alive);
  void WatchHealth(Task& task, int64_t started_ago_ms);
  void SaveTask(Task& task);
  TaskStart StartFor(const store::TaskRow& row, const TaskSpec& spec) const;
  base::Result<const TaskSpec*> RevisionSpec(int64_t revision);
  SecretValues ResolveSecrets(const ContainerSpec& c) const;
  int64_t Scaled(int64_t ms) const;

  ControllerContext ctx_;
  ServiceSpec spec_;
  std::unique_ptr<TaskRuntime> runtime_;
  bool adopting_ = false;    // until the runtime has said which recorded tasks still run
  std::string not_running_;  // why the service runs no tasks (its images), shown in Describe
  int desired_ = 0;
  std::unique_ptr<LoadBalancer> lb_;
  std::map<std::string, std::unique_ptr<Task>> tasks_;
  std::vector<std::unique_ptr<Deployment>> deployments_;  // [0] is PRIMARY; the rest ACTIVE
  std::map<int64_t, TaskSpec> revisions_;
  boost::asio::steady_timer reconcile_timer_;
  bool reconcile_pending_ = false;
  bool shutting_down_ = false;
  std::function<void()> on_shutdown_;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);  // callbacks hold a weak_ptr to it
};

}  // namespace kiln::deploy
