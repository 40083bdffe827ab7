#include "server/runner.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string_view>

#include "base/files.h"
#include "base/ids.h"
#include "base/json_text.h"
#include "codebuild/engine.h"
#include "codebuild/environment.h"
#include "pipeline/execution_status.h"
#include "server/api_intake.h"
#include "server/build_source.h"
#include "server/catch_boundary.h"
#include "store/store.h"

namespace kiln::server {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Publishes an execution's progress as events (one observer per execution).
class ExecutionEvents : public pipeline::ExecutionObserver {
 public:
  ExecutionEvents(EventHub& events, Metrics& metrics, std::string pipeline, std::string id)
      : events_(events), metrics_(metrics), pipeline_(std::move(pipeline)), id_(std::move(id)) {}
  void OnExecution(const std::string& id, const std::string& status,
                   const std::string& summary) override {
    events_.Publish("execution", pipeline_, id,
                    {{"pipelineName", pipeline_},
                     {"pipelineExecutionId", id},
                     {"status", status},
                     {"statusSummary", summary}});
    if (status != "InProgress") {
      metrics_.Count("kiln_executions_finished_total",
                     {{"pipeline", pipeline_}, {"status", status}});
    }
  }
  void OnStage(const std::string& stage, const std::string& status) override {
    events_.Publish("stage", pipeline_, id_,
                    {{"pipelineExecutionId", id_}, {"stageName", stage}, {"status", status}});
  }
  void OnAction(const std::string& stage, const std::string& action, const std::string& status,
                const std::string& summary) override {
    events_.Publish("action", pipeline_, id_,
                    {{"pipelineExecutionId", id_},
                     {"stageName", stage},
                     {"actionName", action},
                     {"status", status},
                     {"summary", summary}});
  }
  void OnBuild(const std::string& stage, const std::string& action, const std::string& build_id,
               const std::string& status) override {
    events_.Publish("build", pipeline_, id_,
                    {{"pipelineExecutionId", id_},
                     {"stageName", stage},
                     {"actionName", action},
                     {"id", build_id},
                     {"buildStatus", status}});
  }
  // GetPipelineState's inboundExecution changed (and the cached state with it).
  void OnWaiting(const std::string& stage) override {
    events_.Publish("waiting", pipeline_, id_,
                    {{"pipelineExecutionId", id_}, {"stageName", stage}});
  }

