#include "pipeline/engine.h"

#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "base/ids.h"
#include "base/json_text.h"
#include "pipeline/execution_context.h"
#include "pipeline/liveness.h"

namespace kiln::pipeline {
namespace fs = std::filesystem;
namespace {

using nlohmann::json;

// How a stage ended.
enum class StageEnd { kSucceeded, kFailed, kStopped, kSuperseded };

class ExecutionRun {
 public:
  ExecutionRun(const EngineOptions& options, const spec::Pipeline& pipeline)
      : options_(options), pipeline_(pipeline) {
    ctx_.options = &options_;
    ctx_.pipeline = &pipeline_;
  }
  ~ExecutionRun() {
    {
      std::lock_guard lock(watch_mu_);
      stop_watch_ = true;
    }
    watch_cv_.notify_all();
    if (watcher_.joinable()) watcher_.join();
    if (ctx_.cancel_read >= 0) ::close(ctx_.cancel_read);
    if (ctx_.cancel_write >= 0) ::close(ctx_.cancel_write);
    std::error_code ec;
    if (!ctx_.work_dir.empty()) fs::remove_all(ctx_.work_dir, ec);
  }

  base::Status Open(const std::string& execution_id);
  base::Status Begin(const StartOptions& start);
  base::Status Create(int64_t version, const StartOptions& start);
  base::Status StartQueued();
  base::Status Resume(const std::string& stage);
  base::Status ResumeLocked(const std::string& stage);
  base::Status CheckNotSuperseded(const store::ExecutionRow& self, const std::string& stage);
  base::Status ClaimWorkDir();
  base::Status RunFrom(size_t first_stage, const std::string& retry_mode);

 private:
  base::Status WaitForTurn();
  base::Result<bool> EnterStage(size_t index);  // false: superseded
  StageEnd RunStage(size_t index, int attempt, const std::string& retry_mode);
  std::string RunActionLocked(const spec::Stage& stage, const spec::Action& action, int attempt,
                              std::string* summary);
  void Finish(const std::string& status, const std::string& summary);
  void WatchStopRequests();
  bool StopRequested();
  void Notify(const std::string& status, const std::string& summary) {
    if (options_.observer) options_.observer->OnExecution(ctx_.execution_id, status, summary);
  }

