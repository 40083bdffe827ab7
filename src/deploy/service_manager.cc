#include "deploy/service_manager.h"

#include <boost/asio/post.hpp>
#include <future>

#include "base/ids.h"
#include "base/json_text.h"
#include "codebuild/build_containers.h"
#include "deploy/process_runtime.h"
#include "deploy/revision.h"
#include "deploy/swarm_service.h"
#include "deploy/task_launch.h"
#include "exec/docker_host.h"
#include "spec/kiln_config.h"
#include "store/service_store.h"
#include "store/store.h"

namespace kiln::deploy {
namespace {

using Json = nlohmann::json;

DeploymentOutcome Failed(const std::string& service, const std::string& id,
                         const std::string& why) {
  return {.deployment_id = id, .service = service, .rollout_state = "FAILED", .reason = why};
}

}  // namespace

ServiceManager::ServiceManager(boost::asio::io_context& loop, ServiceManagerOptions options,
                               std::unique_ptr<store::Store> store)
    : loop_(loop),
      options_(std::move(options)),
      store_(std::move(store)),
      service_store_(std::make_unique<store::ServiceStore>(store_->db())),
      bundles_(options_.state_dir / "services" / "bundles", options_.bundle_limits) {}

ServiceManager::~ServiceManager() {
  life_.reset();
  pool_.join();
  controllers_.clear();  // before the store they write to
}

base::Result<std::unique_ptr<ServiceManager>> ServiceManager::Create(
    boost::asio::io_context& loop, ServiceManagerOptions options) {
  if (!options.config) return base::InvalidInput("ServiceManager needs a config");
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir / "services", ec);
  if (ec) return base::IoError("mkdir " + options.state_dir.string(), ec.value());
  auto store = store::Store::Open((options.state_dir / "kiln.db").string());
  if (!store.ok()) return store.status();
  return std::unique_ptr<ServiceManager>(
      new ServiceManager(loop, std::move(options), std::move(*store)));
}

base::Status ServiceManager::Start() {
  for (const spec::Service& service : options_.config->services) {
    if (auto st = StartService(service); !st.ok()) return st;
  }
  return base::Status::Ok();
}

base::Result<std::unique_ptr<TaskRuntime>> ServiceManager::MakeRuntime(
    const ServiceSpec& spec, const std::filesystem::path& dir) {
  if (spec.provider == "process") {
    return std::unique_ptr<TaskRuntime>(std::make_unique<ProcessRuntime>(loop_, bundles_, dir));
  }
  auto endpoint = spec.engine.empty() ? exec::DockerEndpointFromEnvironment()
                                      : exec::ParseDockerHost(spec.engine);
  if (!endpoint.ok()) return endpoint.status();
  auto runtime = ContainerRuntime::Create({.loop = &loop_,
                                           .endpoint = *endpoint,
                                           .service = spec.name,
                                           .state_label = codebuild::StateLabel(options_.state_dir),
                                           .service_dir = dir,
                                           .pull_auth = options_.pull_auth});
  if (!runtime.ok()) return runtime.status();
  return std::unique_ptr<TaskRuntime>(std::move(*runtime));
}

// A service of a provider Kiln cannot run, or whose engine does not answer, is listed with
// the reason and runs nothing; a malformed one stops the start.
base::Status ServiceManager::StartService(const spec::Service& service) {
  const spec::KilnConfig& config = *options_.config;
  const spec::Cluster* cluster = config.FindCluster(service.cluster);
  std::string provider = cluster ? cluster->provider : "process";  // 'default' cluster
  if (provider != "process" && provider != "docker" && provider != "swarm") {
    not_run_[service.name] = "cluster " + service.cluster + " uses provider " + provider +
                             ", which Kiln does not run yet";
    return base::Status::Ok();
  }
  auto spec = ParseServiceSpec(service, cluster);
  if (!spec.ok()) return spec.status();
  ScaleTimings(*spec, options_.time_scale);
  ControllerContext context{.loop = &loop_,
                            .store = service_store_.get(),
                            .config = &config,
                            .service_dir = options_.state_dir / "services" / service.name,
                            .time_scale = options_.time_scale};
  if (provider != "process") {
    Json definition = Json::parse(service.definition_json, nullptr, false);
    if (definition.is_object() && definition.contains("taskDefinition"))
      context.initial_definition = base::JsonText(definition["taskDefinition"]);
  }
  providers_[service.name] = provider;
  std::unique_ptr<Service> runner;
  if (provider == "swarm") {
    auto swarm = MakeSwarmService(context, std::move(*spec));
    if (!swarm.ok()) {
      not_run_[service.name] = "cluster " + service.cluster + ": " + swarm.status().message();
      return base::Status::Ok();
    }
    runner = std::move(*swarm);
  } else {
    auto made = MakeController(context, std::move(*spec));
    if (!made.ok()) {
      if (made.status().kind() == base::ErrorKind::kInvalidInput ||
          made.status().kind() == base::ErrorKind::kUnsupported) {
        return base::Status(made.status().kind(),
                            "service " + service.name + ": " + made.status().message());
      }
      not_run_[service.name] = "cluster " + service.cluster + ": " + made.status().message();
      return base::Status::Ok();
    }
    runner = std::move(*made);
  }
  if (auto st = runner->Start(); !st.ok()) return st;
  controllers_[service.name] = std::move(runner);
  return base::Status::Ok();
}