 private:
  EventHub& events_;
  Metrics& metrics_;
  std::string pipeline_, id_;
};

// Ids become folder names (executions/<id>, server-builds/<uuid>) that are removed at the end:
// a stored id is used only if it has a uuid's characters, so no row can name "..".
bool IsSafeIdPart(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

// A server build's id is "<project>:<uuid>".
bool IsSafeBuildId(const std::string& id) {
  size_t colon = id.rfind(':');
  return colon != std::string::npos && colon > 0 && IsSafeIdPart(id.substr(colon + 1));
}

// threads_' keys: a build and an execution may have the same stored id, and assigning a
// thread over a running one would end the process.
std::string ExecutionKey(const std::string& id) { return "execution " + id; }
std::string BuildKey(const std::string& id) { return "build " + id; }

// At most 200 bytes of a stored value, for a reason that quotes it.
std::string Quote(const std::string& text) {
  return "'" + text.substr(0, 200) + (text.size() > 200 ? "...'" : "'");
}

}  // namespace

Runner::Runner(RunnerOptions options, EventHub& events, Metrics& metrics)
    : options_(std::move(options)), events_(events), metrics_(metrics) {}

Runner::~Runner() { Shutdown(0); }

void Runner::Start() {
  engine_ = std::make_unique<pipeline::Engine>(pipeline::EngineOptions{
      .state_dir = options_.state_dir, .config = options_.config, .deployer = options_.deployer});
  wake_pending_ = true;  // what a previous life left queued
  dispatcher_ = std::thread([this] { Dispatch(); });
}

void Runner::Notify(const std::string& execution_id) {
  std::lock_guard lock(mu_);
  if (engine_) engine_->Notify(execution_id);
}

void Runner::GatesChanged() {
  std::lock_guard lock(mu_);
  if (engine_) engine_->GatesChanged();
}

void Runner::Wake() {
  {
    std::lock_guard lock(mu_);
    wake_pending_ = true;
  }
  wake_.notify_all();
}

size_t Runner::running_executions() const {
  std::lock_guard lock(mu_);
  return executions_.size();
}

size_t Runner::running_builds() const {
  std::lock_guard lock(mu_);
  return builds_.size();
}

void Runner::Dispatch() {
  auto store = store::Store::Open((options_.state_dir / "kiln.db").string());
  if (!store.ok()) {
    std::fprintf(stderr, "kiln serve: runner cannot open the store: %s\n",
                 store.status().message().c_str());
    return;
  }
  for (;;) {
    std::vector<std::thread> done;
    {
      std::unique_lock lock(mu_);
      // Woken by new work (Wake) and by work that ended (Finished): nothing to poll.
      wake_.wait(lock, [this] { return wake_pending_ || stopping_; });
      if (stopping_) return;
      wake_pending_ = false;
      done.swap(finished_);
    }
    for (auto& t : done) {
      if (t.joinable()) t.join();
    }
    RunCatching("dispatcher", [&] {
      StartQueuedExecutions(**store);
      StartQueuedBuilds(**store);
    });
  }
}

void Runner::StartQueuedExecutions(store::Store& store) {
  auto rows = store.QueuedExecutions();
  if (!rows.ok()) return;
  size_t waiting = 0;
  std::vector<store::ExecutionRow> starts;
  std::unique_lock lock(mu_);
  for (const auto& row : *rows) {
    if (executions_.contains(row.id)) continue;
    if (static_cast<int>(executions_.size()) >= options_.max_executions) {
      ++waiting;
      continue;
    }
    executions_.insert(row.id);
    // Started outside the lock: a refusal calls back into ExecutionEnded.
    starts.push_back(row);
  }
  queued_ = waiting;
  lock.unlock();
  metrics_.Gauge("kiln_queue_depth", {{"kind", "execution"}}, static_cast<double>(waiting));
  for (const auto& row : starts) StartExecution(row);
}

void Runner::StartQueuedBuilds(store::Store& store) {
  auto rows = store.QueuedBuilds();
  if (!rows.ok()) return;
  size_t waiting = 0;
  std::lock_guard lock(mu_);
  for (const auto& row : *rows) {
    if (builds_.contains(row.id)) continue;
    if (static_cast<int>(builds_.size()) >= options_.max_builds ||
        builds_by_project_[row.project] >= options_.max_builds_per_project) {
      ++waiting;
      continue;
    }
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) break;
    builds_.insert(row.id);
    ++builds_by_project_[row.project];
    build_cancel_[row.id] = p[1];
    if (!RunCatching("start build " + row.id, [&] {
          threads_[BuildKey(row.id)] = std::thread([this, row, fd = p[0]] {
            RunBuildRow(row, fd);
            ::close(fd);
          });
        })) {
      builds_.erase(row.id);
      --builds_by_project_[row.project];
      build_cancel_.erase(row.id);
      threads_.erase(BuildKey(row.id));
      ::close(p[0]);
      ::close(p[1]);
    }
  }
  metrics_.Gauge("kiln_queue_depth", {{"kind", "build"}}, static_cast<double>(waiting));
}

std::optional<spec::Pipeline> Runner::PipelineOf(const store::ExecutionRow& row, std::string* why) {
  if (!IsSafeIdPart(row.id)) {
    *why = "the stored execution id " + Quote(row.id) + " is not valid";
    return std::nullopt;
  }
  std::optional<spec::Pipeline> pipeline =
      options_.find_pipeline ? options_.find_pipeline(row.pipeline, row.pipeline_version)
                             : std::nullopt;
  if (!pipeline) {
    *why = "pipeline " + Quote(row.pipeline) + " version " + std::to_string(row.pipeline_version) +
           " is not known to this server";
  }
  return pipeline;
}

void Runner::StartExecution(const store::ExecutionRow& row) {
  std::string why = "it could not be started";
  bool started = RunCatching("start execution " + row.id, [&] {
    std::optional<spec::Pipeline> pipeline = PipelineOf(row, &why);
    if (!pipeline) return ExecutionEnded(row, base::Status(base::ErrorKind::kFailed, why));
    engine_->StartQueued(*pipeline, row.id,
                         std::make_unique<ExecutionEvents>(events_, metrics_, row.pipeline, row.id),
                         [this, row](base::Status st) { ExecutionEnded(row, st); });
  });
  if (!started) ExecutionEnded(row, base::Status(base::ErrorKind::kInternal, why));
}

// On the engine's loop (or the dispatcher, for one that could not start).
void Runner::ExecutionEnded(const store::ExecutionRow& row, const base::Status& status) {
  if (!status.ok())
    RunCatching("execution " + row.id, [&] { FailExecution(row, status.message()); });
  Finished(ExecutionKey(row.id));
}

