#include "deploy/swarm_service.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <random>

#include "base/ids.h"
#include "deploy/service_common.h"
#include "deploy/swarm_plan.h"

namespace kiln::deploy {
namespace {

bool PortFree(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(uint16_t(port));
  bool ok = s >= 0 && ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (s >= 0) ::close(s);
  return ok;
}

// A prefix other than `avoid` whose ports for the first `count` slots are free here now.
int PickPortPrefix(int count, int avoid) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(kMinPortPrefix, kMaxPortPrefix);
  for (int attempt = 0; attempt < 200; ++attempt) {
    int prefix = pick(rng);
    bool free = prefix != avoid;
    for (int slot = 1; free && slot <= count; ++slot) free = PortFree(SlotPort(prefix, slot));
    if (free) return prefix;
  }
  return kMinPortPrefix;
}

}  // namespace

SwarmService::SwarmService(ControllerContext context, ServiceSpec spec,
                           exec::DockerEndpoint endpoint, std::string state_label,
                           exec::SwarmClient client, PullAuth pull_auth)
    : ctx_(std::move(context)),
      spec_(std::move(spec)),
      endpoint_(std::move(endpoint)),
      state_label_(std::move(state_label)),
      client_(std::move(client)),
      pull_auth_(std::move(pull_auth)),
      echo_(*ctx_.loop) {}

std::optional<exec::RegistryAuth> SwarmService::LoginFor(const std::string& image) const {
  return pull_auth_ ? pull_auth_(image) : std::nullopt;
}

SwarmService::~SwarmService() {
  life_.reset();
  events_.reset();
  service_events_.reset();
  logs_.reset();
  pool_.join();
}

base::Result<std::unique_ptr<SwarmService>> SwarmService::Create(ControllerContext context,
                                                                 ServiceSpec spec,
                                                                 exec::DockerEndpoint endpoint,
                                                                 std::string state_label,
                                                                 PullAuth pull_auth) {
  auto engine = exec::DockerClient::Connect(endpoint);
  if (!engine.ok()) return engine.status();
  exec::SwarmClient client(std::move(*engine));
  auto info = client.Info();
  if (!info.ok()) return info.status();
  if (info->state != exec::SwarmNodeState::kActive || !info->control_available) {
    return base::Status(base::ErrorKind::kFailed,
                        "the engine is not a swarm manager (docker swarm init, or join as one)");
  }
  return std::unique_ptr<SwarmService>(new SwarmService(std::move(context), std::move(spec),
                                                        std::move(endpoint), std::move(state_label),
                                                        std::move(client), std::move(pull_auth)));
}

base::Status SwarmService::Start() {
  auto desired = DesiredCount(*ctx_.store, spec_);
  if (!desired.ok()) return desired.status();
  desired_ = *desired;
  auto lb = StartBalancer(*ctx_.loop, spec_);
  if (!lb.ok()) return lb.status();
  lb_ = std::move(*lb);
  auto rows = ctx_.store->Deployments(spec_.name, 50);
  if (!rows.ok()) return rows.status();
  for (const store::DeploymentRow& row : *rows) {
    if (row.status == "INACTIVE") continue;
    Deployment d{.row = row};
    if (row.status == "PRIMARY") {
      deployments_.insert(deployments_.begin(), std::move(d));
    } else {
      deployments_.push_back(std::move(d));
    }
  }
  // A deployment interrupted by a restart gets kiln.yml's full timeout again.
  for (Deployment& d : deployments_) {
    if (d.row.rollout_state == "IN_PROGRESS") ArmTimeout(d, 0);
  }
  if (auto st = Watch(); !st.ok()) return st;
  Offload(
      [this]() -> Observed {
        auto info = client_.InspectService(SwarmServiceName(spec_.name));
        if (!info.ok()) return {.status = info.status()};
        return {.info = std::move(*info)};
      },
      [this](Observed o) {
        if (o.info) return Adopt(*o.info);
        if (o.status.kind() != base::ErrorKind::kNotFound) {
          not_running_ = o.status.message();
          return Event("could not read its Swarm service: " + not_running_);
        }
        if (!Primary()) return DeployInitial();
        // The service was removed by hand: make it again.
        auto plan = PlanFor(Primary()->row.revision, desired_, true);
        if (!plan.ok()) return Event("cannot deploy its revision: " + plan.status().message());
        Apply(std::move(*plan), Primary()->row.id);
      });
  return base::Status::Ok();
}