base::Result<std::unique_ptr<Service>> ServiceManager::MakeSwarmService(ControllerContext context,
                                                                        ServiceSpec spec) {
  auto endpoint = exec::ParseDockerHost(spec.engine);
  if (!endpoint.ok()) return endpoint.status();
  auto swarm = SwarmService::Create(std::move(context), std::move(spec), *endpoint,
                                    codebuild::StateLabel(options_.state_dir), options_.pull_auth);
  if (!swarm.ok()) return swarm.status();
  return std::unique_ptr<Service>(std::move(*swarm));
}

// kInvalidInput / kUnsupported: the task definition cannot run on the provider; other errors:
// the provider is not there (its engine does not answer).
base::Result<std::unique_ptr<Service>> ServiceManager::MakeController(ControllerContext context,
                                                                      ServiceSpec spec) {
  auto runtime = MakeRuntime(spec, context.service_dir);
  if (!runtime.ok()) return runtime.status();
  if (auto st = (*runtime)->Check(spec.task); !st.ok()) return st;
  return std::unique_ptr<Service>(
      std::make_unique<ServiceController>(context, std::move(spec), std::move(*runtime)));
}

base::Result<Json> ServiceManager::NextDefinition(const std::string& service,
                                                  const DeployInput& input) {
  auto overrides = ParseImageFile(input.image_file);
  if (!overrides.ok()) return overrides.status();
  Json definition =
      Json::parse(options_.config->FindService(service)->definition_json, nullptr, false);
  Json configured =
      definition.is_object() ? definition.value("taskDefinition", Json::object()) : Json::object();
  Json previous;
  int64_t current = controllers_.at(service)->PrimaryRevision();
  if (current > 0) {
    auto row = service_store_->GetRevision(service, current);
    if (row.ok() && *row) previous = Json::parse((*row)->task_definition, nullptr, false);
  }
  return NextTaskDefinition(configured, previous.is_object() ? &previous : nullptr, *overrides);
}

base::Result<std::string> ServiceManager::Deploy(const std::string& service,
                                                 const DeployInput& input,
                                                 OnDeploymentDone on_done) {
  auto it = controllers_.find(service);
  if (it == controllers_.end()) {
    auto why = not_run_.find(service);
    return base::NotFound(why != not_run_.end() ? why->second
                                                : "no service named '" + service + "'");
  }
  if (shut_down_) return base::Status(base::ErrorKind::kFailed, "the services are shutting down");
  if (input.revision > 0) {
    return it->second->StartDeployment(input.revision, std::move(on_done), "", input.timeout_ms);
  }
  auto next = NextDefinition(service, input);
  if (!next.ok()) return next.status();
  std::string id = base::NewUuid();
  ImportAndDeploy(service, id, std::move(*next), input, std::move(on_done));
  return id;
}

