#include "server/scheduler.h"

#include <map>

#include "base/ids.h"
#include "pipeline/engine.h"
#include "server/api_handlers.h"
#include "spec/schedule.h"

namespace kiln::server {

Scheduler::Scheduler(ServerContext& ctx, std::function<void()> queued)
    : ctx_(ctx), queued_(std::move(queued)) {
  if (!ctx_.config.schedules.empty()) thread_ = std::thread([this] { Run(); });
}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::Run() {
  std::map<std::string, int64_t> next;  // schedule name -> next firing (ms, UTC)
  std::map<std::string, spec::ScheduleSpec> specs;
  for (const auto& s : ctx_.config.schedules) {
    std::string error;
    if (auto spec = spec::ParseSchedule(s.expression, &error)) specs[s.name] = *spec;
  }
  for (;;) {
    int64_t now = base::NowMillis();
    int64_t soonest = now + 3'600'000;
    for (const auto& s : ctx_.config.schedules) {
      if (!specs.contains(s.name)) continue;
      if (!next.contains(s.name)) next[s.name] = spec::NextFire(specs[s.name], now).value_or(-1);
      if (next[s.name] < 0) continue;
      if (next[s.name] <= now) {
        Fire(s, next[s.name]);
        next[s.name] = spec::NextFire(specs[s.name], now).value_or(-1);
      }
      if (next[s.name] >= 0) soonest = std::min(soonest, next[s.name]);
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(10, soonest - now)),
                     [this] { return stop_; })) {
      return;
    }
  }
}

void Scheduler::Fire(const spec::Schedule& schedule, int64_t at_ms) {
  auto it = ctx_.catalog.find(schedule.pipeline);
  if (it == ctx_.catalog.end()) return;
  pipeline::StartOptions start{.trigger_type = "CloudWatchEvent",
                               .trigger_detail = "schedule " + schedule.name + " (" +
                                                 schedule.expression + ") at " +
                                                 base::IsoTime(at_ms)};
  auto q = pipeline::Engine::Queue(it->second.pipeline, it->second.version, start,
                                   "schedule:" + schedule.name + ":" + std::to_string(at_ms));
  if (!q.ok()) return;
  ctx_.metrics.Count("kiln_schedule_firings_total", {{"schedule", schedule.name}});
  ctx_.writer.Post([this, q = std::move(*q)](store::Store* s) {
    if (!s) return;
    auto r = s->Accept({}, {q}, {});
    if (!r.ok() || r->executions.empty()) return;
    PublishQueued(ctx_, {q}, *r);
    queued_();
  });
}

}  // namespace kiln::server