// A store write the runner could not make: said on stderr and counted, never swallowed (the
// record it names is then stale: the daemon's next start reconciles what it can).
void Runner::Recorded(const base::Status& written, const std::string& what) {
  if (written.ok()) return;
  std::fprintf(stderr, "kiln serve: store: could not record %s: %s\n", what.c_str(),
               written.message().c_str());
  metrics_.Count("kiln_store_write_failures_total", {});
}

// Marks the execution Failed with the reason, if it has not ended (a queued one, or one the
// engine left running when it gave up or threw).
void Runner::FailExecution(const store::ExecutionRow& row, const std::string& reason) {
  if (auto store = store::Store::Open((options_.state_dir / "kiln.db").string()); store.ok()) {
    auto current = (*store)->GetExecution(row.id);
    auto status = current.ok() && *current ? pipeline::ParseExecutionStatus((*current)->status)
                                           : std::nullopt;
    if (status && !pipeline::IsFinished(*status)) {
      Recorded((*store)->SetExecutionStatus(row.id, "Failed", reason, base::NowMillis()),
               "the failure of execution " + row.id);
      Recorded((*store)->UnlockAll(row.id), "the release of execution " + row.id + "'s stages");
    }
  }
  events_.Publish("execution", row.pipeline, row.id,
                  {{"pipelineName", row.pipeline},
                   {"pipelineExecutionId", row.id},
                   {"status", "Failed"},
                   {"statusSummary", reason}});
}

std::unique_ptr<store::Store> Runner::TakeStore() {
  {
    std::lock_guard lock(mu_);
    if (!idle_stores_.empty()) {
      auto s = std::move(idle_stores_.back());
      idle_stores_.pop_back();
      return s;
    }
  }
  auto s = store::Store::Open((options_.state_dir / "kiln.db").string());
  return s.ok() ? std::move(*s) : nullptr;
}

void Runner::ReturnStore(std::unique_ptr<store::Store> store) {
  if (!store) return;
  std::lock_guard lock(mu_);
  idle_stores_.push_back(std::move(store));
}

void Runner::RunBuildRow(const store::BuildRow& row, int cancel_read) {
  std::unique_ptr<store::Store> store = TakeStore();
  codebuild::BuildRecord record;
  std::string error;
  RunCatching(
      "build " + row.id,
      [&] { error = PrepareAndRunBuild(row, cancel_read, store.get(), &record); },
      [&](const std::string& reason) { error = reason; });
  RunCatching("build " + row.id, [&] { RecordBuildEnd(row, store.get(), record, error); });
  ReturnStore(std::move(store));
  {
    std::lock_guard lock(mu_);
    if (auto it = build_cancel_.find(row.id); it != build_cancel_.end()) {
      ::close(it->second);
      build_cancel_.erase(it);
    }
    --builds_by_project_[row.project];
  }
  Finished(BuildKey(row.id));
}

// Runs the build the row asks for; "" when it ran (its outcome is in *record), else why not.
std::string Runner::PrepareAndRunBuild(const store::BuildRow& row, int cancel_read,
                                       store::Store* store, codebuild::BuildRecord* record) {
  if (!store) return "the store cannot be opened";
  if (!IsSafeBuildId(row.id)) return "the stored build id " + Quote(row.id) + " is not valid";
  auto request = ParseStoredBuildRequest(row.record_json);
  if (!request.ok()) return "the stored build request is not valid: " + request.status().message();
  auto prepared = PrepareBuild(options_, row, *request);
  if (!prepared.ok()) return prepared.status().message();
  codebuild::BuildRequest& req = prepared->request;
  req.cancel_fd = cancel_read;
  bool recorded = false;
  req.on_update = [&](const codebuild::BuildRecord& r) {
    if (recorded || r.id.empty()) return;
    recorded = true;
    Recorded(store->PutBuild({r.id, r.project, r.build_number, "IN_PROGRESS", "",
                              base::JsonText(codebuild::ToJson(r)), r.log_path, r.start_ms, 0}),
             "build " + r.id);
    events_.Publish("build", "", "",
                    {{"id", r.id}, {"projectName", r.project}, {"buildStatus", "IN_PROGRESS"}});
  };
  *record = codebuild::RunBuild(req);
  std::error_code ec;
  fs::remove_all(prepared->work_dir, ec);
  return "";
}

