// ServiceController: starting, watching, adopting and stopping tasks through its runtime.
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

}  // namespace

base::Result<const TaskSpec*> ServiceController::RevisionSpec(int64_t revision) {
  if (auto it = revisions_.find(revision); it != revisions_.end()) return &it->second;
  auto row = ctx_.store->GetRevision(spec_.name, revision);
  if (!row.ok()) return row.status();
  if (!*row)
    return base::NotFound("service " + spec_.name + " has no revision " + std::to_string(revision));
  auto task = ParseTaskDefinition(nlohmann::json::parse((*row)->task_definition, nullptr, false));
  if (!task.ok()) return task.status();
  if (auto st = runtime_->Check(*task); !st.ok()) {
    return base::Status(st.kind(), "revision " + std::to_string(revision) + ": " + st.message());
  }
  ScaleTimings(*task, ctx_.time_scale);
  return &revisions_.emplace(revision, std::move(*task)).first->second;
}

SecretValues ResolveContainerSecrets(const spec::KilnConfig* config, const ContainerSpec& c) {
  SecretValues out;
  if (!config) return out;
  for (const auto& [name, from] : c.secrets) {
    std::string key = spec::SecretReferenceName(from).value_or(from);  // a name or an ARN
    auto secret = config->secrets.find(key);
    auto parameter = config->parameters.find(key);
    const spec::ValueRef* ref = secret != config->secrets.end()         ? &secret->second
                                : parameter != config->parameters.end() ? &parameter->second
                                                                        : nullptr;
    spec::ResolvedValue value = ref ? spec::ResolveValue(*ref, *config) : spec::ResolvedValue{};
    if (value.ok) out.emplace_back(name, value.value);
  }
  return out;
}

SecretValues ServiceController::ResolveSecrets(const ContainerSpec& c) const {
  return ResolveContainerSecrets(ctx_.config, c);
}

TaskStart ServiceController::StartFor(const store::TaskRow& row, const TaskSpec& spec) const {
  TaskStart start{.row = row,
                  .task = &spec,
                  .work_dir = ctx_.service_dir / "tasks" / row.id,
                  .log_path = TaskLogPath(ctx_.service_dir, row.id)};
  for (const ContainerSpec& c : spec.containers) start.secrets.push_back(ResolveSecrets(c));
  return start;
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
               .state = "PROVISIONING",
               .health = "UNKNOWN",
               .started_ms = base::NowMillis()};
  Task& t = *task;
  std::string id = t.row.id;
  tasks_.emplace(id, std::move(task));
  SaveTask(t);
  runtime_->Start(StartFor(t.row, **spec),
                  [life = std::weak_ptr<int>(life_), this, id](base::Result<TaskIdentity> started) {
                    if (life.lock()) OnStarted(id, std::move(started));
                  });
  return true;
}

void ServiceController::OnStarted(const std::string& id, base::Result<TaskIdentity> started) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  Task& task = *it->second;
  if (!started.ok()) {
    Event("(task " + id + ") failed to start: " + started.status().message());
    RecordFailure(task.row.revision, started.status().message());
    return Gone(id, false, Scaled(kRestartDelayMs));
  }
  task.row.pid = started->pid;
  task.row.pid_token = started->pid_token;
  if (started->port > 0) task.row.port = started->port;  // health checks and the LB go there
  task.row.state = "RUNNING";
  SaveTask(task);
  Event("has started 1 tasks: (task " + id + ").");
  if (task.stop_requested) return StopTask(task, task.stop_reason);
  WatchHealth(task, 0);
  ScheduleReconcile(0);
}

void ServiceController::WatchHealth(Task& task, int64_t started_ago_ms) {
  std::string id = task.row.id;
  std::weak_ptr<int> life = life_;
  auto spec = RevisionSpec(task.row.revision);
  if (!spec.ok()) return;
  TaskHealthOptions options{.port = uint16_t(task.row.port),
                            .grace_period_ms = spec_.health_check_grace_period_ms,
                            .started_ago_ms = started_ago_ms};
  runtime_->ContainerCheck(StartFor(task.row, **spec), options);
  if (spec_.load_balancer) options.balancer = spec_.load_balancer->health_check;
  task.health = std::make_unique<TaskHealth>(*ctx_.loop, options,
                                             [life, this, id](Health h, const std::string& why) {
                                               if (life.lock()) OnHealth(id, h, why);
                                             });
}