  EngineOptions options_;
  const spec::Pipeline& pipeline_;
  ExecutionContext ctx_;
  std::string mode_;
  std::thread watcher_;
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool stop_watch_ = false;  // guarded by watch_mu_
  std::atomic<bool> stop_wait_{false};
  std::string failure_;
};

base::Status ExecutionRun::Open(const std::string& execution_id) {
  ctx_.execution_id = execution_id;
  auto store = store::Store::Open((options_.state_dir / "kiln.db").string());
  if (!store.ok()) return store.status();
  ctx_.store = std::move(*store);
  ctx_.artifacts = std::make_unique<store::ArtifactStore>(options_.state_dir / "artifacts");
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return base::IoError("pipe", errno);
  ctx_.cancel_read = p[0];
  ctx_.cancel_write = p[1];
  mode_ = std::string(spec::ExecutionModeName(pipeline_.execution_mode));
  return base::Status::Ok();
}

base::Result<std::map<std::string, std::string>> PipelineVariables(const spec::Pipeline& pipeline,
                                                                   const StartOptions& start) {
  std::map<std::string, std::string> vars;
  for (const auto& v : pipeline.variables) vars[v.name] = v.default_value;
  for (const auto& [k, v] : start.variables) {
    if (!vars.contains(k)) {
      return base::InvalidInput("variable '" + k + "' is not declared by pipeline " +
                                pipeline.name);
    }
    vars[k] = v;
  }
  return vars;
}

base::Status ExecutionRun::Begin(const StartOptions& start) {
  auto vars = PipelineVariables(pipeline_, start);
  if (!vars.ok()) return vars.status();
  ctx_.namespaces["variables"] = *vars;
  ctx_.namespaces["codepipeline"] = {{"PipelineExecutionId", ctx_.execution_id}};
  ctx_.revision_override = start.revision;
  return base::Status::Ok();
}

base::Status ExecutionRun::StartQueued() {
  std::lock_guard lock(ctx_.mu);
  auto text = ctx_.store->StartJson(ctx_.execution_id);
  if (!text.ok()) return text.status();
  auto start = StartOptionsFromJson(*text);
  if (!start.ok()) return start.status();
  if (auto st = Begin(*start); !st.ok()) return st;
  auto claimed = ctx_.store->ClaimQueued(ctx_.execution_id, ::getpid(), SelfToken());
  if (!claimed.ok()) return claimed.status();
  if (!*claimed) {
    return base::Status(base::ErrorKind::kFailed,
                        "execution " + ctx_.execution_id + " is not queued any more");
  }
  if (auto st = ClaimWorkDir(); !st.ok()) return st;
  Notify("InProgress", "");
  return ctx_.SaveVariablesLocked();
}

base::Status ExecutionRun::Create(int64_t version, const StartOptions& start) {
  if (auto st = Begin(start); !st.ok()) return st;
  store::ExecutionRow row{.id = ctx_.execution_id,
                          .pipeline = pipeline_.name,
                          .pipeline_version = version,
                          .status = "InProgress",
                          .trigger_type = start.trigger_type,
                          .trigger_detail = start.trigger_detail,
                          .execution_mode = mode_,
                          .start_ms = base::NowMillis(),
                          .owner_pid = ::getpid(),
                          .owner_token = SelfToken()};
  std::lock_guard lock(ctx_.mu);
  if (auto st = ctx_.store->InsertExecution(&row); !st.ok()) return st;
  if (auto st = ClaimWorkDir(); !st.ok()) return st;
  Notify("InProgress", "");
  return ctx_.SaveVariablesLocked();
}

// Made (and removed at the end) only by the process that runs the execution: a retry that is
// refused must not remove the folder of the process running it.
base::Status ExecutionRun::ClaimWorkDir() {
  ctx_.work_dir = options_.state_dir / "executions" / ctx_.execution_id;
  std::error_code ec;
  fs::create_directories(ctx_.work_dir, ec);
  if (ec) return base::IoError("create " + ctx_.work_dir.string(), ec.value());
  return base::Status::Ok();
}

bool ExecutionRun::StopRequested() { return stop_wait_ || ctx_.abandon; }

void ExecutionRun::WatchStopRequests() {
  auto store = store::Store::Open((options_.state_dir / "kiln.db").string());
  if (!store.ok()) return;
  for (;;) {
    {
      std::unique_lock lock(watch_mu_);
      if (watch_cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms),
                             [this] { return stop_watch_; })) {
        return;
      }
    }
    auto row = (*store)->GetExecution(ctx_.execution_id);
    if (row.ok() && *row) {
      if ((*row)->stop_request == "abandon" && !ctx_.abandon) {
        ctx_.abandon = true;
        [[maybe_unused]] ssize_t n = ::write(ctx_.cancel_write, "x", 1);
      }
      if ((*row)->stop_request == "wait") stop_wait_ = true;
    }
  }
}

// QUEUED: executions are processed one at a time, in the order they were started.
base::Status ExecutionRun::WaitForTurn() {
  if (pipeline_.execution_mode != spec::ExecutionMode::kQueued) return base::Status::Ok();
  for (;;) {
    std::vector<store::ExecutionRow> active;
    {
      std::lock_guard lock(ctx_.mu);
      (void)ReconcileDeadExecutions(*ctx_.store);  // housekeeping, retried at the next turn
      auto r = ctx_.store->ActiveExecutions(pipeline_.name);
      if (!r.ok()) return r.status();
      active = std::move(*r);
    }
    if (active.empty() || active.front().id == ctx_.execution_id) return base::Status::Ok();
    if (StopRequested()) return base::Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.poll_ms));
  }
}

// SUPERSEDED: one execution per stage; a newer execution waiting in front of the same stage
// supersedes an older waiting one (AWS-SEMANTICS.md §2.4).
base::Result<bool> ExecutionRun::EnterStage(size_t index) {
  if (pipeline_.execution_mode != spec::ExecutionMode::kSuperseded) return true;
  const std::string& stage = pipeline_.stages[index].name;
  bool waiting = false;
  for (;;) {
    std::lock_guard lock(ctx_.mu);
    (void)ReconcileDeadExecutions(*ctx_.store);  // housekeeping, retried at the next turn
    auto got = ctx_.store->TryLockStage(pipeline_.name, stage, ctx_.execution_id);
    if (!got.ok()) return got.status();
    if (*got) {
      if (waiting)
        ctx_.Recorded(ctx_.store->SetWaitingStage(ctx_.execution_id, ""),
                      "the stage it waited for");
      return true;
    }
    if (!waiting) {
      waiting = true;
      if (auto st = ctx_.store->SetWaitingStage(ctx_.execution_id, stage); !st.ok()) return st;
    }
    auto active = ctx_.store->ActiveExecutions(pipeline_.name);
    if (!active.ok()) return active.status();
    for (const auto& e : *active) {
      if (e.id != ctx_.execution_id && e.waiting_stage == stage && e.seq > 0) {
        auto self = ctx_.store->GetExecution(ctx_.execution_id);
        if (self.ok() && *self && e.seq > (*self)->seq) return false;
      }
    }
    if (StopRequested()) return true;
    ctx_.mu.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.poll_ms));
    ctx_.mu.lock();
  }
}

