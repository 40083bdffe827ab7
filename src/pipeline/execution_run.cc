// An execution's steps on the engine's loop: planning, the rows each step writes, and the ends
// of its actions. (Its three ways in are in execution_start.cc.)
#include "pipeline/execution_run.h"

#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/ids.h"
#include "base/json_text.h"
#include "pipeline/liveness.h"

namespace kiln::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

ExecutionRun::ExecutionRun(RunHost& host, const EngineOptions& options,
                           const spec::Pipeline& pipeline, std::string id,
                           ExecutionObserver* observer)
    : host_(host),
      options_(options),
      plan_(pipeline, options.approval_timeout_ms),
      progress_(plan_.Fresh()),
      id_(std::move(id)),
      observer_(observer),
      stage_start_ms_(pipeline.stages.size(), 0) {}

ExecutionRun::~ExecutionRun() {
  std::error_code ec;
  if (!work_dir_.empty()) fs::remove_all(work_dir_, ec);
}

bool ExecutionRun::WaitsAtGate() const {
  return !ended() && (waiting_ == Waiting::kTurn || waiting_ == Waiting::kStage ||
                      waiting_ == Waiting::kTransition);
}

// A store write's result, handled: a failure is said on stderr at once (what names the record)
// and the first one is kept, so that the execution, whose record is now incomplete, ends
// Failed with that reason rather than claiming a success it could not record.
void ExecutionRun::Recorded(const base::Status& written, const std::string& what) {
  if (written.ok()) return;
  std::string reason = "the store could not record " + what + ": " + written.message();
  std::fprintf(stderr, "kiln: execution %s: %s\n", id_.c_str(), reason.c_str());
  if (store_failure_.empty()) store_failure_ = std::move(reason);
}

// The execution cannot go on (the store cannot be read): it ends Failed with the reason.
void ExecutionRun::Fail(const std::string& why) {
  plan_.Apply({.kind = StepKind::kEndExecution,
               .execution_status = ExecutionStatus::kFailed,
               .summary = why},
              base::MonotonicMillis(), &progress_);
  Finish();
}

void ExecutionRun::SaveVariables() {
  json vars = json::object();
  for (const auto& [ns, kv] : namespaces_) vars[ns] = kv;
  json revs = json::array();
  for (const auto& r : revisions_) {
    revs.push_back(
        {{"actionName", r.action}, {"revisionId", r.revision_id}, {"revisionSummary", r.summary}});
  }
  Recorded(host_.store().SetExecutionVariables(id_, base::JsonText(vars), base::JsonText(revs)),
           "its variables");
}

// What the store says about the stage this one would enter: its inbound transition, and the
// other executions. In SUPERSEDED mode the lock is taken here when the stage is free, its
// transition enabled and no newer execution waits for it or holds it (Finish and the stage's
// end release it): an execution held by a disabled transition holds no lock.
base::Result<Gate> ExecutionRun::ReadGate(size_t stage) {
  Gate gate;
  const spec::Pipeline& p = plan_.pipeline();
  const std::string& name = p.stages[stage].name;
  store::Store& store = host_.store();
  auto enabled = store.TransitionEnabled(p.name, name);
  if (!enabled.ok()) return enabled.status();
  gate.transition_enabled = *enabled;
  if (p.execution_mode == spec::ExecutionMode::kParallel) return gate;
  (void)ReconcileDeadExecutions(store);  // housekeeping, tried again at the next look
  auto active = store.ActiveExecutions(p.name);
  if (!active.ok()) return active.status();
  if (p.execution_mode == spec::ExecutionMode::kQueued) {
    gate.turn = active->empty() || active->front().id == id_;
    return gate;
  }
  auto holder = store.StageHolder(p.name, name);
  if (!holder.ok()) return holder.status();
  for (const auto& e : *active) {
    // A newer execution that went in already (it woke first when the transition or the
    // stage opened) supersedes this one as if it still waited.
    bool there = e.waiting_stage == name || e.id == *holder;
    if (e.id != id_ && there && e.seq > seq_) gate.newer_waiting = true;
  }
  if (gate.newer_waiting || !gate.transition_enabled) return gate;
  auto got = store.TryLockStage(p.name, name, id_);
  if (!got.ok()) return got.status();
  gate.stage_free = *got;
  return gate;
}