// Bundles are hashed and unpacked on the pool (blocking work never stalls the loop); the
// revision is recorded and rolled out back on the loop.
void ServiceManager::ImportAndDeploy(const std::string& service, const std::string& id, Json next,
                                     const DeployInput& input, OnDeploymentDone on_done) {
  auto finish = [this, life = std::weak_ptr<int>(life_), service, id, on_done,
                 timeout_ms = input.timeout_ms](Json next, std::string error) {
    if (!life.lock()) return;
    auto revision = error.empty() ? service_store_->AddRevision(service, base::JsonText(next))
                                  : base::Result<int64_t>(base::InvalidInput(error));
    auto started = revision.ok() ? controllers_.at(service)->StartDeployment(*revision, on_done, id,
                                                                             timeout_ms)
                                 : base::Result<std::string>(revision.status());
    if (!started.ok() && on_done) on_done(Failed(service, id, started.status().message()));
  };
  bool bundles = providers_[service] == "process";  // an engine's images are its own
  boost::asio::post(
      pool_, [this, next = std::move(next), dir = input.artifact_dir, finish, bundles]() mutable {
        std::string error;
        for (size_t index : bundles ? UnresolvedContainers(next) : std::vector<size_t>{}) {
          Json& container = next["containerDefinitions"][index];
          auto hash = bundles_.Import(container.value("image", ""), dir);
          if (!hash.ok()) {
            error = "container " + container.value("name", "") + ": " + hash.status().message();
            break;
          }
          container["imageDigest"] = "sha256:" + *hash;
        }
        boost::asio::post(loop_, [finish, next = std::move(next), error] { finish(next, error); });
      });
}

base::Result<std::vector<TaskLog>> ServiceManager::TaskLogs(const std::string& service) const {
  if (!controllers_.contains(service)) {
    auto why = not_run_.find(service);
    return base::NotFound(why != not_run_.end() ? why->second
                                                : "no service named '" + service + "'");
  }
  return controllers_.at(service)->TaskLogs();
}

base::Result<TaskLog> ServiceManager::FindTaskLog(const std::string& service,
                                                  const std::string& task) const {
  auto logs = TaskLogs(service);
  if (!logs.ok()) return logs.status();
  auto found = deploy::FindTaskLog(*logs, task);
  if (!found.ok())
    return base::Status(found.status().kind(),
                        "service " + service + ": " + found.status().message());
  return found;
}

base::Result<std::string> ServiceManager::Rollback(const std::string& service,
                                                   OnDeploymentDone on_done) {
  auto it = controllers_.find(service);
  if (it == controllers_.end()) return base::NotFound("no service named '" + service + "'");
  return it->second->Rollback(std::move(on_done));
}

base::Status ServiceManager::Scale(const std::string& service, int desired) {
  auto it = controllers_.find(service);
  if (it == controllers_.end()) return base::NotFound("no service named '" + service + "'");
  return it->second->Scale(desired);
}

Json ServiceManager::ServicesJson() const {
  Json services = Json::array();
  for (const spec::Service& s : options_.config->services) {
    if (auto one = ServiceJson(s.name); one.ok()) services.push_back(*one);
  }
  return {{"services", services}};
}

base::Result<Json> ServiceManager::ServiceJson(const std::string& name) const {
  if (auto it = controllers_.find(name); it != controllers_.end()) return it->second->Describe();
  if (auto it = not_run_.find(name); it != not_run_.end()) {
    return Json{{"serviceName", name}, {"status", "INACTIVE"}, {"statusReason", it->second}};
  }
  return base::NotFound("no service named '" + name + "'");
}

void ServiceManager::Shutdown(std::function<void()> done) {
  shut_down_ = true;
  auto left = std::make_shared<size_t>(controllers_.size());
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  if (*left == 0) return (*shared_done)();
  for (auto& [name, controller] : controllers_) {
    controller->Shutdown([left, shared_done] {
      if (--*left == 0 && *shared_done) (*shared_done)();
    });
  }
}

DeploymentOutcome ServiceManager::DeployAndWait(ServiceManager& manager,
                                                boost::asio::io_context& loop,
                                                const std::string& service,
                                                const DeployInput& input, int64_t timeout_ms) {
  auto promise = std::make_shared<std::promise<DeploymentOutcome>>();
  auto future = promise->get_future();
  boost::asio::post(loop, [&manager, service, input, promise] {
    auto id = manager.Deploy(service, input,
                             [promise](const DeploymentOutcome& o) { promise->set_value(o); });
    if (!id.ok()) promise->set_value(Failed(service, "", id.status().message()));
  });
  if (future.wait_for(std::chrono::milliseconds(timeout_ms)) == std::future_status::timeout) {
    return Failed(
        service, "",
        "the deployment did not finish within " + std::to_string(timeout_ms / 1000) + " s");
  }
  return future.get();
}

}  // namespace kiln::deploy