// A Swarm service of this name made by another Kiln (another state dir) is left alone: this
// service runs nothing and says why, rather than taking over someone else's deployments.
void SwarmService::Adopt(const exec::SwarmServiceInfo& info) {
  auto owner = info.spec.labels.find("kiln.state");
  if (owner == info.spec.labels.end() || owner->second != state_label_) {
    not_running_ = "the Swarm service " + info.spec.name +
                   " belongs to another Kiln (or to no Kiln); remove it or rename this service";
    return Event("is unable to start its tasks: " + not_running_);
  }
  service_id_ = info.id;
  FollowLogs();
  port_prefix_ = PortPrefixOf(info.spec.env);
  Event("adopted Swarm service " + info.spec.name + " (revision " +
        std::to_string(RevisionOf(info.spec)) + ").");
  Refresh();
}

void SwarmService::FollowLogs() {
  if (logs_ || shut_down_) return;
  std::filesystem::path dir = ctx_.service_dir / "tasks";
  logs_ = std::make_unique<SwarmTaskOutput>(client_, SwarmServiceName(spec_.name), dir,
                                            NewestLogNs(dir));
}

void SwarmService::DeployInitial() {
  if (ctx_.initial_definition.empty()) {
    return Event("has no deployment yet: it runs no tasks until the first deploy");
  }
  auto task = ParseTaskDefinition(nlohmann::json::parse(ctx_.initial_definition, nullptr, false));
  if (!task.ok()) {
    not_running_ = task.status().message();
    return Event("is unable to start its tasks: " + not_running_);
  }
  // CreateService only once the manager has the image (or can pull it): Swarm would otherwise
  // keep retrying the pull on every node while the service runs nothing.
  Offload(
      [this, image = task->main().image]() -> base::Status {
        if (client_.engine().InspectImage(image).ok()) return base::Status::Ok();
        auto pulled = client_.engine().PullImage(image, LoginFor(image), [](const auto&) {});
        if (pulled.ok()) return pulled;
        return base::Status(base::ErrorKind::kFailed, "CannotPullContainerError: pull image " +
                                                          image + ": " + pulled.message());
      },
      [this](base::Status ready) {
        if (Primary()) return;
        if (!ready.ok()) {
          not_running_ = ready.message();
          return Event("is unable to start its tasks: " + not_running_);
        }
        auto revision = ctx_.store->AddRevision(spec_.name, ctx_.initial_definition);
        auto started = revision.ok() ? StartDeployment(*revision, nullptr)
                                     : base::Result<std::string>(revision.status());
        if (!started.ok()) {
          not_running_ = started.status().message();
          Event("is unable to start its tasks: " + not_running_);
        }
      });
}

base::Result<exec::SwarmServiceSpec> SwarmService::PlanFor(int64_t revision, int desired,
                                                           bool new_ports) {
  auto row = ctx_.store->GetRevision(spec_.name, revision);
  if (!row.ok()) return row.status();
  if (!*row)
    return base::NotFound("service " + spec_.name + " has no revision " + std::to_string(revision));
  auto task = ParseTaskDefinition(nlohmann::json::parse((*row)->task_definition, nullptr, false));
  if (!task.ok()) return task.status();
  ScaleTimings(*task, ctx_.time_scale);
  if (new_ports || port_prefix_ == 0) port_prefix_ = PickPortPrefix(desired, port_prefix_);
  return SwarmPlan({.service = &spec_,
                    .task = &*task,
                    .desired = desired,
                    .revision = revision,
                    .state_label = state_label_,
                    .secrets = ResolveContainerSecrets(ctx_.config, task->main()),
                    .port_prefix = port_prefix_});
}

