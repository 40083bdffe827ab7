#include "server/poller.h"

#include "pipeline/engine.h"
#include "server/api_handlers.h"
#include "source/connection_fetch.h"
#include "source/git_mirror.h"
#include "source/trigger_filter.h"

namespace kiln::server {

Poller::Poller(ServerContext& ctx, std::function<void()> queued)
    : ctx_(ctx), queued_(std::move(queued)) {
  for (const auto& conn : ctx.config.connections) {
    if (conn.poll_ms <= 0) continue;
    threads_.emplace_back([this, &conn] { Run(conn); });
  }
}

Poller::~Poller() { Stop(); }

void Poller::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Poller::Run(const spec::Connection& conn) {
  for (;;) {
    PollOnce(conn);
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, std::chrono::milliseconds(conn.poll_ms), [this] { return stop_; })) {
      return;
    }
  }
}

void Poller::PollOnce(const spec::Connection& conn) {
  auto fetch = source::ConnectionFetchOptions(ctx_.config, conn);
  if (!fetch.ok()) return;
  source::GitMirror mirror(ctx_.state_dir / "git");
  if (!mirror.Fetch(*fetch).ok()) {
    ctx_.metrics.Count("kiln_polls_total", {{"connection", conn.name}, {"outcome", "error"}});
    return;
  }
  ctx_.metrics.Count("kiln_polls_total", {{"connection", conn.name}, {"outcome", "ok"}});
  auto same = source::SameConnectionIn(ctx_.config, conn.name);
  std::vector<store::QueuedExecution> starts;
  for (const auto& [name, entry] : ctx_.catalog) {
    for (const auto& stage : entry.pipeline.stages) {
      for (const auto& action : stage.actions) {
        if (action.type.category != "Source" || !same(source::SourceActionConnection(action))) {
          continue;
        }
        std::string branch = action.Config("BranchName").value_or("");
        if (branch.empty() || action.Config("DetectChanges").value_or("true") == "false") continue;
        auto commit = mirror.Resolve(*fetch, branch);
        if (!commit.ok()) continue;
        pipeline::StartOptions start{.revision = commit->commit_id,
                                     .trigger_type = "PollForSourceChanges",
                                     .trigger_detail = action.name + " " + branch};
        auto q = pipeline::Engine::Queue(entry.pipeline, entry.version, start, commit->commit_id);
        if (q.ok()) starts.push_back(std::move(*q));
      }
    }
  }
  if (starts.empty()) return;
  ctx_.writer.Post([this, starts = std::move(starts)](store::Store* s) {
    if (!s) return;
    auto r = s->Accept({}, starts, {});
    if (!r.ok() || r->executions.empty()) return;
    PublishQueued(ctx_, starts, *r);
    queued_();
  });
}

}  // namespace kiln::server
