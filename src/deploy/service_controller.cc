// ServiceController: deciding what to start and stop, and what a deployment's state is.
#include "deploy/service_controller.h"

#include <algorithm>
#include <cstdio>

#include "base/ids.h"
#include "deploy/service_common.h"
#include "deploy/service_parts.h"

namespace kiln::deploy {
namespace {

constexpr int64_t kRestartDelayMs = 1000;  // between a failed start and the next attempt

}  // namespace

ServiceController::ServiceController(ControllerContext context, ServiceSpec spec,
                                     std::unique_ptr<TaskRuntime> runtime)
    : ctx_(std::move(context)),
      spec_(std::move(spec)),
      runtime_(std::move(runtime)),
      reconcile_timer_(*ctx_.loop) {
  std::weak_ptr<int> life = life_;
  runtime_->SetListener(
      {.exited =
           [life, this](const std::string& id, const TaskExit& exit) {
             if (life.lock()) OnExit(id, exit);
           },
       .health =
           [life, this](const std::string& id, Health health, const std::string& reason) {
             if (life.lock()) OnContainerHealth(id, health, reason);
           }});
}

ServiceController::~ServiceController() { life_.reset(); }

base::Status ServiceController::Start() {
  auto desired = DesiredCount(*ctx_.store, spec_);
  if (!desired.ok()) return desired.status();
  desired_ = *desired;
  auto lb = StartBalancer(*ctx_.loop, spec_);
  if (!lb.ok()) return lb.status();
  lb_ = std::move(*lb);
  if (auto st = LoadDeployments(); !st.ok()) return st;
  AdoptTasks();
  if (!Primary() && !ctx_.initial_definition.empty()) {
    DeployInitial();
  } else if (!Primary()) {
    Event("has no deployment yet: it runs no tasks until the first deploy");
  }
  ScheduleReconcile(0);
  return base::Status::Ok();
}

// CreateService: revision 1 is kiln.yml's task definition, deployed once its images are
// there; a service whose images cannot be had runs none and says why.
void ServiceController::DeployInitial() {
  auto task = ParseTaskDefinition(nlohmann::json::parse(ctx_.initial_definition, nullptr, false));
  if (!task.ok()) {
    not_running_ = task.status().message();
    return Event("is unable to start its tasks: " + not_running_);
  }
  runtime_->Prepare(*task, [life = std::weak_ptr<int>(life_), this](base::Status ready) {
    if (!life.lock() || Primary()) return;
    if (!ready.ok()) {
      not_running_ = ready.message();
      return Event("is unable to start its tasks: " + not_running_);
    }
    not_running_.clear();
    auto revision = ctx_.store->AddRevision(spec_.name, ctx_.initial_definition);
    auto started = revision.ok() ? StartDeployment(*revision, nullptr)
                                 : base::Result<std::string>(revision.status());
    if (!started.ok())
      Event("was unable to deploy its task definition: " + started.status().message());
  });
}

base::Status ServiceController::LoadDeployments() {
  auto rows = ctx_.store->Deployments(spec_.name, 50);
  if (!rows.ok()) return rows.status();
  for (const store::DeploymentRow& row : *rows) {
    if (row.status == "INACTIVE") continue;
    auto d = std::make_unique<Deployment>();
    d->row = row;
    if (row.status == "PRIMARY") {
      deployments_.insert(deployments_.begin(), std::move(d));
    } else {
      deployments_.push_back(std::move(d));
    }
  }
  // A deployment interrupted by a restart gets its full timeout again.
  for (auto& d : deployments_) {
    if (d->in_progress()) ArmTimeout(*d);
  }
  return base::Status::Ok();
}

ServiceController::Deployment* ServiceController::Primary() {
  return deployments_.empty() ? nullptr : deployments_.front().get();
}

const ServiceController::Deployment* ServiceController::Primary() const {
  return deployments_.empty() ? nullptr : deployments_.front().get();
}

int64_t ServiceController::PrimaryRevision() const {
  const Deployment* d = Primary();
  return d ? d->row.revision : 0;
}

int64_t ServiceController::Scaled(int64_t ms) const {
  return std::max<int64_t>(1, static_cast<int64_t>(double(ms) * ctx_.time_scale));
}

void ServiceController::ScheduleReconcile(int64_t delay_ms) {
  if (reconcile_pending_ && delay_ms > 0) return;
  reconcile_pending_ = true;
  reconcile_timer_.expires_after(std::chrono::milliseconds(delay_ms));
  reconcile_timer_.async_wait(
      [life = std::weak_ptr<int>(life_), this](const boost::system::error_code& ec) {
        if (!ec && life.lock()) Reconcile();
      });
}

// ECS rolling update: start new-revision tasks while fewer than maximumPercent run; stop
// old ones while more than minimumHealthyPercent are healthy (counted across revisions).
void ServiceController::Reconcile() {
  reconcile_pending_ = false;
  Deployment* primary = Primary();
  if (shutting_down_ || adopting_ || !primary) return;
  const int64_t revision = primary->row.revision;
  const bool stalled = primary->row.rollout_state == "FAILED";  // no rollback target
  std::vector<Task*> fresh, old;
  int healthy = 0, fresh_healthy = 0, total = int(tasks_.size());
  for (auto& [id, task] : tasks_) {
    if (task->stopping()) continue;
    (task->row.revision == revision ? fresh : old).push_back(task.get());
    healthy += task->healthy();
    fresh_healthy += task->healthy() && task->row.revision == revision;
  }
  int max_tasks = spec_.MaxTasks(desired_), min_healthy = spec_.MinHealthyTasks(desired_);
  for (int n = int(fresh.size()); !stalled && n < desired_ && total < max_tasks; ++n, ++total) {
    if (!StartTask(revision)) {
      ScheduleReconcile(Scaled(kRestartDelayMs));
      break;
    }
  }
  for (Task* task : old) {
    if (stalled) break;
    if (task->row.health == "UNHEALTHY" || (!task->healthy() && fresh_healthy >= desired_)) {
      StopTask(*task, "replaced by revision " + std::to_string(revision));
    } else if (task->healthy() && healthy > min_healthy) {
      --healthy;
      StopTask(*task, "replaced by revision " + std::to_string(revision));
    }
  }
  // Scale-in: the unhealthy extras first.
  std::stable_partition(fresh.begin(), fresh.end(), [](Task* t) { return !t->healthy(); });
  for (size_t i = 0; int(fresh.size() - i) > desired_; ++i) StopTask(*fresh[i], "scaled in");
  CheckSteady();
}

// ECS steady state: only the primary revision runs, running == desired, all healthy.
void ServiceController::CheckSteady() {
  Deployment* primary = Primary();
  if (!primary || !primary->in_progress()) return;
  int running = 0;
  for (auto& [id, task] : tasks_) {
    if (task->row.revision != primary->row.revision || !task->healthy()) return;
    ++running;
  }
  if (running == desired_) FinishDeployment(*primary, true);
}

void ServiceController::FinishDeployment(Deployment& d, bool ok) {
  d.row.rollout_state = ok ? "COMPLETED" : "FAILED";
  d.row.updated_ms = base::NowMillis();
  if (d.timeout) d.timeout->cancel();
  SaveDeployment(d);
  if (ok) {
    Event("(deployment " + d.row.id + ") deployment completed.");
    Event("has reached a steady state.");
    for (size_t i = 1; i < deployments_.size(); ++i) {
      deployments_[i]->row.status = "INACTIVE";
      SaveDeployment(*deployments_[i]);
    }
    deployments_.resize(1);
  }
  if (d.on_done) {
    auto on_done = std::move(d.on_done);
    on_done({.deployment_id = d.row.id,
             .service = spec_.name,
             .revision = d.row.revision,
             .succeeded = ok,
             .rollout_state = d.row.rollout_state,
             .reason = d.row.reason});
  }
}

void ServiceController::RecordFailure(int64_t revision, const std::string& reason) {
  Deployment* primary = Primary();
  if (!primary || !primary->in_progress() || revision != primary->row.revision) return;
  ++primary->row.failed_tasks;
  SaveDeployment(*primary);
  int threshold = spec_.FailureThreshold(desired_);
  if (!spec_.circuit_breaker.enable || primary->row.failed_tasks < threshold) return;
  FailDeployment(*primary, "circuit breaker: " + std::to_string(primary->row.failed_tasks) +
                               " tasks failed (threshold " + std::to_string(threshold) +
                               "); last: " + reason);
}

// ECS: with rollback, the most recent COMPLETED deployment's revision is deployed again; the
// failed revision is not retried automatically. Without a completed one, the service stalls.
void ServiceController::FailDeployment(Deployment& d, const std::string& reason) {
  d.row.reason = reason;
  Event("(deployment " + d.row.id + ") deployment failed: " + reason);
  bool primary = &d == Primary();
  auto on_done = std::move(d.on_done);
  d.on_done = nullptr;
  FinishDeployment(d, false);
  int64_t back_to = 0;
  if (primary && spec_.circuit_breaker.rollback) {
    auto last = ctx_.store->LastCompleted(spec_.name, d.row.revision);
    if (last.ok() && *last) {
      back_to = (*last)->revision;
      Event("rolling back to revision " + std::to_string(back_to) + ".");
      (void)StartDeployment(back_to, nullptr);
    } else {
      Event("has no previous good version to roll back to: the deployment stalls.");
    }
  }
  ScheduleReconcile(0);
  if (on_done) {
    on_done({.deployment_id = d.row.id,
             .service = spec_.name,
             .revision = d.row.revision,
             .succeeded = false,
             .rollout_state = "FAILED",
             .reason = reason,
             .rollback_revision = back_to});
  }
}

base::Result<std::string> ServiceController::StartDeployment(int64_t revision,
                                                             OnDeploymentDone on_done,
                                                             const std::string& id,
                                                             int64_t timeout_ms) {
  if (shutting_down_) return base::Status(base::ErrorKind::kFailed, "the service is shutting down");
  if (auto spec = RevisionSpec(revision); !spec.ok()) return spec.status();
  auto d = std::make_unique<Deployment>();
  int64_t now = base::NowMillis();
  d->row = {.id = id.empty() ? base::NewUuid() : id,
            .service = spec_.name,
            .revision = revision,
            .status = "PRIMARY",
            .rollout_state = "IN_PROGRESS",
            .desired_count = desired_,
            .created_ms = now,
            .updated_ms = now};
  d->on_done = std::move(on_done);
  std::string new_id = d->row.id;
  if (Deployment* old = Primary()) {
    old->row.status = "ACTIVE";  // ECS: the new deployment becomes primary
    if (old->in_progress()) {
      old->row.reason = "superseded by deployment " + new_id;
      FinishDeployment(*old, false);
    }
    SaveDeployment(*old);
  }
  deployments_.insert(deployments_.begin(), std::move(d));
  not_running_.clear();  // a deployment brings its images: the reason no longer holds
  SaveDeployment(*Primary());
  ArmTimeout(*Primary(), timeout_ms);
  Event("(deployment " + new_id + ") deployment started: revision " + std::to_string(revision) +
        ".");
  ScheduleReconcile(0);
  return new_id;
}

base::Result<std::string> ServiceController::Rollback(OnDeploymentDone on_done) {
  auto last = ctx_.store->LastCompleted(spec_.name, PrimaryRevision());
  if (!last.ok()) return last.status();
  if (!*last) return base::NotFound("service " + spec_.name + " has no earlier completed revision");
  return StartDeployment((*last)->revision, std::move(on_done));
}

base::Status ServiceController::Scale(int desired) {
  if (desired < 0 || desired > 5000) return base::InvalidInput("desiredCount must be 0 to 5000");
  desired_ = desired;
  auto st = ctx_.store->SetDesiredCount(spec_.name, {desired, spec_.desired_count});
  if (!st.ok()) return st;
  if (Deployment* d = Primary()) {
    d->row.desired_count = desired;
    SaveDeployment(*d);
  }
  Event("desired count set to " + std::to_string(desired) + ".");
  ScheduleReconcile(0);
  return base::Status::Ok();
}

void ServiceController::ArmTimeout(Deployment& d, int64_t action_timeout_ms) {
  d.timeout = std::make_unique<boost::asio::steady_timer>(*ctx_.loop);
  d.timeout->expires_after(
      std::chrono::milliseconds(DeploymentLimitMs(action_timeout_ms, spec_.deployment_timeout_ms)));
  std::string id = d.row.id;
  d.timeout->async_wait([life = std::weak_ptr<int>(life_), this, id,
                         action_timeout_ms](const boost::system::error_code& ec) {
    if (ec || !life.lock()) return;
    for (auto& d : deployments_) {
      if (d->row.id == id && d->in_progress()) {
        FailDeployment(*d, TimedOutReason(action_timeout_ms, spec_.deployment_timeout_ms));
        return;
      }
    }
  });
}

// The in-memory service stays authoritative and keeps running; what the store could not keep
// is said on stderr (the API then shows an older row until the next write succeeds).
void ServiceController::Recorded(const base::Status& written, const std::string& what) {
  if (written.ok()) return;
  std::fprintf(stderr, "kiln serve: service %s: could not record %s: %s\n", spec_.name.c_str(),
               what.c_str(), written.message().c_str());
}

void ServiceController::SaveDeployment(Deployment& d) {
  d.row.updated_ms = base::NowMillis();
  Recorded(ctx_.store->PutDeployment(d.row), "deployment " + d.row.id);
}

void ServiceController::Event(const std::string& message) {
  Recorded(ctx_.store->AddEvent(spec_.name, base::NowMillis(),
                                "(service " + spec_.name + ") " + message),
           "an event");
}

void ServiceController::Shutdown(std::function<void()> done) {
  shutting_down_ = true;
  on_shutdown_ = std::move(done);
  for (auto& [id, task] : tasks_) StopTask(*task, "the server is shutting down");
  if (tasks_.empty()) {
    if (lb_) lb_->Stop();
    if (auto cb = std::move(on_shutdown_)) cb();
  }
}

}  // namespace kiln::deploy
