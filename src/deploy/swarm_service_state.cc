// SwarmService: reading Swarm's answers back into targets, deployments and the API's shape.
#include <algorithm>
#include <set>

#include "base/ids.h"
#include "deploy/service_common.h"
#include "deploy/swarm_plan.h"
#include "deploy/swarm_service.h"

namespace kiln::deploy {
namespace {

using Json = nlohmann::json;
using exec::SwarmTaskState;
using exec::SwarmUpdateState;
// The update status is ours when it started after Kiln sent the update (applied_ns is taken
// before the call): the manager's clock against Kiln's, which is the same clock when Kiln runs
// on the manager. A stale status of the previous update started well before.
constexpr int64_t kClockSlackNs = 50'000'000;

bool Live(const exec::SwarmTask& t) {
  return t.desired_state == SwarmTaskState::kRunning && t.state == SwarmTaskState::kRunning &&
         TaskPort(t.env, t.slot) > 0;
}

}  // namespace

void SwarmService::SyncTargets(const std::vector<exec::SwarmTask>& tasks) {
  std::set<std::string> live;
  for (const exec::SwarmTask& t : tasks) {
    if (!Live(t)) continue;
    live.insert(t.id);
    if (targets_.contains(t.id)) continue;
    Target& target = targets_[t.id];
    target.slot = t.slot;
    target.port = TaskPort(t.env, t.slot);
    // Swarm reports a task with a health check RUNNING only once it is healthy, and stops the
    // task it replaces right then: the target is registered at once, and the balancer's own
    // check only takes it out again if it fails.
    target.health_text = "HEALTHY";
    if (!lb_) continue;
    std::string id = t.id;
    lb_->Register(id, "127.0.0.1", uint16_t(target.port));
    target.registered = true;
    target.health = std::make_unique<TaskHealth>(
        *ctx_.loop,
        TaskHealthOptions{.port = uint16_t(target.port),
                          .balancer = spec_.load_balancer->health_check,
                          .grace_period_ms = spec_.health_check_grace_period_ms},
        [this, id, life = std::weak_ptr<int>(life_)](Health h, const std::string&) {
          auto it = life.lock() ? targets_.find(id) : targets_.end();
          if (it == targets_.end()) return;
          if (h == Health::kUnknown) return;
          it->second.health_text = HealthName(h);
          if (h == Health::kHealthy && !it->second.registered) {
            lb_->Register(id, "127.0.0.1", uint16_t(it->second.port));
            it->second.registered = true;
          } else if (h == Health::kUnhealthy && it->second.registered) {
            lb_->Drain(id, [] {});
            it->second.registered = false;
          }
          Judge();
        });
  }
  for (auto it = targets_.begin(); it != targets_.end();) {
    if (live.contains(it->first)) {
      ++it;
      continue;
    }
    if (it->second.registered && lb_) lb_->Drain(it->first, [] {});
    it = targets_.erase(it);
  }
}

int SwarmService::RunningHealthy() const {
  int n = 0;
  for (const auto& [id, t] : targets_) n += t.health_text == "HEALTHY";
  return n;
}

// The primary deployment's fate from Swarm's update status and the healthy tasks.
void SwarmService::Judge() {
  Deployment* d = Primary();
  if (!d || d->row.rollout_state != "IN_PROGRESS" || !info_) return;
  const exec::SwarmUpdateStatus& us = info_->update_status;
  bool ours = us.state == SwarmUpdateState::kNone || d->applied_ns == 0 ||
              us.started_at_ns + kClockSlackNs >= d->applied_ns;
  if (!ours) return;
  int64_t deployed = RevisionOf(info_->spec);
  bool rolled_back = us.state == SwarmUpdateState::kRollbackStarted ||
                     us.state == SwarmUpdateState::kRollbackCompleted;
  if (rolled_back && deployed != d->row.revision) {
    int64_t applied = d->applied_ns;
    Finish(*d, false, "circuit breaker: Swarm rolled the update back: " + us.message, deployed);
    Record(deployed, nullptr, "");  // the rollback: Swarm already runs it
    Primary()->applied_ns = applied;
    Primary()->rollback = true;
    return;
  }
  if (us.state == SwarmUpdateState::kPaused || us.state == SwarmUpdateState::kRollbackPaused) {
    return Finish(*d, false, "Swarm paused the update: " + us.message);
  }
  // No status: a service just created, or just updated (the manager clears the status until
  // its updater starts): only the first is settled.
  bool settled = (us.state == SwarmUpdateState::kNone && !info_->previous_spec) ||
                 us.state == SwarmUpdateState::kCompleted ||
                 us.state == SwarmUpdateState::kRollbackCompleted;
  if (settled && deployed == d->row.revision && int(targets_.size()) == desired_ &&
      RunningHealthy() == desired_) {
    Finish(*d, true, "");
  }
}

void SwarmService::Finish(Deployment& d, bool ok, const std::string& reason,
                          int64_t rollback_revision) {
  d.row.rollout_state = ok ? "COMPLETED" : "FAILED";
  d.row.reason = reason;
  d.timeout.reset();  // cancels its wait
  Save(d);
  Event(ok ? "(deployment " + d.row.id + ") deployment completed."
           : "(deployment " + d.row.id + ") deployment failed: " + reason);
  if (rollback_revision > 0) {
    Event("rolling back to revision " + std::to_string(rollback_revision) + ".");
  }
  auto on_done = std::move(d.on_done);
  DeploymentOutcome outcome{.deployment_id = d.row.id,
                            .service = spec_.name,
                            .revision = d.row.revision,
                            .succeeded = ok,
                            .rollout_state = d.row.rollout_state,
                            .reason = reason,
                            .rollback_revision = rollback_revision};
  if (ok && &d == Primary()) {
    Event("has reached a steady state.");
    for (size_t i = 1; i < deployments_.size(); ++i) {
      deployments_[i].row.status = "INACTIVE";
      Save(deployments_[i]);
    }
    deployments_.resize(1);
  }
  if (on_done) on_done(outcome);
}

base::Result<std::string> SwarmService::Rollback(OnDeploymentDone on_done) {
  auto last = ctx_.store->LastCompleted(spec_.name, PrimaryRevision());
  if (!last.ok()) return last.status();
  if (!*last) return base::NotFound("service " + spec_.name + " has no earlier completed revision");
  return StartDeployment((*last)->revision, std::move(on_done));
}

base::Status SwarmService::Scale(int desired) {
  if (desired < 0 || desired > 5000) return base::InvalidInput("desiredCount must be 0 to 5000");
  if (auto st = ctx_.store->SetDesiredCount(spec_.name, {desired, spec_.desired_count}); !st.ok()) {
    return st;
  }
  desired_ = desired;
  Event("desired count set to " + std::to_string(desired) + ".");
  if (Deployment* d = Primary()) {
    d->row.desired_count = desired;
    Save(*d);
    auto plan = PlanFor(d->row.revision, desired, false);
    if (!plan.ok()) return plan.status();
    Apply(std::move(*plan), "");
  }
  return base::Status::Ok();
}

void SwarmService::Shutdown(std::function<void()> done) {
  shut_down_ = true;
  echo_.cancel();
  for (Deployment& d : deployments_) d.timeout.reset();
  events_.reset();
  service_events_.reset();
  logs_.reset();
  targets_.clear();
  if (lb_) lb_->Stop();
  done();
}

int64_t SwarmService::PrimaryRevision() const {
  return deployments_.empty() ? 0 : deployments_.front().row.revision;
}

void SwarmService::Event(const std::string& message) {
  auto st = ctx_.store->AddEvent(spec_.name, base::NowMillis(),
                                 "(service " + spec_.name + ") " + message);
  if (!st.ok())
    std::fprintf(stderr, "kiln serve: service %s: %s\n", spec_.name.c_str(), st.message().c_str());
}

void SwarmService::Save(Deployment& d) {
  d.row.updated_ms = base::NowMillis();
  auto st = ctx_.store->PutDeployment(d.row);
  if (!st.ok())
    std::fprintf(stderr, "kiln serve: service %s: %s\n", spec_.name.c_str(), st.message().c_str());
}

// The tasks the manager still lists, by their last state change (Swarm keeps no start time
// that outlives the task's run): a task that stopped long ago comes before its replacement.
base::Result<std::vector<TaskLog>> SwarmService::TaskLogs() const {
  std::vector<const exec::SwarmTask*> tasks;
  for (const exec::SwarmTask& t : tasks_) tasks.push_back(&t);
  std::sort(tasks.begin(), tasks.end(),
            [](auto* a, auto* b) { return a->timestamp_ns < b->timestamp_ns; });
  if (tasks.size() > size_t(kMaxLogTasks)) tasks.erase(tasks.begin(), tasks.end() - kMaxLogTasks);
  std::vector<TaskLog> out;
  for (const exec::SwarmTask* t : tasks) {
    if (!IsTaskId(t->id)) continue;  // never a path from a malformed answer
    std::filesystem::path path = TaskLogPath(ctx_.service_dir, t->id);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) continue;
    out.push_back({.task_id = t->id, .path = path, .running = !exec::IsFinal(t->state)});
  }
  return out;
}