void ExecutionRun::Advance() {
  for (int guard = 0; guard < 10'000 && !finished_; ++guard) {
    Gate gate;
    if (std::optional<size_t> stage = plan_.StageToEnter(progress_)) {
      auto read = ReadGate(*stage);
      if (!read.ok()) return Fail("the store could not be read: " + read.status().message());
      gate = *read;
    }
    int64_t now = base::MonotonicMillis();
    Plan next = plan_.Next(progress_, gate, now);
    if (next.steps.empty()) {
      SetWaiting(next.waiting);
      if (next.wake_ms) host_.WakeAt(id_, *next.wake_ms);
      return;
    }
    for (const Step& step : next.steps) {
      plan_.Apply(step, now, &progress_);
      Perform(step);
      if (finished_) return;
    }
  }
}

// Records the gate it waits at, so that a newer execution can supersede it there; a wait for
// another process's execution also checks, now and then, that the process is alive.
void ExecutionRun::SetWaiting(Waiting waiting) {
  waiting_ = waiting;
  std::string stage;
  if (waiting == Waiting::kStage || waiting == Waiting::kTransition) {
    stage = plan_.pipeline().stages[*plan_.StageToEnter(progress_)].name;
  }
  if (stage != waiting_stage_) {
    Recorded(host_.store().SetWaitingStage(id_, stage), "the stage it waits for");
    waiting_stage_ = stage;
    if (observer_) observer_->OnWaiting(stage);
    // An older execution waiting in front of the same stage is superseded now, not at its
    // next look (SUPERSEDED: between stages).
    if (!stage.empty()) host_.GatesChanged();
  }
  if (WaitsAtGate()) host_.WakeAt(id_, base::MonotonicMillis() + options_.liveness_check_ms);
}

void ExecutionRun::Perform(const Step& step) {
  switch (step.kind) {
    case StepKind::kEnterStage:
      return EnterStage(step.stage);
    case StepKind::kStartAction:
      return StartAction(step.stage, step.action);
    case StepKind::kAbandonAction:
      if (cancel_write_.valid()) [[maybe_unused]]
        ssize_t n = ::write(cancel_write_.get(), "x", 1);
      return;
    case StepKind::kTimeOutAction: {
      const ActionProgress& a = progress_.stages[step.stage].actions[step.action];
      return EndAction(step.stage, step.action, {.status = a.status, .summary = a.summary});
    }
    case StepKind::kEndStage: {
      const std::string& name = plan_.pipeline().stages[step.stage].name;
      RecordStage(step.stage, step.stage_status, progress_.stages[step.stage].attempt);
      Recorded(host_.store().UnlockStage(plan_.pipeline().name, name, id_),
               "the release of stage " + name);
      host_.GatesChanged();
      return;
    }
    case StepKind::kRetryStage:  // the failed attempt's row, then the new attempt's
      RecordStage(step.stage, StageStatus::kFailed, progress_.stages[step.stage].attempt - 1);
      return EnterStage(step.stage);
    case StepKind::kEndExecution:
      return Finish();
  }
}

void ExecutionRun::RecordStage(size_t stage, StageStatus status, int attempt) {
  const std::string& name = plan_.pipeline().stages[stage].name;
  bool running = status == StageStatus::kInProgress;
  store::StageRow row{id_,
                      name,
                      static_cast<int>(stage),
                      std::string(StageStatusName(status)),
                      stage_start_ms_[stage],
                      running ? 0 : base::NowMillis(),
                      attempt};
  Recorded(host_.store().PutStage(row), "stage " + name);
  if (observer_) observer_->OnStage(name, row.status);
}

void ExecutionRun::EnterStage(size_t stage) {
  if (!waiting_stage_.empty()) {
    Recorded(host_.store().SetWaitingStage(id_, ""), "the stage it waited for");
    waiting_stage_.clear();
    if (observer_) observer_->OnWaiting("");
  }
  stage_start_ms_[stage] = base::NowMillis();
  RecordStage(stage, StageStatus::kInProgress, progress_.stages[stage].attempt);
}

store::ActionRow& ExecutionRun::RowOf(size_t stage, size_t action) {
  return action_rows_[{stage, action}];
}