std::string ExecutionRun::RunActionLocked(const spec::Stage& stage, const spec::Action& action,
                                          int attempt, std::string* summary) {
  store::ActionRow row{.execution_id = ctx_.execution_id,
                       .stage = stage.name,
                       .action = action.name,
                       .run_order = action.run_order,
                       .status = "InProgress",
                       .start_ms = base::NowMillis(),
                       .attempt = attempt};
  if (action.type.provider == "Manual") row.token = base::NewUuid();  // approval token (AWS)
  spec::Action resolved = action;
  {
    std::lock_guard lock(ctx_.mu);
    ctx_.Recorded(ctx_.store->PutAction(row), "action " + action.name);
    for (auto& [key, value] : resolved.configuration) {
      // EnvironmentVariables is JSON text: a value with a quote or a line break (a commit
      // message) is escaped to stay one JSON string. CodePipeline fails such an action with
      // "does not match the expected format"; Kiln passes the value through intact.
      bool json_text = action.type.provider == "CodeBuild" && key == "EnvironmentVariables";
      auto v = ResolveVariables(value, ctx_.namespaces,
                                json_text ? Quoting::kJsonString : Quoting::kNone);
      if (!v.ok()) {
        row.status = "Failed";
        row.summary = v.status().message();
        row.end_ms = base::NowMillis();
        ctx_.Recorded(ctx_.store->PutAction(row), "action " + action.name);
        *summary = row.summary;
        return row.status;
      }
      value = *v;
    }
  }
  if (options_.observer) options_.observer->OnAction(stage.name, action.name, "InProgress", "");
  ActionOutcome out = RunAction(ctx_, stage, resolved, attempt);
  row.status = out.status;
  row.summary = out.summary;
  row.external_id = out.external_id;
  row.output_variables_json = base::JsonText(json(out.variables));
  row.end_ms = base::NowMillis();
  {
    std::lock_guard lock(ctx_.mu);
    ctx_.Recorded(ctx_.store->PutAction(row), "action " + action.name);
    if (!action.namespace_name.empty() && out.status == "Succeeded") {
      ctx_.namespaces[action.namespace_name] = out.variables;
      ctx_.Recorded(ctx_.SaveVariablesLocked(), "the variables of " + action.namespace_name);
    }
  }
  if (options_.observer) {
    options_.observer->OnAction(stage.name, action.name, out.status, out.summary);
  }
  *summary = out.summary;
  return out.status;
}

