// ServiceController::Describe: DescribeServices' shape, plus Kiln's tasks and load balancer.
#include "base/ids.h"
#include "deploy/service_common.h"
#include "deploy/service_controller.h"
#include "deploy/service_parts.h"

namespace kiln::deploy {
namespace {

using Json = nlohmann::json;

Json TargetsJson(const LoadBalancer& lb) {
  Json out = Json::array();
  for (const TargetInfo& t : lb.Targets()) {
    out.push_back({{"id", t.id},
                   {"port", t.port},
                   {"state", t.state == TargetInfo::State::kRegistered ? "healthy" : "draining"},
                   {"inFlight", t.in_flight},
                   {"served", t.served}});
  }
  return out;
}

}  // namespace

Json ServiceController::Describe() const {
  int running = 0, pending = 0;
  Json tasks = Json::array();
  for (const auto& [id, t] : tasks_) {
    (t->healthy() ? running : pending) += t->stopping() ? 0 : 1;
    tasks.push_back({{"taskId", id},
                     {"revision", t->row.revision},
                     {"port", t->row.port},
                     {"lastStatus", t->row.state},
                     {"healthStatus", t->row.health},
                     {"pid", t->row.pid},
                     {"startedAt", base::IsoTime(t->row.started_ms)}});
  }
  Json deployments = Json::array();
  for (const auto& d : deployments_) {
    int on_revision = 0;
    for (const auto& [id, t] : tasks_)
      on_revision += !t->stopping() && t->row.revision == d->row.revision;
    Json entry = DeploymentJson(d->row);
    entry["runningCount"] = on_revision;
    deployments.push_back(std::move(entry));
  }
  Json events = EventsJson(*ctx_.store, spec_.name);
  Json out = {{"serviceName", spec_.name},
              {"status", shutting_down_ ? "DRAINING" : "ACTIVE"},
              {"desiredCount", desired_},
              {"runningCount", running},
              {"pendingCount", pending},
              {"taskDefinition", PrimaryRevision()},
              {"deployments", deployments},
              {"events", events},
              {"tasks", tasks}};
  if (!not_running_.empty()) {
    out["statusReason"] = "the service runs no tasks: " + not_running_;
  } else if (!Primary()) {
    out["statusReason"] = "no deployment yet: the service runs no tasks";
  }
  if (lb_) {
    out["loadBalancer"] = {{"listen", spec_.load_balancer->listen},
                           {"port", lb_->port()},
                           {"targets", TargetsJson(*lb_)}};
  }
  return out;
}

base::Result<std::vector<TaskLog>> ServiceController::TaskLogs() const {
  auto rows = ctx_.store->RecentTasks(spec_.name, kMaxLogTasks);
  if (!rows.ok()) return rows.status();
  return ExistingTaskLogs(*rows, ctx_.service_dir);
}

}  // namespace kiln::deploy