base::Result<std::string> SwarmService::StartDeployment(int64_t revision, OnDeploymentDone on_done,
                                                        const std::string& id, int64_t timeout_ms) {
  if (shut_down_) return base::Status(base::ErrorKind::kFailed, "the service is shutting down");
  auto plan = PlanFor(revision, desired_, true);
  if (!plan.ok()) return plan.status();
  std::string recorded = Record(revision, std::move(on_done), id, timeout_ms);
  Apply(std::move(*plan), recorded);
  return recorded;
}

// Makes a deployment of revision the primary one (the old primary ACTIVE; superseded if it was
// still in progress) and records it; the caller makes Swarm run it, or Swarm already does.
std::string SwarmService::Record(int64_t revision, OnDeploymentDone on_done, const std::string& id,
                                 int64_t timeout_ms) {
  int64_t now = base::NowMillis();
  Deployment d{.row = {.id = id.empty() ? base::NewUuid() : id,
                       .service = spec_.name,
                       .revision = revision,
                       .status = "PRIMARY",
                       .rollout_state = "IN_PROGRESS",
                       .desired_count = desired_,
                       .created_ms = now,
                       .updated_ms = now},
               .on_done = std::move(on_done)};
  if (Deployment* old = Primary()) {
    old->row.status = "ACTIVE";
    if (old->row.rollout_state == "IN_PROGRESS") {
      Finish(*old, false, "superseded by deployment " + d.row.id);
    }
    Save(*old);
  }
  deployments_.insert(deployments_.begin(), std::move(d));
  Save(*Primary());
  ArmTimeout(*Primary(), timeout_ms);
  not_running_.clear();
  Event("(deployment " + Primary()->row.id + ") deployment started: revision " +
        std::to_string(revision) + ".");
  return Primary()->row.id;
}

// Creates the Swarm service, or updates it to the revision's spec. The manager bumps a new
// service's version by itself once, so an "update out of sequence" is retried once.
void SwarmService::Apply(exec::SwarmServiceSpec spec, const std::string& deployment_id) {
  if (Primary() && Primary()->row.id == deployment_id) Primary()->applied_ns = EngineNowNs();
  Offload(
      [this, spec = std::move(spec)]() -> base::Result<std::string> {
        auto login = LoginFor(spec.image);  // never logged: it goes in a header only
        for (int attempt = 0;; ++attempt) {
          auto info = client_.InspectService(spec.name);
          if (!info.ok() && info.status().kind() == base::ErrorKind::kNotFound) {
            return client_.CreateService(spec, login);
          }
          if (!info.ok()) return info.status();
          auto st = client_.UpdateService(info->id, info->version, spec, false, login);
          if (st.ok()) return info->id;
          if (attempt == 1 || st.message().find("out of sequence") == std::string::npos) return st;
        }
      },
      [this, deployment_id](base::Result<std::string> id) {
        Deployment* d = Primary();
        if (!id.ok()) {
          if (d && d->row.id == deployment_id && d->row.rollout_state == "IN_PROGRESS") {
            Finish(*d, false, "Swarm refused the service: " + id.status().message());
          }
          return;
        }
        service_id_ = *id;
        FollowLogs();
        OnNews();
      });
}

void SwarmService::Refresh() {
  if (service_id_.empty() || shut_down_) return;
  if (refreshing_) {
    refresh_again_ = true;
    return;
  }
  refreshing_ = true;
  Offload(
      [this, id = service_id_]() -> Observed {
        auto info = client_.InspectService(id);
        if (!info.ok()) return {.status = info.status()};
        auto tasks = client_.ListServiceTasks(id);
        if (!tasks.ok()) return {.status = tasks.status(), .info = std::move(*info)};
        return {.info = std::move(*info), .tasks = std::move(*tasks)};
      },
      [this](Observed o) { OnObserved(std::move(o)); });
}

void SwarmService::OnObserved(Observed o) {
  refreshing_ = false;
  if (o.status.ok() && o.info) {
    info_ = std::move(o.info);
    tasks_ = std::move(o.tasks);
    SyncTargets(tasks_);
    Judge();
  }
  if (refresh_again_) {
    refresh_again_ = false;
    Refresh();
  }
}

}  // namespace kiln::deploy