StageEnd ExecutionRun::RunStage(size_t index, int attempt, const std::string& retry_mode) {
  const spec::Stage& stage = pipeline_.stages[index];
  std::set<std::string> succeeded;  // FAILED_ACTIONS retries skip what already succeeded
  if (retry_mode == "FAILED_ACTIONS") {
    std::lock_guard lock(ctx_.mu);
    auto rows = ctx_.store->Actions(ctx_.execution_id);
    if (rows.ok()) {
      for (const auto& r : *rows) {
        if (r.stage == stage.name && r.status == "Succeeded") succeeded.insert(r.action);
      }
    }
  }
  store::StageRow row{ctx_.execution_id,
                      stage.name,
                      static_cast<int>(index),
                      "InProgress",
                      base::NowMillis(),
                      0,
                      attempt};
  {
    std::lock_guard lock(ctx_.mu);
    ctx_.Recorded(ctx_.store->PutStage(row), "stage " + stage.name);
  }
  if (options_.observer) options_.observer->OnStage(stage.name, "InProgress");
  std::set<int> orders;
  for (const auto& a : stage.actions) orders.insert(a.run_order);
  StageEnd end = StageEnd::kSucceeded;
  for (int order : orders) {
    if (StopRequested()) {
      end = StageEnd::kStopped;
      break;
    }
    std::vector<std::thread> threads;
    std::vector<std::pair<std::string, std::string>> results;  // status, summary
    std::vector<const spec::Action*> group;
    for (const auto& a : stage.actions) {
      if (a.run_order == order && !succeeded.contains(a.name)) group.push_back(&a);
    }
    results.resize(group.size());
    for (size_t i = 0; i < group.size(); ++i) {
      threads.emplace_back([&, i] {
        results[i].first = RunActionLocked(stage, *group[i], attempt, &results[i].second);
      });
    }
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < results.size(); ++i) {
      if (results[i].first == "Abandoned") end = StageEnd::kStopped;
      if (results[i].first == "Failed" && end == StageEnd::kSucceeded) {
        end = StageEnd::kFailed;
        failure_ = "Action " + group[i]->name + " failed: " + results[i].second;
      }
    }
    if (end != StageEnd::kSucceeded) break;
  }
  row.status = end == StageEnd::kSucceeded ? "Succeeded"
               : end == StageEnd::kFailed  ? "Failed"
                                           : "Stopped";
  row.end_ms = base::NowMillis();
  {
    std::lock_guard lock(ctx_.mu);
    ctx_.Recorded(ctx_.store->PutStage(row), "stage " + stage.name);
    // A stage is unlocked when the execution leaves it, also after a failure.
    ctx_.Recorded(ctx_.store->UnlockStage(pipeline_.name, stage.name, ctx_.execution_id),
                  "the unlock of stage " + stage.name);
  }
  if (options_.observer) options_.observer->OnStage(stage.name, row.status);
  return end;
}

void ExecutionRun::Finish(const std::string& status, const std::string& summary) {
  std::lock_guard lock(ctx_.mu);
  // An execution whose record is incomplete does not claim success (ExecutionContext::Recorded).
  bool lost = !ctx_.store_failure.empty() && status == "Succeeded";
  const std::string& final_status = lost ? std::string("Failed") : status;
  const std::string& final_summary = lost ? ctx_.store_failure : summary;
  ctx_.Recorded(ctx_.store->SetExecutionStatus(ctx_.execution_id, final_status, final_summary,
                                               base::NowMillis()),
                "the execution's end (" + final_status + ")");
  ctx_.Recorded(ctx_.store->UnlockAll(ctx_.execution_id), "the release of its stages");
  ctx_.Recorded(ctx_.store->SetWaitingStage(ctx_.execution_id, ""), "its waiting stage");
  Notify(final_status, final_summary);
}

base::Status ExecutionRun::RunFrom(size_t first_stage, const std::string& retry_mode) {
  watcher_ = std::thread([this] { WatchStopRequests(); });
  if (auto st = WaitForTurn(); !st.ok()) return st;
  for (size_t i = first_stage; i < pipeline_.stages.size(); ++i) {
    if (StopRequested()) {
      Finish("Stopped", "Stopped by request");
      return base::Status::Ok();
    }
    auto entered = EnterStage(i);
    if (!entered.ok()) return entered.status();
    if (!*entered) {
      Finish("Superseded",
             "Superseded by a newer execution waiting for stage " + pipeline_.stages[i].name);
      return base::Status::Ok();
    }
    int attempt = 1;
    if (i == first_stage && !retry_mode.empty()) {
      std::lock_guard lock(ctx_.mu);
      auto stages = ctx_.store->Stages(ctx_.execution_id);
      if (stages.ok()) {
        for (const auto& s : *stages) {
          if (s.stage == pipeline_.stages[i].name) attempt = s.attempt + 1;
        }
      }
    }
    StageEnd end = RunStage(i, attempt, i == first_stage ? retry_mode : "");
    if (end == StageEnd::kFailed) {
      Finish("Failed", failure_);
      return base::Status::Ok();
    }
    if (end == StageEnd::kStopped) {
      Finish("Stopped", "Stopped by request");
      return base::Status::Ok();
    }
  }
  Finish("Succeeded", "");
  return base::Status::Ok();
}