// Writes the build's final record (or FAILED with the reason it did not run) and tells.
void Runner::RecordBuildEnd(const store::BuildRow& row, store::Store* store,
                            const codebuild::BuildRecord& record, const std::string& error) {
  std::string status = error.empty() ? std::string(codebuild::StatusName(record.status)) : "FAILED";
  if (store) {
    json rec = error.empty() ? codebuild::ToJson(record)
                             : json{{"id", row.id},
                                    {"projectName", row.project},
                                    {"buildStatus", "FAILED"},
                                    {"statusReason", error}};
    Recorded(store->PutBuild({row.id, row.project, record.build_number, status, "",
                              base::JsonText(rec), record.log_path,
                              error.empty() ? record.start_ms : row.start_ms, base::NowMillis()}),
             "the end of build " + row.id);
  }
  events_.Publish("build", "", "",
                  {{"id", row.id}, {"projectName", row.project}, {"buildStatus", status}});
  metrics_.Count("kiln_builds_finished_total", {{"project", row.project}, {"status", status}});
  if (error.empty()) {
    metrics_.Observe("kiln_build_duration_seconds",
                     static_cast<double>(record.end_ms - record.start_ms) / 1000.0);
  }
}

void Runner::Finished(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    if (key.starts_with(ExecutionKey(""))) executions_.erase(key.substr(ExecutionKey("").size()));
    if (key.starts_with(BuildKey(""))) builds_.erase(key.substr(BuildKey("").size()));
    if (auto it = threads_.find(key); it != threads_.end()) {
      finished_.push_back(std::move(it->second));
      threads_.erase(it);
    }
    wake_pending_ = true;
  }
  wake_.notify_all();
}

void Runner::Retry(const store::ExecutionRow& row, const std::string& stage,
                   const std::string& mode) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || executions_.contains(row.id) || !engine_) return;
    executions_.insert(row.id);
  }
  auto refused = [this, row](const std::string& why) {
    events_.Publish("execution", row.pipeline, row.id,
                    {{"pipelineExecutionId", row.id}, {"retryRefused", why}});
  };
  std::string why;
  std::optional<spec::Pipeline> pipeline = PipelineOf(row, &why);
  if (!pipeline) {
    refused(why);
    return Finished(ExecutionKey(row.id));
  }
  engine_->StartRetry(*pipeline, row.id, stage, mode,
                      std::make_unique<ExecutionEvents>(events_, metrics_, row.pipeline, row.id),
                      [this, row, refused](base::Status st) {
                        if (!st.ok()) refused(st.message());
                        Finished(ExecutionKey(row.id));
                      });
}

base::Status Runner::StopBuild(const std::string& build_id) {
  std::lock_guard lock(mu_);
  auto it = build_cancel_.find(build_id);
  if (it == build_cancel_.end()) return base::NotFound("build " + build_id + " is not running");
  [[maybe_unused]] ssize_t n = ::write(it->second, "x", 1);
  return base::Status::Ok();
}

void Runner::Shutdown(int64_t grace_ms) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !dispatcher_.joinable() && threads_.empty() && finished_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (dispatcher_.joinable()) dispatcher_.join();
  int64_t deadline = base::MonotonicMillis() + grace_ms;
  while (base::MonotonicMillis() < deadline) {
    {
      std::lock_guard lock(mu_);
      if (executions_.empty() && builds_.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::set<std::string> stopped;
  {
    std::lock_guard lock(mu_);
    stopped = executions_;
    for (auto& [id, fd] : build_cancel_) [[maybe_unused]] ssize_t n = ::write(fd, "x", 1);
  }
  auto store = store::Store::Open((options_.state_dir / "kiln.db").string());
  if (store.ok()) {
    for (const auto& id : stopped) {
      Recorded((*store)->SetStopRequest(id, "abandon"), "the stop of execution " + id);
      Notify(id);
    }
  }
  std::unique_ptr<pipeline::Engine> engine;
  {
    std::lock_guard lock(mu_);
    engine = std::move(engine_);
  }
  engine.reset();  // waits for the executions to end
  std::vector<std::thread> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, t] : threads_) all.push_back(std::move(t));
    threads_.clear();
    for (auto& t : finished_) all.push_back(std::move(t));
    finished_.clear();
  }
  for (auto& t : all) {
    if (t.joinable()) t.join();
  }
  if (!store.ok()) return;
  std::string reason = "kiln serve shut down: stopped after its grace time of " +
                       std::to_string(grace_ms / 1000) + " s";
  for (const auto& id : stopped) {
    auto row = (*store)->GetExecution(id);
    if (row.ok() && *row && (*row)->status == "Stopped") {
      Recorded((*store)->SetExecutionStatus(id, "Stopped", reason, (*row)->end_ms),
               "the reason execution " + id + " stopped");
    }
  }
}

}  // namespace kiln::server