// After a restart: the runtime says which recorded tasks still run; those are adopted.
void ServiceController::AdoptTasks() {
  auto rows = ctx_.store->LiveTasks(spec_.name);
  if (!rows.ok()) {
    Event("could not read its tasks: " + rows.status().message());
    rows = std::vector<store::TaskRow>{};
  }
  adopting_ = true;
  runtime_->Adopt(*rows,
                  [life = std::weak_ptr<int>(life_), this, rows = *rows](std::vector<bool> alive) {
                    if (!life.lock()) return;
                    adopting_ = false;
                    for (size_t i = 0; i < rows.size(); ++i)
                      Adopted(rows[i], i < alive.size() && alive[i]);
                    ScheduleReconcile(0);
                  });
}

void ServiceController::Adopted(store::TaskRow row, bool alive) {
  if (!alive) {
    row.state = "STOPPED";
    row.stopped_ms = base::NowMillis();
    Recorded(ctx_.store->PutTask(row), "task " + row.id);
    Event("(task " + row.id + ") was no longer running after a restart.");
    return;
  }
  auto task = std::make_unique<Task>();
  bool was_stopping = row.state == "DEACTIVATING" || row.state == "STOPPING";
  task->row = std::move(row);
  task->row.state = "RUNNING";
  task->row.health = "UNKNOWN";
  Task& t = *task;
  tasks_.emplace(t.row.id, std::move(task));
  WatchHealth(t, base::NowMillis() - t.row.started_ms);
  Event("(task " + t.row.id + ") adopted after a restart.");
  if (was_stopping) StopTask(t, "it was stopping when the server stopped");
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

void ServiceController::OnContainerHealth(const std::string& id, Health health,
                                          const std::string& reason) {
  auto it = tasks_.find(id);
  if (it != tasks_.end() && it->second->health) it->second->health->SetContainer(health, reason);
}

void ServiceController::OnExit(const std::string& id, const TaskExit& exit) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  Task& task = *it->second;
  bool expected = task.stopping();
  std::string why = exit.reason;
  if (exit.exit_code >= 0) why += " with code " + std::to_string(exit.exit_code);
  if (expected) {
    Event("has stopped 1 running tasks: (task " + id + "): " + task.stop_reason + ".");
  } else {
    Event("(task " + id + ") stopped: " + why + ".");
    if (task.registered && lb_) lb_->Drain(id, [] {});
    RecordFailure(task.row.revision, why);
  }
  Gone(id, true, expected ? 0 : Scaled(kRestartDelayMs));
}

// The task is over: its leftovers go, its row says STOPPED, and the service reconsiders.
void ServiceController::Gone(const std::string& id, bool release, int64_t reconcile_in_ms) {
  auto it = tasks_.find(id);
  Task& task = *it->second;
  if (release) runtime_->Release(task.row);
  task.row.state = "STOPPED";
  task.row.stopped_ms = base::NowMillis();
  SaveTask(task);
  tasks_.erase(it);
  if (shutting_down_ && tasks_.empty()) {
    if (lb_) lb_->Stop();
    if (auto done = std::move(on_shutdown_)) done();
    return;
  }
  ScheduleReconcile(reconcile_in_ms);
}

// ECS: drain from the load balancer first, then SIGTERM, then SIGKILL after stopTimeout. A
// task still starting stops as soon as it has started.
void ServiceController::StopTask(Task& task, const std::string& reason) {
  if (task.stopping()) return;
  task.stop_reason = reason;
  if (task.row.state == "PROVISIONING") {
    task.stop_requested = true;
    return;
  }
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
  if (it == tasks_.end() || it->second->row.state == "STOPPING") return;
  Task& task = *it->second;
  task.row.state = "STOPPING";
  SaveTask(task);
  auto spec = RevisionSpec(task.row.revision);
  int64_t grace = spec.ok() && (*spec)->main().stop_timeout_ms ? *(*spec)->main().stop_timeout_ms
                                                               : spec_.stop_timeout_ms;
  runtime_->Stop(task.row, grace);
}

void ServiceController::SaveTask(Task& task) {
  Recorded(ctx_.store->PutTask(task.row), "task " + task.row.id);
}

}  // namespace kiln::deploy