// SUPERSEDED: a newer execution entering a stage supersedes a failed or stopped one there,
// which can then no longer be retried (AWS-SEMANTICS.md 2.4).
base::Status ExecutionRun::CheckNotSuperseded(const store::ExecutionRow& self,
                                              const std::string& stage) {
  if (pipeline_.execution_mode != spec::ExecutionMode::kSuperseded) return base::Status::Ok();
  auto rows = ctx_.store->ListExecutions(pipeline_.name);
  if (!rows.ok()) return rows.status();
  for (const auto& e : *rows) {
    if (e.seq <= self.seq) continue;
    auto stages = ctx_.store->Stages(e.id);
    if (!stages.ok()) return stages.status();
    for (const auto& s : *stages) {
      if (s.stage != stage) continue;
      return base::Status(base::ErrorKind::kFailed,
                          "a newer execution " + e.id + " has entered stage " + stage +
                              ", so execution " + self.id + " can no longer be retried");
    }
  }
  return base::Status::Ok();
}

base::Status ExecutionRun::Resume(const std::string& stage) {
  std::lock_guard lock(ctx_.mu);
  // Checked and claimed in one transaction: of two retries started together, one runs.
  auto st = ctx_.store->db().Transaction([&] { return ResumeLocked(stage); });
  return st.ok() ? ClaimWorkDir() : st;
}

base::Status ExecutionRun::ResumeLocked(const std::string& stage) {
  auto row = ctx_.store->GetExecution(ctx_.execution_id);
  if (!row.ok()) return row.status();
  if (!*row) return base::NotFound("no execution " + ctx_.execution_id);
  if ((*row)->status != "Failed" && (*row)->status != "Stopped") {
    return base::Status(base::ErrorKind::kFailed,
                        "execution " + ctx_.execution_id + " is " + (*row)->status +
                            ": only Failed or Stopped executions can be retried");
  }
  auto vars = json::parse((*row)->variables_json, nullptr, false);
  if (vars.is_object()) {
    for (auto& [ns, kv] : vars.items()) {
      ctx_.namespaces[ns] = kv.get<std::map<std::string, std::string>>();
    }
  }
  auto revs = json::parse((*row)->source_revisions_json, nullptr, false);
  if (revs.is_array()) {
    for (const auto& r : revs) {
      ctx_.revisions.push_back(
          {r.value("actionName", ""), r.value("revisionId", ""), r.value("revisionSummary", "")});
    }
  }
  auto artifacts = ctx_.store->Artifacts(ctx_.execution_id);
  if (!artifacts.ok()) return artifacts.status();
  for (const auto& a : *artifacts) ctx_.artifact_hashes[a.name] = a.sha256;
  auto stages = ctx_.store->Stages(ctx_.execution_id);
  if (!stages.ok()) return stages.status();
  bool retryable = false;
  for (const auto& s : *stages) {
    if (s.stage == stage) retryable = s.status == "Failed" || s.status == "Stopped";
  }
  if (!retryable) {
    return base::Status(
        base::ErrorKind::kFailed,
        "stage " + stage + " did not fail or stop in execution " + ctx_.execution_id);
  }
  if (auto st = CheckNotSuperseded(**row, stage); !st.ok()) return st;
  if (auto st = ctx_.store->SetStopRequest(ctx_.execution_id, ""); !st.ok()) return st;
  if (auto st = ctx_.store->SetOwner(ctx_.execution_id, ::getpid(), SelfToken()); !st.ok()) {
    return st;
  }
  return ctx_.store->SetExecutionStatus(ctx_.execution_id, "InProgress", "", 0);
}

}  // namespace

void ExecutionContext::Recorded(const base::Status& written, std::string_view what) {
  if (written.ok()) return;
  std::string reason = "the store could not record " + std::string(what) + ": " + written.message();
  std::fprintf(stderr, "kiln: execution %s: %s\n", execution_id.c_str(), reason.c_str());
  if (store_failure.empty()) store_failure = std::move(reason);
}

base::Status ExecutionContext::SaveVariablesLocked() {
  json vars = json::object();
  for (const auto& [ns, kv] : namespaces) vars[ns] = kv;
  json revs = json::array();
  for (const auto& r : revisions) {
    revs.push_back(
        {{"actionName", r.action}, {"revisionId", r.revision_id}, {"revisionSummary", r.summary}});
  }
  return store->SetExecutionVariables(execution_id, base::JsonText(vars), base::JsonText(revs));
}

Engine::Engine(EngineOptions options) : options_(std::move(options)) {}
Engine::~Engine() = default;

