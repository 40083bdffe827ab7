// The docker provider's TaskRuntime (issue 12, AWS-CONTAINERS.md §3): a task is a group of
// containers on one Docker engine (exec/task_containers.h), started in dependsOn order with the
// task's loopback port in PORT (host networking: ECS's dynamic ports where there is no bridge),
// watched through the engine's event stream (exits and the engine-run container health checks,
// re-read after every reconnection), and found again after a restart by its labels
// (kiln.service, kiln.task, kiln.state). Images missing from the engine are pulled, with the
// registry login that pull_auth gives; a pull that fails stops the task with ECS's
// CannotPullContainerError.
//
// Engine calls block, so they run on the runtime's own pool; their results come back on the
// loop. Destroying the runtime leaves the containers running (the next runtime adopts them).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "deploy/container_logs.h"
#include "deploy/task_runtime.h"
#include "exec/docker_client.h"
#include "exec/engine_events.h"
#include "exec/task_containers.h"

namespace kiln::deploy {

// The registry login for pulling an image (nullopt: pull anonymously).
using PullAuth = std::function<std::optional<exec::RegistryAuth>(const std::string& image)>;

struct ContainerRuntimeOptions {
  boost::asio::io_context* loop = nullptr;
  exec::DockerEndpoint endpoint;
  std::string service;
  std::string state_label;            // kiln.state: which Kiln's containers these are
  std::filesystem::path service_dir;  // <state>/services/<name>: tasks/<id>.log
  PullAuth pull_auth;                 // called on the runtime's pool: must be thread-safe
};

// In bridge mode the load balancer's target is the host port the engine published for the
// main container's first port mapping (ECS: the service's containerName/containerPort).
struct BridgeTarget {
  std::string container;  // its name in the task definition
  std::string port_key;   // "80/tcp", as NetworkSettings.Ports names it
};

class ContainerRuntime final : public TaskRuntime {
 public:
  // Connects to the engine (kIo / kUnsupported as DockerClient::Connect) and subscribes to its
  // events for this service's containers.
  static base::Result<std::unique_ptr<ContainerRuntime>> Create(ContainerRuntimeOptions options);
  ~ContainerRuntime() override;

  void SetListener(Listener listener) override { listener_ = std::move(listener); }
  base::Status Check(const TaskSpec& task) const override;
  void ContainerCheck(const TaskStart& start, TaskHealthOptions& options) const override;
  void Prepare(const TaskSpec& task, std::function<void(base::Status)> done) override;
  void Start(TaskStart start, Started started) override;
  void Adopt(std::vector<store::TaskRow> rows, Adopted adopted) override;
  void Stop(const store::TaskRow& row, int64_t grace_ms) override;
  void Release(const store::TaskRow& row) override;

 private:
  enum class Phase { kStarting, kRunning, kStopping, kGone };
  struct Live {
    Phase phase = Phase::kStarting;
    Health health = Health::kUnknown;
    std::filesystem::path log_path;
    std::unique_ptr<TaskOutput> logs;
  };

  struct Census;
  ContainerRuntime(ContainerRuntimeOptions options, exec::DockerClient client);
  // On the pool; the result comes back through Post.
  template <typename Work, typename Then>
  void Offload(Work work, Then then);
  void OnEngineEvent(const exec::EngineEvent& event);
  void ReadAll();
  void Read(const std::string& task_id);
  void OnRead(const std::string& task_id, base::Result<exec::TaskState> state);
  void Running(const std::string& task_id, const std::vector<exec::StartedContainer>& started,
               int64_t logs_since);
  void Ended(const std::string& task_id, const TaskExit& exit);
  void ReportHealth(const std::string& task_id, Health health, const std::string& reason);
  base::Status EnsureImage(const std::string& image) const;
  base::Status EnsureNetwork(exec::TaskNetwork network) const;
  struct Launched {
    std::vector<exec::StartedContainer> containers;
    int port = 0;  // bridge mode: the published target port
  };
  base::Result<Launched> Launch(const exec::TaskLaunch& launch,
                                const std::optional<BridgeTarget>& target) const;

  ContainerRuntimeOptions options_;
  exec::DockerClient client_;
  Listener listener_;
  std::map<std::string, Live> live_;  // by task id; loop only
  boost::asio::thread_pool pool_{4};
  std::unique_ptr<exec::EngineEventStream> events_;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

// The engine's launch for a task (pure): containers, host, bridge or no network, labels, PORT,
// and in bridge mode the port mappings published on 127.0.0.1.
exec::TaskLaunch LaunchFor(const TaskStart& start, const std::string& state_label);

// nullopt outside bridge mode or when the main container maps no port.
std::optional<BridgeTarget> BridgeTargetOf(const TaskSpec& task);
// The published host port of target in the container's inspect; 0 when it has none.
int PublishedPort(const BridgeTarget& target, const exec::ContainerInfo& info);

}  // namespace kiln::deploy