Json SwarmService::Describe() const {
  Json tasks = Json::array();
  int running = 0;
  for (const exec::SwarmTask& t : tasks_) {
    if (t.desired_state != SwarmTaskState::kRunning) continue;
    auto target = targets_.find(t.id);
    std::string health = target == targets_.end() ? "UNKNOWN" : target->second.health_text;
    running += Live(t) && health == "HEALTHY";
    tasks.push_back({{"taskId", t.id},
                     {"slot", t.slot},
                     {"port", TaskPort(t.env, t.slot)},
                     {"lastStatus", exec::SwarmTaskStateText(t.state)},
                     {"healthStatus", health},
                     {"revision", info_ ? RevisionOf(info_->spec) : 0},
                     {"node", t.node_id},
                     {"message", t.error.empty() ? t.message : t.error}});
  }
  Json deployments = Json::array();
  for (const Deployment& d : deployments_) {
    deployments.push_back(DeploymentJson(d.row));
  }
  Json events = EventsJson(*ctx_.store, spec_.name);
  Json out = {{"serviceName", spec_.name},
              {"status", shut_down_ ? "DRAINING" : "ACTIVE"},
              {"launchType", "SWARM"},
              {"desiredCount", desired_},
              {"runningCount", running},
              {"pendingCount", int(tasks.size()) - running},
              {"taskDefinition", PrimaryRevision()},
              {"deployments", deployments},
              {"events", events},
              {"tasks", tasks}};
  if (info_) {
    out["swarm"] = {{"serviceId", info_->id},
                    {"updateState", exec::SwarmUpdateStateText(info_->update_status.state)},
                    {"updateMessage", info_->update_status.message}};
  }
  if (!not_running_.empty()) out["statusReason"] = "the service runs no tasks: " + not_running_;
  if (lb_) {
    out["loadBalancer"] = {{"listen", spec_.load_balancer->listen}, {"port", lb_->port()}};
  }
  return out;
}

}  // namespace kiln::deploy
