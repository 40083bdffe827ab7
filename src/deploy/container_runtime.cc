#include "deploy/container_runtime.h"

#include <sys/stat.h>

#include <boost/asio/post.hpp>
#include <set>

#include "base/ids.h"
#include "deploy/task_logs.h"

namespace kiln::deploy {
namespace {

namespace fs = std::filesystem;
constexpr size_t kMaxContainers = 10;  // ECS: a task definition has at most 10

base::Status Failed(std::string message) {
  return base::Status(base::ErrorKind::kFailed, std::move(message));
}

Health HealthOf(exec::HealthStatus status) {
  switch (status) {
    case exec::HealthStatus::kHealthy:
      return Health::kHealthy;
    case exec::HealthStatus::kUnhealthy:
      return Health::kUnhealthy;
    case exec::HealthStatus::kNone:
    case exec::HealthStatus::kStarting:
      break;
  }
  return Health::kUnknown;
}

int EssentialExitCode(const exec::TaskState& state) {
  for (const exec::TaskContainerState& c : state.containers) {
    if (c.essential && c.status == exec::ContainerStatus::kExited) return c.exit_code;
  }
  return -1;
}

// Where an adopted task's log resumes: the second of the file's last write (a line written in
// that second may appear twice; none is lost).
int64_t LogResumeTime(const fs::path& log) {
  struct stat st {};
  return ::stat(log.c_str(), &st) == 0 ? int64_t(st.st_mtim.tv_sec) : 0;
}

}  // namespace

ContainerRuntime::ContainerRuntime(ContainerRuntimeOptions options, exec::DockerClient client)
    : options_(std::move(options)), client_(std::move(client)) {}

ContainerRuntime::~ContainerRuntime() {
  life_.reset();
  events_.reset();
  pool_.join();
  live_.clear();  // log followers: aborted and joined
}

base::Result<std::unique_ptr<ContainerRuntime>> ContainerRuntime::Create(
    ContainerRuntimeOptions options) {
  auto client = exec::DockerClient::Connect(options.endpoint);
  if (!client.ok()) return client.status();
  std::unique_ptr<ContainerRuntime> runtime(
      new ContainerRuntime(std::move(options), std::move(*client)));
  ContainerRuntime* self = runtime.get();
  auto to_loop = [self, life = std::weak_ptr<int>(self->life_)](auto fn) {
    boost::asio::post(*self->options_.loop, [life, fn = std::move(fn)] {
      if (life.lock()) fn();
    });
  };
  auto events = exec::EngineEventStream::Start(
      {.endpoint = self->options_.endpoint,
       .labels = {{exec::kServiceLabel, self->options_.service},
                  {"kiln.state", self->options_.state_label}}},
      [self, to_loop](const exec::EngineEvent& e) {
        to_loop([self, e] { self->OnEngineEvent(e); });
      },
      [](const base::Status&) {}, [self, to_loop] { to_loop([self] { self->ReadAll(); }); });
  if (!events.ok()) return events.status();
  runtime->events_ = std::move(*events);
  return runtime;
}

template <typename Work, typename Then>
void ContainerRuntime::Offload(Work work, Then then) {
  boost::asio::post(pool_, [this, life = std::weak_ptr<int>(life_), work = std::move(work),
                            then = std::move(then)]() mutable {
    auto result = work();
    boost::asio::post(*options_.loop,
                      [life, then = std::move(then), result = std::move(result)]() mutable {
                        if (life.lock()) then(std::move(result));
                      });
  });
}

base::Status ContainerRuntime::Check(const TaskSpec& task) const {
  if (task.containers.empty() || task.containers.size() > kMaxContainers) {
    return base::InvalidInput("a task definition has 1 to 10 containers");
  }
  for (const ContainerSpec& c : task.containers) {
    if (c.image.empty()) return base::InvalidInput("container " + c.name + " has no image");
  }
  return base::Status::Ok();
}

void ContainerRuntime::ContainerCheck(const TaskStart& start, TaskHealthOptions& options) const {
  for (const ContainerSpec& c : start.task->containers) {
    if (c.essential && c.health_check) options.external_container = true;
  }
}

base::Status ContainerRuntime::EnsureImage(const std::string& image) const {
  auto info = client_.InspectImage(image);
  if (info.ok()) return base::Status::Ok();
  if (info.status().kind() != base::ErrorKind::kNotFound) {
    return Failed("CannotPullContainerError: " + info.status().message());
  }
  auto auth = options_.pull_auth ? options_.pull_auth(image) : std::nullopt;
  auto pulled = client_.PullImage(image, auth, [](const exec::ProgressEvent&) {});
  if (!pulled.ok()) {
    return Failed("CannotPullContainerError: pull image " + image + ": " + pulled.message());
  }
  return base::Status::Ok();
}

void ContainerRuntime::Prepare(const TaskSpec& task, std::function<void(base::Status)> done) {
  std::vector<std::string> images;
  for (const ContainerSpec& c : task.containers) images.push_back(c.image);
  Offload(
      [this, images, bridge = task.network_mode == NetworkMode::kBridge] {
        if (bridge) {
          if (auto st = EnsureNetwork(exec::TaskNetwork::kBridge); !st.ok()) return st;
        }
        for (const std::string& image : images) {
          if (auto st = EnsureImage(image); !st.ok()) return st;
        }
        return base::Status::Ok();
      },
      std::move(done));
}

void ContainerRuntime::Start(TaskStart start, Started started) {
  std::string id = start.row.id;
  std::error_code ec;
  fs::create_directories(start.log_path.parent_path(), ec);
  live_[id] = Live{.phase = Phase::kStarting, .log_path = start.log_path};
  exec::TaskLaunch launch = LaunchFor(start, options_.state_label);
  Offload([this, launch, target = BridgeTargetOf(*start.task)] { return Launch(launch, target); },
          [this, id, started](base::Result<Launched> result) {
            if (!result.ok()) {
              live_.erase(id);
              return started(result.status());
            }
            Running(id, result->containers, 0);
            started(TaskIdentity{.port = result->port});
            Read(id);  // a container that exited before the events could say so
          });
}

// On the pool: the task's network and images, its containers, and in bridge mode the port the
// engine published for the load balancer's target.
base::Result<ContainerRuntime::Launched> ContainerRuntime::Launch(
    const exec::TaskLaunch& launch, const std::optional<BridgeTarget>& target) const {
  if (auto st = EnsureNetwork(launch.network); !st.ok()) return st;
  for (const exec::TaskContainer& c : launch.containers) {
    if (auto st = EnsureImage(c.image); !st.ok()) return st;
  }
  auto started = exec::StartTask(client_, launch);
  if (!started.ok()) return started.status();
  Launched out{.containers = std::move(*started)};
  if (!target) return out;
  for (const exec::StartedContainer& c : out.containers) {
    if (c.name != target->container) continue;
    auto info = client_.Inspect(c.id);
    out.port = info.ok() ? PublishedPort(*target, *info) : 0;
  }
  if (out.port == 0) {
    (void)exec::RemoveTask(client_, launch.task_id);  // never a task the balancer cannot reach
    return Failed("CannotStartContainerError: the engine published no host port for container " +
                  target->container + " " + target->port_key);
  }
  return out;
}

// ECS bridge mode needs the engine's bridge network, which Kiln never creates: an engine
// started with --bridge=none (the test engines, CI hosts without iptables) has none.
base::Status ContainerRuntime::EnsureNetwork(exec::TaskNetwork network) const {
  if (network != exec::TaskNetwork::kBridge) return base::Status::Ok();
  auto has = client_.HasNetwork("bridge");
  if (!has.ok()) return Failed("CannotStartContainerError: " + has.status().message());
  if (*has) return base::Status::Ok();
  return Failed(
      "CannotStartContainerError: networkMode bridge needs the engine's bridge network, and "
      "this engine has none (dockerd --bridge=none); use networkMode host");
}

void ContainerRuntime::Running(const std::string& task_id,
                               const std::vector<exec::StartedContainer>& started,
                               int64_t logs_since) {
  Live& live = live_[task_id];
  live.phase = Phase::kRunning;
  if (live.log_path.empty()) live.log_path = TaskLogPath(options_.service_dir, task_id);
  std::vector<TaskOutput::Container> containers;
  for (const auto& c : started) containers.push_back({.name = c.name, .id = c.id});
  live.logs = std::make_unique<TaskOutput>(client_, live.log_path, containers, logs_since);
}

void ContainerRuntime::OnEngineEvent(const exec::EngineEvent& event) {
  auto task = event.attributes.find(exec::kTaskLabel);
  if (task == event.attributes.end()) return;
  auto it = live_.find(task->second);
  if (it == live_.end() || it->second.phase != Phase::kRunning) return;
  using Kind = exec::EngineEvent::Kind;
  switch (event.kind) {
    case Kind::kDie:
    case Kind::kOom:
    case Kind::kDestroy:
    case Kind::kHealthy:
    case Kind::kUnhealthy:
      return Read(task->second);
    default:
      return;
  }
}

void ContainerRuntime::ReadAll() {
  for (const auto& [id, live] : live_) {
    if (live.phase == Phase::kRunning) Read(id);
  }
}

void ContainerRuntime::Read(const std::string& task_id) {
  Offload(
      [this, task_id] { return exec::ReadTask(client_, task_id); },
      [this, task_id](base::Result<exec::TaskState> state) { OnRead(task_id, std::move(state)); });
}

void ContainerRuntime::OnRead(const std::string& task_id, base::Result<exec::TaskState> state) {
  auto it = live_.find(task_id);
  if (it == live_.end() || it->second.phase != Phase::kRunning) return;
  if (!state.ok()) {
    if (state.status().kind() != base::ErrorKind::kNotFound) return;  // the next read decides
    return Ended(task_id, {.exit_code = -1, .reason = "Task stopped: its containers are gone"});
  }
  switch (state->verdict) {
    case exec::TaskVerdict::kStopped:
      return Ended(task_id,
                   {.exit_code = EssentialExitCode(*state), .reason = state->stopped_reason});
    case exec::TaskVerdict::kUnhealthy:
      return ReportHealth(task_id, Health::kUnhealthy, state->stopped_reason);
    case exec::TaskVerdict::kPending:
    case exec::TaskVerdict::kRunning:
      return ReportHealth(task_id, HealthOf(state->health), "container health check failed");
  }
}

void ContainerRuntime::ReportHealth(const std::string& task_id, Health health,
                                    const std::string& reason) {
  Live& live = live_[task_id];
  if (live.health == health) return;
  live.health = health;
  if (listener_.health) listener_.health(task_id, health, reason);
}

void ContainerRuntime::Ended(const std::string& task_id, const TaskExit& exit) {
  live_[task_id].phase = Phase::kGone;
  if (listener_.exited) listener_.exited(task_id, exit);
}

void ContainerRuntime::Stop(const store::TaskRow& row, int64_t grace_ms) {
  auto it = live_.find(row.id);
  if (it == live_.end() || it->second.phase != Phase::kRunning) return;
  it->second.phase = Phase::kStopping;
  std::string id = row.id;
  Offload([this, id, grace_ms] { return exec::StopTask(client_, id, grace_ms); },
          [this, id](base::Status) {
            auto it = live_.find(id);
            if (it == live_.end() || it->second.phase == Phase::kGone) return;
            Ended(id, {.exit_code = -1, .reason = "Task stopped by Kiln"});
          });
}

void ContainerRuntime::Release(const store::TaskRow& row) {
  live_.erase(row.id);  // its log followers end with its containers
  std::string id = row.id;
  Offload([this, id] { return exec::RemoveTask(client_, id); }, [](base::Status) {});
}

}  // namespace kiln::deploy