ActionJob ExecutionRun::JobFor(size_t stage, const spec::Action& resolved) const {
  ActionJob job{.options = &options_,
                .pipeline = plan_.pipeline().name,
                .execution_id = id_,
                .stage = plan_.pipeline().stages[stage].name,
                .action = resolved,
                .work_dir = work_dir_,
                .revision_override = revision_override_,
                .cancel_fd = cancel_read_.get()};
  for (const auto& input : resolved.input_artifacts) {
    if (auto it = artifact_hashes_.find(input); it != artifact_hashes_.end()) {
      job.input_hashes[input] = it->second;
    }
  }
  if (!revisions_.empty()) job.source_revision = revisions_.front().revision_id;
  return job;
}

void ExecutionRun::StartAction(size_t stage, size_t action) {
  const spec::Stage& def = plan_.pipeline().stages[stage];
  const spec::Action& a = def.actions[action];
  store::ActionRow& row = RowOf(stage, action);
  row = {.execution_id = id_,
         .stage = def.name,
         .action = a.name,
         .run_order = a.run_order,
         .status = "InProgress",
         .start_ms = base::NowMillis(),
         .attempt = progress_.stages[stage].attempt};
  // A waiting approval's token (GetPipelineState shows it; PutApprovalResult may check it):
  // new for each attempt.
  if (a.type.provider == "Manual") row.token = base::NewUuid();
  Recorded(host_.store().PutAction(row), "action " + a.name);
  if (observer_) observer_->OnAction(def.name, a.name, "InProgress", "");
  spec::Action resolved = a;
  for (auto& [key, value] : resolved.configuration) {
    // EnvironmentVariables is JSON text: a value with a quote or a line break (a commit
    // message) is escaped to stay one JSON string. CodePipeline fails such an action with
    // "does not match the expected format"; Kiln passes the value through intact.
    bool json_text = a.type.provider == "CodeBuild" && key == "EnvironmentVariables";
    auto v =
        ResolveVariables(value, namespaces_, json_text ? Quoting::kJsonString : Quoting::kNone);
    if (!v.ok()) {  // the action fails; the plan's next look sees it
      ActionOutcome failed{.status = ActionStatus::kFailed, .summary = v.status().message()};
      plan_.ActionEnded(stage, action, failed.status, failed.summary, &progress_);
      return EndAction(stage, action, failed);
    }
    value = *v;
  }
  if (a.type.provider == "Manual") return;  // it waits for a decision (ReadControl)
  host_.RunAction(id_, stage, action, JobFor(stage, resolved));
}

void ExecutionRun::BuildStarted(size_t stage, size_t action, const codebuild::BuildRecord& record) {
  const spec::Stage& def = plan_.pipeline().stages[stage];
  const std::string& name = def.actions[action].name;
  // The running build's id is recorded at once: `pipeline status` can point at its log, and
  // if this process dies, whoever marks the execution Failed can end the build's processes.
  RowOf(stage, action).external_id = record.id;
  Recorded(host_.store().SetActionExternalId(id_, def.name, name, record.id),
           "the build id of action " + name);
  Recorded(host_.store().PutBuild(BuildRowOf(record, id_, true)), "build " + record.id);
  if (observer_) observer_->OnBuild(def.name, name, record.id, "IN_PROGRESS");
}

void ExecutionRun::ActionDone(size_t stage, size_t action, ActionOutcome outcome) {
  if (ended() || stage >= progress_.stages.size() ||
      action >= progress_.stages[stage].actions.size()) {
    return;
  }
  const ActionProgress& a = progress_.stages[stage].actions[action];
  if (a.status != ActionStatus::kInProgress) return;
  if (a.cancelling && outcome.status != ActionStatus::kSucceeded) {
    outcome.status = ActionStatus::kAbandoned;
  }
  plan_.ActionEnded(stage, action, outcome.status, outcome.summary, &progress_);
  EndAction(stage, action, outcome);
  Advance();
}

