// ServiceController: starting, watching, adopting and stopping tasks.
#include <signal.h>

#include <boost/asio/post.hpp>
#include <set>

#include "base/ids.h"
#include "deploy/service_controller.h"
#include "deploy/service_parts.h"
#include "deploy/task_launch.h"
#include "deploy/task_logs.h"
#include "spec/kiln_config.h"

namespace kiln::deploy {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kRestartDelayMs = 1000;  // after a task exits on its own (crash loops)

std::string TaskId() {
  std::string id = base::NewUuid();
  std::erase(id, '-');  // ECS task ids are 32 hex digits
  return id;
}

std::string Digest(const ContainerSpec& c) {
  return c.image_digest.starts_with("sha256:") ? c.image_digest.substr(7) : "";
}

}  // namespace

base::Result<const TaskSpec*> ServiceController::RevisionSpec(int64_t revision) {
  if (auto it = revisions_.find(revision); it != revisions_.end()) return &it->second;
  auto row = ctx_.store->GetRevision(spec_.name, revision);
  if (!row.ok()) return row.status();
  if (!*row)
    return base::NotFound("service " + spec_.name + " has no revision " + std::to_string(revision));
  auto task = ParseTaskDefinition(nlohmann::json::parse((*row)->task_definition, nullptr, false));
  if (!task.ok()) return task.status();
  if (auto st = CheckProcessTask(*task); !st.ok()) return st;
  if (Digest(task->main()).empty())
    return base::InvalidInput("revision " + std::to_string(revision) + " has no bundle");
  ScaleTimings(*task, ctx_.time_scale);
  return &revisions_.emplace(revision, std::move(*task)).first->second;
}

std::vector<std::pair<std::string, std::string>> ServiceController::ResolveSecrets(
    const ContainerSpec& c) const {
  std::vector<std::pair<std::string, std::string>> out;
  if (!ctx_.config) return out;
  for (const auto& [name, from] : c.secrets) {
    std::string key = spec::SecretReferenceName(from).value_or(from);  // a name or an ARN
    auto secret = ctx_.config->secrets.find(key);
    auto parameter = ctx_.config->parameters.find(key);
    const spec::ValueRef* ref = secret != ctx_.config->secrets.end()         ? &secret->second
                                : parameter != ctx_.config->parameters.end() ? &parameter->second
                                                                             : nullptr;
    spec::ResolvedValue value =
        ref ? spec::ResolveValue(*ref, *ctx_.config) : spec::ResolvedValue{};
    if (value.ok) out.emplace_back(name, value.value);
  }
  return out;
}

static LaunchRequest RequestFor(const store::TaskRow& row, const ContainerSpec& c,
                                const fs::path& service_dir) {
  return {.task_id = row.id,
          .service = row.service,
          .container = &c,
          .work_dir = service_dir / "tasks" / row.id,
          .log_path = TaskLogPath(service_dir, row.id),
          .port = uint16_t(row.port)};
}

bool ServiceController::StartTask(int64_t revision) {
  auto spec = RevisionSpec(revision);
  std::set<uint16_t> taken;
  for (auto& [id, t] : tasks_) taken.insert(uint16_t(t->row.port));
  auto port = spec.ok() ? PickFreePort(taken) : base::Result<uint16_t>(spec.status());
  if (!port.ok()) {
    Event("was unable to place a task: " + port.status().message());
    return false;
  }
  auto task = std::make_unique<Task>();
  task->row = {.id = TaskId(),
               .service = spec_.name,
               .revision = revision,
               .port = *port,
               .state = "RUNNING",
               .health = "UNKNOWN",
               .started_ms = base::NowMillis()};
  LaunchRequest request = RequestFor(task->row, (*spec)->main(), ctx_.service_dir);
  request.bundle_dir = ctx_.bundles->PathOf(Digest((*spec)->main()));
  request.secrets = ResolveSecrets((*spec)->main());
  auto pid = LaunchTask(request);
  if (!pid.ok()) {
    std::error_code ec;
    fs::remove_all(request.work_dir, ec);
    Event("was unable to start a task: " + pid.status().message());
    RecordFailure(revision, "task failed to start: " + pid.status().message());
    return false;
  }
  task->row.pid = *pid;
  task->row.pid_token = ProcessToken(*pid);
  Task& t = *task;
  tasks_.emplace(t.row.id, std::move(task));
  SaveTask(t);
  WatchTask(t, 0);
  Event("has started 1 tasks: (task " + t.row.id + ").");
  return true;
}

void ServiceController::WatchTask(Task& task, int64_t started_ago_ms) {
  std::string id = task.row.id;
  std::weak_ptr<int> life = life_;
  if (!task.watch) {
    auto watch = ProcessWatch::Start(*ctx_.loop, pid_t(task.row.pid), [life, this, id](int code) {
      if (life.lock()) OnExit(id, code);
    });
    if (!watch.ok()) {
      boost::asio::post(*ctx_.loop, [life, this, id] {
        if (life.lock()) OnExit(id, -1);
      });
      return;
    }
    task.watch = std::move(*watch);
  }
  auto spec = RevisionSpec(task.row.revision);
  if (!spec.ok()) return;
  LaunchRequest request = RequestFor(task.row, (*spec)->main(), ctx_.service_dir);
  request.secrets = ResolveSecrets((*spec)->main());
  TaskHealthOptions options{.port = uint16_t(task.row.port),
                            .container = (*spec)->main().health_check,
                            .grace_period_ms = spec_.health_check_grace_period_ms,
                            .started_ago_ms = started_ago_ms,
                            .command_env = TaskEnvironment(request),
                            .command_cwd = request.work_dir.string()};
  if (spec_.load_balancer) options.balancer = spec_.load_balancer->health_check;
  task.health = std::make_unique<TaskHealth>(*ctx_.loop, options,
                                             [life, this, id](Health h, const std::string& why) {
                                               if (life.lock()) OnHealth(id, h, why);
                                             });
}