base::Result<std::string> Engine::Run(const spec::Pipeline& pipeline, int64_t version,
                                      const StartOptions& start) {
  ExecutionRun run(options_, pipeline);
  std::string id = base::NewUuid();
  if (auto st = run.Open(id); !st.ok()) return st;
  if (auto st = run.Create(version, start); !st.ok()) return st;
  if (auto st = run.RunFrom(0, ""); !st.ok()) return st;
  return id;
}

base::Status Engine::RunQueued(const spec::Pipeline& pipeline, const std::string& execution_id) {
  ExecutionRun run(options_, pipeline);
  if (auto st = run.Open(execution_id); !st.ok()) return st;
  if (auto st = run.StartQueued(); !st.ok()) return st;
  return run.RunFrom(0, "");
}

base::Result<store::QueuedExecution> Engine::Queue(const spec::Pipeline& pipeline, int64_t version,
                                                   const StartOptions& start,
                                                   const std::string& dedupe_revision) {
  if (auto vars = PipelineVariables(pipeline, start); !vars.ok()) return vars.status();
  store::QueuedExecution q;
  q.row = {.id = base::NewUuid(),
           .pipeline = pipeline.name,
           .pipeline_version = version,
           .status = "Queued",
           .trigger_type = start.trigger_type,
           .trigger_detail = start.trigger_detail,
           .execution_mode = std::string(spec::ExecutionModeName(pipeline.execution_mode)),
           .start_ms = base::NowMillis()};
  q.start_json = StartOptionsToJson(start);
  q.revision = dedupe_revision;
  return q;
}

std::string StartOptionsToJson(const StartOptions& start) {
  return base::JsonText(json{{"variables", start.variables},
                             {"revision", start.revision},
                             {"triggerType", start.trigger_type},
                             {"triggerDetail", start.trigger_detail}});
}

namespace {

base::Status WrongType(const std::string& path, const char* expected, const json& got) {
  return base::InvalidInput("field '" + path + "': expected " + expected + ", got " +
                            got.type_name());
}

// A stored field: absent keeps *out; any type but string is an error naming the field.
base::Status StoredString(const json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) return base::Status::Ok();
  if (!it->is_string()) return WrongType(key, "a string", *it);
  *out = it->get<std::string>();
  return base::Status::Ok();
}

base::Status StoredVariables(const json& j, StartOptions* start) {
  auto it = j.find("variables");
  if (it == j.end()) return base::Status::Ok();
  if (!it->is_object()) return WrongType("variables", "an object", *it);
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return WrongType("variables." + k, "a string", v);
    start->variables[k] = v.get<std::string>();
  }
  return base::Status::Ok();
}

}  // namespace

// Written by StartOptionsToJson; anything else (an old row, a hand edit) is refused with the
// field, so the execution fails with a reason instead of running with half its options.
base::Result<StartOptions> StartOptionsFromJson(const std::string& text) {
  StartOptions start;
  if (text.empty()) return start;  // rows written before start_json existed
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return base::InvalidInput("the stored start options are not a JSON object");
  for (auto st : {StoredVariables(j, &start), StoredString(j, "revision", &start.revision),
                  StoredString(j, "triggerType", &start.trigger_type),
                  StoredString(j, "triggerDetail", &start.trigger_detail)}) {
    if (!st.ok())
      return base::InvalidInput("the stored start options are not valid: " + st.message());
  }
  return start;
}

base::Status Engine::Retry(const spec::Pipeline& pipeline, const std::string& execution_id,
                           const std::string& stage, const std::string& mode) {
  if (mode != "FAILED_ACTIONS" && mode != "ALL_ACTIONS") {
    return base::InvalidInput("retry mode must be FAILED_ACTIONS or ALL_ACTIONS, not " + mode);
  }
  size_t index = pipeline.stages.size();
  for (size_t i = 0; i < pipeline.stages.size(); ++i) {
    if (pipeline.stages[i].name == stage) index = i;
  }
  if (index == pipeline.stages.size()) {
    return base::InvalidInput("pipeline " + pipeline.name + " has no stage " + stage);
  }
  ExecutionRun run(options_, pipeline);
  if (auto st = run.Open(execution_id); !st.ok()) return st;
  if (auto st = run.Resume(stage); !st.ok()) return st;
  return run.RunFrom(index, mode);
}

}  // namespace kiln::pipeline