// Records what an ended action produced, and its row.
void ExecutionRun::EndAction(size_t stage, size_t action, const ActionOutcome& outcome) {
  const spec::Stage& def = plan_.pipeline().stages[stage];
  const spec::Action& a = def.actions[action];
  store::Store& store = host_.store();
  if (outcome.build) {
    Recorded(store.PutBuild(BuildRowOf(*outcome.build, id_, false)), "build " + outcome.build->id);
    if (observer_) {
      observer_->OnBuild(def.name, a.name, outcome.build->id,
                         std::string(codebuild::StatusName(outcome.build->status)));
    }
  }
  for (const auto& art : outcome.artifacts) {
    artifact_hashes_[art.name] = art.sha256;
    Recorded(store.PutArtifact({id_, art.name, art.sha256, art.size}),
             "output artifact " + art.name);
  }
  if (outcome.revision) revisions_.push_back(*outcome.revision);
  bool succeeded = outcome.status == ActionStatus::kSucceeded;
  if (succeeded && !a.namespace_name.empty()) namespaces_[a.namespace_name] = outcome.variables;
  if (outcome.revision || (succeeded && !a.namespace_name.empty())) SaveVariables();
  store::ActionRow& row = RowOf(stage, action);
  row.status = std::string(ActionStatusName(outcome.status));
  row.summary = outcome.summary;
  if (!outcome.external_id.empty()) row.external_id = outcome.external_id;
  row.output_variables_json = base::JsonText(json(outcome.variables));
  row.end_ms = base::NowMillis();
  Recorded(store.PutAction(row), "action " + a.name);
  if (observer_) observer_->OnAction(def.name, a.name, row.status, row.summary);
}

std::vector<std::pair<size_t, size_t>> ExecutionRun::WaitingApprovals() const {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t s = 0; s < progress_.stages.size(); ++s) {
    const spec::Stage& def = plan_.pipeline().stages[s];
    for (size_t i = 0; i < def.actions.size(); ++i) {
      if (def.actions[i].type.provider == "Manual" &&
          progress_.stages[s].actions[i].status == ActionStatus::kInProgress) {
        out.emplace_back(s, i);
      }
    }
  }
  return out;
}

// The decisions recorded for the approvals that wait (PutApprovalResult).
void ExecutionRun::ReadDecisions(const std::vector<std::pair<size_t, size_t>>& waiting) {
  auto rows = host_.store().Actions(id_);
  if (!rows.ok()) return;  // looked at again at the next notification
  for (auto [s, i] : waiting) {
    const spec::Stage& def = plan_.pipeline().stages[s];
    for (const auto& r : *rows) {
      if (r.stage != def.name || r.action != def.actions[i].name) continue;
      if (r.attempt != progress_.stages[s].attempt || r.approval.empty()) continue;
      RowOf(s, i).approval = r.approval;
      RowOf(s, i).approval_summary = r.approval_summary;
      std::string comment = r.approval_summary.empty() ? "" : ": " + r.approval_summary;
      ActionOutcome out{
          .status = r.approval == "Approved" ? ActionStatus::kSucceeded : ActionStatus::kFailed,
          .summary = r.approval + comment};
      plan_.ActionEnded(s, i, out.status, out.summary, &progress_);
      EndAction(s, i, out);
    }
  }
}

void ExecutionRun::ReadControl() {
  if (ended()) return;
  auto row = host_.store().GetExecution(id_);
  if (row.ok() && *row) {
    if ((*row)->stop_request == "abandon") plan_.Stop(StopRequest::kAbandon, &progress_);
    if ((*row)->stop_request == "wait") plan_.Stop(StopRequest::kWait, &progress_);
  }
  auto waiting = WaitingApprovals();
  if (!waiting.empty()) ReadDecisions(waiting);
  // An approval still waiting when the execution is abandoned ends at once: no thread to
  // cancel.
  if (progress_.stop == StopRequest::kAbandon) {
    for (auto [s, i] : WaitingApprovals()) {
      ActionOutcome out{.status = ActionStatus::kAbandoned, .summary = "Stopped while waiting"};
      plan_.ActionEnded(s, i, out.status, out.summary, &progress_);
      EndAction(s, i, out);
    }
  }
  Advance();
}

void ExecutionRun::Finish() {
  if (finished_) return;
  finished_ = true;
  store::Store& store = host_.store();
  // An execution whose record is incomplete does not claim success (Recorded).
  if (!store_failure_.empty() && progress_.status == ExecutionStatus::kSucceeded) {
    progress_.status = ExecutionStatus::kFailed;
    progress_.summary = store_failure_;
  }
  std::string status(StoredName(progress_.status));
  Recorded(store.SetExecutionStatus(id_, status, progress_.summary, base::NowMillis()),
           "the execution's end (" + status + ")");
  Recorded(store.UnlockAll(id_), "the release of its stages");
  if (!waiting_stage_.empty()) Recorded(store.SetWaitingStage(id_, ""), "its waiting stage");
  if (observer_) observer_->OnExecution(id_, status, progress_.summary);
  host_.GatesChanged();
}

}  // namespace kiln::pipeline