// After a restart: a task recorded as running is adopted only if its pid is still the same
// process (start time and boot id match, checked after the pidfd is open); others are gone.
void ServiceController::AdoptTasks() {
  auto rows = ctx_.store->LiveTasks(spec_.name);
  if (!rows.ok()) return Event("could not read its tasks: " + rows.status().message());
  for (store::TaskRow& row : *rows) {
    auto task = std::make_unique<Task>();
    task->row = row;
    std::string id = row.id;
    std::weak_ptr<int> life = life_;
    auto watch = ProcessWatch::Start(*ctx_.loop, pid_t(row.pid), [life, this, id](int code) {
      if (life.lock()) OnExit(id, code);
    });
    if (!watch.ok() || row.pid_token.empty() || ProcessToken(pid_t(row.pid)) != row.pid_token) {
      row.state = "STOPPED";
      row.stopped_ms = base::NowMillis();
      Recorded(ctx_.store->PutTask(row), "task " + id);
      Event("(task " + id + ") was no longer running after a restart.");
      continue;
    }
    task->watch = std::move(*watch);
    bool was_stopping = row.state != "RUNNING";
    task->row.state = "RUNNING";
    task->row.health = "UNKNOWN";
    Task& t = *task;
    tasks_.emplace(id, std::move(task));
    WatchTask(t, base::NowMillis() - row.started_ms);
    Event("(task " + id + ") adopted after a restart (pid " + std::to_string(row.pid) + ").");
    if (was_stopping) StopTask(t, "it was stopping when the server stopped");
  }
}

void ServiceController::OnHealth(const std::string& id, Health health, const std::string& reason) {
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second->stopping()) return;
  Task& task = *it->second;
  task.row.health = HealthName(health);
  SaveTask(task);
  if (health == Health::kHealthy && lb_ && !task.registered) {
    lb_->Register(id, "127.0.0.1", uint16_t(task.row.port));  // only once healthy
    task.registered = true;
  }
  if (health == Health::kUnhealthy) {
    Event("(task " + id + ") failed its health checks: " + reason);
    RecordFailure(task.row.revision, reason);
    StopTask(task, reason);  // ECS replaces an unhealthy task
  }
  ScheduleReconcile(0);
}

void ServiceController::OnExit(const std::string& id, int code) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  Task& task = *it->second;
  bool expected = task.stopping();
  std::string why = code < 0 ? "essential container exited"
                             : "essential container exited with code " + std::to_string(code);
  if (expected) {
    Event("has stopped 1 running tasks: (task " + id + "): " + task.stop_reason + ".");
  } else {
    Event("(task " + id + ") stopped: " + why + ".");
    if (task.registered && lb_) lb_->Drain(id, [] {});
    RecordFailure(task.row.revision, why);
  }
  SignalGroup(pid_t(task.row.pid), SIGKILL);  // what is left of its process group
  std::error_code ec;
  fs::remove_all(ctx_.service_dir / "tasks" / id, ec);
  task.row.state = "STOPPED";
  task.row.stopped_ms = base::NowMillis();
  SaveTask(task);
  tasks_.erase(it);
  if (shutting_down_ && tasks_.empty()) {
    if (lb_) lb_->Stop();
    if (auto done = std::move(on_shutdown_)) done();
    return;
  }
  ScheduleReconcile(expected ? 0 : Scaled(kRestartDelayMs));
}

// ECS: drain from the load balancer first, then SIGTERM, then SIGKILL after stopTimeout.
void ServiceController::StopTask(Task& task, const std::string& reason) {
  if (task.stopping()) return;
  task.stop_reason = reason;
  task.health.reset();
  std::string id = task.row.id;
  if (!task.registered || !lb_) return Terminate(id);
  task.registered = false;
  task.row.state = "DEACTIVATING";
  SaveTask(task);
  lb_->Drain(id, [life = std::weak_ptr<int>(life_), this, id] {
    if (life.lock()) Terminate(id);
  });
}

void ServiceController::Terminate(const std::string& id) {
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second->kill_timer) return;
  Task& task = *it->second;
  task.row.state = "STOPPING";
  SaveTask(task);
  pid_t pid = pid_t(task.row.pid);
  SignalGroup(pid, SIGTERM);
  auto spec = RevisionSpec(task.row.revision);
  int64_t grace = spec.ok() && (*spec)->main().stop_timeout_ms ? *(*spec)->main().stop_timeout_ms
                                                               : spec_.stop_timeout_ms;
  task.kill_timer = std::make_unique<boost::asio::steady_timer>(*ctx_.loop);
  task.kill_timer->expires_after(std::chrono::milliseconds(grace));
  task.kill_timer->async_wait([pid](const boost::system::error_code& ec) {
    if (!ec) SignalGroup(pid, SIGKILL);
  });
}

void ServiceController::SaveTask(Task& task) {
  Recorded(ctx_.store->PutTask(task.row), "task " + task.row.id);
}

}  // namespace kiln::deploy