namespace kiln::deploy {

// On the pool: the engine's tasks of this service. A recorded task is alive while its verdict
// is not stopped; every other task of the service (stopped, or unknown to the store) goes.
struct ContainerRuntime::Census {
  std::vector<std::optional<exec::TaskState>> states;  // per row; nullopt: not alive
};

void ContainerRuntime::Adopt(std::vector<store::TaskRow> rows, Adopted adopted) {
  std::vector<std::string> ids;
  for (const auto& row : rows) ids.push_back(row.id);
  Offload(
      [this, ids] {
        Census census;
        auto listed = exec::ListTasks(client_, {{exec::kServiceLabel, options_.service},
                                                {"kiln.state", options_.state_label}});
        std::set<std::string> on_engine;
        if (listed.ok()) on_engine.insert(listed->begin(), listed->end());
        for (const std::string& id : ids) {
          auto state = on_engine.erase(id) ? exec::ReadTask(client_, id)
                                           : base::Result<exec::TaskState>(base::NotFound(id));
          bool alive = state.ok() && state->verdict != exec::TaskVerdict::kStopped;
          if (state.ok() && !alive) (void)exec::RemoveTask(client_, id);
          census.states.push_back(alive ? std::optional(std::move(*state)) : std::nullopt);
        }
        for (const std::string& orphan : on_engine) (void)exec::RemoveTask(client_, orphan);
        return census;
      },
      [this, ids, adopted](Census census) {
        std::vector<bool> alive;
        for (size_t i = 0; i < ids.size(); ++i) {
          alive.push_back(census.states[i].has_value());
          if (!alive.back()) continue;
          std::vector<exec::StartedContainer> containers;
          for (const auto& c : census.states[i]->containers)
            containers.push_back({.name = c.name, .id = c.id});
          fs::path log = TaskLogPath(options_.service_dir, ids[i]);
          live_[ids[i]].log_path = log;
          Running(ids[i], containers, LogResumeTime(log));
        }
        adopted(alive);
        for (size_t i = 0; i < ids.size(); ++i) {
          if (census.states[i]) OnRead(ids[i], std::move(*census.states[i]));
        }
      });
}

}  // namespace kiln::deploy
