// The deploy layer's front door (DESIGN.md "Deploy"): every service of kiln.yml on the
// `process` provider, with ECS's verbs: deploy (a new revision from imagedefinitions.json or
// imageDetail.json, or an existing revision), rollback, scale, describe, and a graceful
// shutdown. State lives in <state>/kiln.db (store/service_store.h) and <state>/services/:
//   services/bundles/<sha256>/          unpacked bundles, one per content hash
//   services/<service>/tasks/<id>/      a task's own copy of its bundle (its working dir)
//   services/<service>/tasks/<id>.log   its stdout and stderr
//
// Loop affinity: Create, every method and every callback on the loop thread (the server's
// one io_context), except DeployAndWait, which is for other threads. Destroying the manager
// without Shutdown leaves tasks running, as a crash would; the next Start adopts them.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "deploy/bundle_store.h"
#include "deploy/container_runtime.h"
#include "deploy/service_controller.h"
#include "deploy/task_logs.h"

namespace kiln::store {
class Store;
class ServiceStore;
}  // namespace kiln::store

namespace kiln::deploy {

struct ServiceManagerOptions {
  std::filesystem::path state_dir;
  const spec::KilnConfig* config = nullptr;  // borrowed; must outlive the manager
  // Multiplies health-check intervals, timeouts and start periods, grace periods, the
  // deregistration delay and restart back-off. Tests use 0.1; kiln.yml's seconds keep their
  // meaning at 1.0.
  double time_scale = 1.0;
  // What one deploy bundle may unpack to (kiln.yml server.limits.bundle_bytes,
  // server.limits.bundle_entries).
  BundleLimits bundle_limits;
  // The docker provider's pulls and the swarm provider's service create and update (sent as
  // X-Registry-Auth): the registry login for an image (kiln.yml's registry).
  PullAuth pull_auth;
};

struct DeployInput {
  std::string image_file;              // imagedefinitions.json or imageDetail.json text; or
  int64_t revision = 0;                // > 0: deploy this existing revision again
  std::filesystem::path artifact_dir;  // where relative imageUris are found
  // > 0: the deploy action's DeploymentTimeout (Service::StartDeployment).
  int64_t timeout_ms = 0;
};

class ServiceManager {
 public:
  // Opens <state>/kiln.db. Nothing starts until Start.
  static base::Result<std::unique_ptr<ServiceManager>> Create(boost::asio::io_context& loop,
                                                              ServiceManagerOptions options);
  ~ServiceManager();

  // Loads the services of the process provider, starts their load balancers, adopts their
  // running tasks and brings each back to its primary revision and desired count. A service
  // on another provider is listed as not run. kIo if a load balancer cannot bind.
  base::Status Start();

  // Starts a deployment and returns its id at once. Images are imported off the loop; then a
  // revision is recorded and rolled out. on_done (on the loop) gets the outcome at steady
  // state or failure (circuit breaker, deploymentTimeout, bad bundle, superseded).
  // kNotFound for an unknown service; kInvalidInput for a bad image file or unknown
  // container names (named in the message).
  base::Result<std::string> Deploy(const std::string& service, const DeployInput& input,
                                   OnDeploymentDone on_done);
  // Deploys the newest COMPLETED revision other than the current one. kNotFound if none.
  base::Result<std::string> Rollback(const std::string& service, OnDeploymentDone on_done);
  base::Status Scale(const std::string& service, int desired);

  nlohmann::json ServicesJson() const;  // {"services": [...]}
  base::Result<nlohmann::json> ServiceJson(const std::string& name) const;

  // The logs of the service's newest kMaxLogTasks tasks that still have one (STOPPED ones
  // too), newest-started last. kNotFound for a service this manager does not run.
  base::Result<std::vector<TaskLog>> TaskLogs(const std::string& service) const;
  // One task's log, by id or unique prefix (task_logs.h's FindTaskLog): kInvalidInput for a
  // malformed id, kNotFound for an unknown service or a task without a log.
  base::Result<TaskLog> FindTaskLog(const std::string& service, const std::string& task) const;

  // Stops every task of every service (drain, SIGTERM, SIGKILL after stopTimeout) and the
  // load balancers, then calls done on the loop. Deploy fails afterwards.
  void Shutdown(std::function<void()> done);

  // For callers on other threads (the pipeline's ECS action runs on a worker thread): posts
  // Deploy to the loop and blocks until its outcome or timeout_ms (then FAILED "timed out";
  // the deployment itself goes on). The loop must be running on another thread.
  static DeploymentOutcome DeployAndWait(ServiceManager& manager, boost::asio::io_context& loop,
                                         const std::string& service, const DeployInput& input,
                                         int64_t timeout_ms);

 private:
  ServiceManager(boost::asio::io_context& loop, ServiceManagerOptions options,
                 std::unique_ptr<store::Store> store);
  void ImportAndDeploy(const std::string& service, const std::string& id, nlohmann::json next,
                       const DeployInput& input, OnDeploymentDone on_done);
  base::Result<nlohmann::json> NextDefinition(const std::string& service, const DeployInput& input);
  base::Status StartService(const spec::Service& service);
  base::Result<std::unique_ptr<Service>> MakeSwarmService(ControllerContext context,
                                                          ServiceSpec spec);
  base::Result<std::unique_ptr<Service>> MakeController(ControllerContext context,
                                                        ServiceSpec spec);
  base::Result<std::unique_ptr<TaskRuntime>> MakeRuntime(const ServiceSpec& spec,
                                                         const std::filesystem::path& dir);

  boost::asio::io_context& loop_;
  ServiceManagerOptions options_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::ServiceStore> service_store_;
  BundleStore bundles_;
  std::map<std::string, std::unique_ptr<Service>> controllers_;
  std::map<std::string, std::string> not_run_;    // service -> why
  std::map<std::string, std::string> providers_;  // service -> process | docker
  bool shut_down_ = false;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
  boost::asio::thread_pool pool_{1};  // bundle imports; joined first on destruction
};

}  // namespace kiln::deploy
