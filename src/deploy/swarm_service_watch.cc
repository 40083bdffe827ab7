// SwarmService: what makes it look again (the engine's events), and the deployment timeout
// with Swarm's rollback.
#include <boost/asio/post.hpp>

#include "deploy/service_common.h"
#include "deploy/swarm_plan.h"
#include "deploy/swarm_service.h"

namespace kiln::deploy {
namespace {

// After an event the service is read at once and again after these delays: the manager learns
// a task's new state from its node's agent a little after the container event (and Swarm's
// task states have no event of their own), so a read right at the event can come too early.
// Nothing is read while nothing happens: this is a trailing echo of each event, not a poll.
constexpr int64_t kEchoMs[] = {250, 750, 2000};

}  // namespace

// Two streams: a filter's terms are ANDed and a service event carries no labels, so the
// containers' (by label) and the service's (by name) cannot share one.
base::Status SwarmService::Watch() {
  std::weak_ptr<int> life = life_;
  auto news = [this, life] {
    boost::asio::post(*ctx_.loop, [this, life] {
      if (life.lock()) OnNews();
    });
  };
  std::string name = SwarmServiceName(spec_.name);
  auto containers = exec::EngineEventStream::Start(
      {.endpoint = endpoint_,
       .labels = {{"kiln.service", spec_.name}, {"kiln.state", state_label_}}},
      [news](const exec::EngineEvent&) { news(); }, [](const base::Status&) {}, news);
  if (!containers.ok()) return containers.status();
  events_ = std::move(*containers);
  auto service = exec::EngineEventStream::Start(
      {.endpoint = endpoint_, .service = name},
      [news, name](const exec::EngineEvent& e) {
        // The engine matches the name as a prefix: kiln-web also brings kiln-web2's events.
        auto it = e.attributes.find("name");
        if (it != e.attributes.end() && it->second == name) news();
      },
      [](const base::Status&) {}, news);
  if (!service.ok()) return service.status();
  service_events_ = std::move(*service);
  return base::Status::Ok();
}

void SwarmService::OnNews() {
  Refresh();
  echo_step_ = 0;
  ArmEcho();
}

void SwarmService::ArmEcho() {
  if (echo_step_ >= int(std::size(kEchoMs)) || shut_down_) return;
  echo_.expires_after(std::chrono::milliseconds(kEchoMs[echo_step_++]));
  echo_.async_wait([this, life = std::weak_ptr<int>(life_)](const boost::system::error_code& ec) {
    if (ec || !life.lock() || shut_down_) return;
    Refresh();
    ArmEcho();
  });
}

void SwarmService::ArmTimeout(Deployment& d, int64_t action_timeout_ms) {
  d.timeout = std::make_unique<boost::asio::steady_timer>(*ctx_.loop);
  d.timeout->expires_after(
      std::chrono::milliseconds(DeploymentLimitMs(action_timeout_ms, spec_.deployment_timeout_ms)));
  d.timeout->async_wait([this, life = std::weak_ptr<int>(life_), id = d.row.id,
                         action_timeout_ms](const boost::system::error_code& ec) {
    if (ec || !life.lock() || shut_down_) return;
    TimedOut(id, action_timeout_ms);
  });
}

// The deployment fails and the service goes back to the newest revision that completed (ECS's
// rollback target; never the one that failed, also after a restart): through Swarm's own
// rollback when that revision is the previous spec of the update that timed out, else as an
// update to it (new ports), else not at all when Swarm already runs it.
void SwarmService::TimedOut(const std::string& id, int64_t action_timeout_ms) {
  Deployment* d = Primary();
  if (!d || d->row.id != id || d->row.rollout_state != "IN_PROGRESS") return;
  std::string reason = TimedOutReason(action_timeout_ms, spec_.deployment_timeout_ms);
  if (d->rollback) return Finish(*d, false, reason + "; a rollback is not rolled back");
  auto last = ctx_.store->LastCompleted(spec_.name, d->row.revision);
  if (!last.ok() || !*last) {
    return Finish(*d, false, reason + "; there is no earlier completed revision to roll back to");
  }
  int64_t back = (*last)->revision;
  int64_t deployed = info_ ? RevisionOf(info_->spec) : 0;
  bool swarm_previous = deployed == d->row.revision && info_->previous_spec &&
                        RevisionOf(*info_->previous_spec) == back;
  // Swarm's rollback still wants a valid spec in the body: the one it leaves.
  auto plan = deployed == back
                  ? base::Result<exec::SwarmServiceSpec>(exec::SwarmServiceSpec{})
                  : PlanFor(swarm_previous ? d->row.revision : back, desired_, !swarm_previous);
  if (!plan.ok()) {
    return Finish(*d, false, reason + "; cannot roll back: " + plan.status().message());
  }
  Finish(*d, false, reason, back);
  std::string rollback_id = Record(back, nullptr, "");
  Primary()->rollback = true;
  if (deployed == back) return;  // Swarm runs it: the rollback settles as it is
  if (swarm_previous) return RollBackTo(back, std::move(*plan));
  Apply(std::move(*plan), rollback_id);
}

void SwarmService::RollBackTo(int64_t revision, exec::SwarmServiceSpec current) {
  Deployment* back = Primary();
  back->applied_ns = EngineNowNs();
  if (info_ && info_->previous_spec) port_prefix_ = PortPrefixOf(info_->previous_spec->env);
  Offload(
      [this, current = std::move(current)]() -> base::Status {
        auto login = LoginFor(current.image);
        for (int attempt = 0;; ++attempt) {
          auto info = client_.InspectService(current.name);
          if (!info.ok()) return info.status();
          auto st = client_.UpdateService(info->id, info->version, current, true, login);
          if (st.ok() || attempt == 1) return st;
          if (st.message().find("out of sequence") == std::string::npos) return st;
        }
      },
      [this, id = back->row.id, revision](base::Status st) {
        Deployment* d = Primary();
        if (st.ok()) return OnNews();
        if (d && d->row.id == id && d->row.rollout_state == "IN_PROGRESS") {
          Finish(*d, false,
                 "Swarm refused the rollback to revision " + std::to_string(revision) + ": " +
                     st.message());
        }
      });
}

}  // namespace kiln::deploy
