#include "pipeline/execution_plan.h"

#include <algorithm>
#include <limits>

namespace kiln::pipeline {
namespace {

constexpr std::string_view kStoppedByRequest = "Stopped by request";

Step EndExecution(ExecutionStatus status, std::string summary) {
  return {
      .kind = StepKind::kEndExecution, .execution_status = status, .summary = std::move(summary)};
}

Step EndStage(size_t stage, StageStatus status) {
  return {.kind = StepKind::kEndStage, .stage = stage, .stage_status = status};
}

Step ActionStep(StepKind kind, size_t stage, size_t action) {
  return {.kind = kind, .stage = stage, .action = action};
}

bool Running(const ActionProgress& a) { return a.status == ActionStatus::kInProgress; }

// The lowest runOrder with an action that has not succeeded; nullopt when all succeeded.
std::optional<int> OpenRunOrder(const spec::Stage& stage, const StageProgress& s) {
  std::optional<int> lowest;
  for (size_t i = 0; i < stage.actions.size(); ++i) {
    if (s.actions[i].status == ActionStatus::kSucceeded) continue;
    int order = stage.actions[i].run_order;
    if (!lowest || order < *lowest) lowest = order;
  }
  return lowest;
}

RetryMode AutoRetryMode(const spec::Stage& stage) {
  return ParseRetryMode(stage.retry_mode).value_or(RetryMode::kFailedActions);
}

void ResetActions(RetryMode mode, StageProgress* s) {
  for (auto& a : s->actions) {
    if (mode == RetryMode::kFailedActions && a.status == ActionStatus::kSucceeded) continue;
    a.status = ActionStatus::kNotStarted;
    a.cancelling = false;
    a.summary.clear();
  }
}

}  // namespace

ExecutionPlan::ExecutionPlan(const spec::Pipeline& pipeline, int64_t approval_timeout_ms)
    : pipeline_(pipeline), approval_timeout_ms_(approval_timeout_ms) {}

ExecutionProgress ExecutionPlan::Fresh() const {
  ExecutionProgress p;
  for (const auto& stage : pipeline_.stages) {
    StageProgress s;
    s.actions.resize(stage.actions.size());
    p.stages.push_back(std::move(s));
  }
  return p;
}

std::optional<size_t> ExecutionPlan::StageToEnter(const ExecutionProgress& p) const {
  if (IsFinished(p.status)) return std::nullopt;
  for (size_t i = p.first_stage; i < p.stages.size(); ++i) {
    StageStatus status = p.stages[i].status;
    if (status == StageStatus::kSucceeded || status == StageStatus::kSkipped) continue;
    if (status == StageStatus::kNotStarted) return i;
    return std::nullopt;
  }
  return std::nullopt;
}

Plan ExecutionPlan::Next(const ExecutionProgress& p, const Gate& gate, int64_t now_ms) const {
  if (IsFinished(p.status)) return {};
  for (size_t i = p.first_stage; i < p.stages.size(); ++i) {
    switch (p.stages[i].status) {
      case StageStatus::kSucceeded:
      case StageStatus::kSkipped:
        continue;
      case StageStatus::kNotStarted:
        return Enter(p, i, gate);
      case StageStatus::kInProgress:
      case StageStatus::kStopping:
        return NextInStage(p, i, now_ms);
      case StageStatus::kFailed:
      case StageStatus::kCancelled:
        return {.steps = {EndExecution(ExecutionStatus::kFailed, p.summary)}};
      case StageStatus::kStopped:
        return {.steps = {EndExecution(ExecutionStatus::kStopped, std::string(kStoppedByRequest))}};
    }
  }
  // Also when a stop arrived after the last stage had succeeded: nothing was left to stop.
  return {.steps = {EndExecution(ExecutionStatus::kSucceeded, "")}};
}

Plan ExecutionPlan::Enter(const ExecutionProgress& p, size_t index, const Gate& gate) const {
  if (p.stop != StopRequest::kNone) {
    return {.steps = {EndExecution(ExecutionStatus::kStopped, std::string(kStoppedByRequest))}};
  }
  spec::ExecutionMode mode = pipeline_.execution_mode;
  if (mode == spec::ExecutionMode::kQueued && !gate.turn) return {.waiting = Waiting::kTurn};
  if (mode == spec::ExecutionMode::kSuperseded && gate.newer_waiting) {
    return {.steps = {EndExecution(ExecutionStatus::kSuperseded,
                                   "Superseded by a newer execution waiting for stage " +
                                       pipeline_.stages[index].name)}};
  }
  if (!gate.transition_enabled) return {.waiting = Waiting::kTransition};
  if (mode == spec::ExecutionMode::kSuperseded && !gate.stage_free) {
    return {.waiting = Waiting::kStage};
  }
  return {.steps = {{.kind = StepKind::kEnterStage, .stage = index}}};
}

std::optional<int64_t> ExecutionPlan::Deadline(const ExecutionProgress& p, size_t stage,
                                               size_t action) const {
  if (pipeline_.stages[stage].actions[action].type.provider != "Manual") return std::nullopt;
  const ActionProgress& a = p.stages[stage].actions[action];
  if (approval_timeout_ms_ > std::numeric_limits<int64_t>::max() - a.started_ms) {
    return std::nullopt;
  }
  return a.started_ms + approval_timeout_ms_;
}

Plan ExecutionPlan::NextInStage(const ExecutionProgress& p, size_t index, int64_t now_ms) const {
  const spec::Stage& stage = pipeline_.stages[index];
  const StageProgress& s = p.stages[index];
  Plan plan;
  bool running = false;
  for (size_t i = 0; i < s.actions.size(); ++i) {
    const ActionProgress& a = s.actions[i];
    if (!Running(a)) continue;
    running = true;
    if (p.stop == StopRequest::kAbandon) {
      if (!a.cancelling) plan.steps.push_back(ActionStep(StepKind::kAbandonAction, index, i));
      continue;
    }
    std::optional<int64_t> deadline = Deadline(p, index, i);
    if (!deadline) continue;
    if (now_ms >= *deadline) {
      plan.steps.push_back(ActionStep(StepKind::kTimeOutAction, index, i));
    } else {
      plan.wake_ms = std::min(plan.wake_ms.value_or(*deadline), *deadline);
    }
  }
  if (running) {
    plan.waiting = Waiting::kActions;
    return plan;
  }
  bool ended_badly = std::any_of(s.actions.begin(), s.actions.end(), [](const auto& a) {
    return a.status == ActionStatus::kFailed || a.status == ActionStatus::kAbandoned;
  });
  if (ended_badly) return EndOfStage(p, index);
  std::optional<int> order = OpenRunOrder(stage, s);
  if (!order) return {.steps = {EndStage(index, StageStatus::kSucceeded)}};
  if (p.stop != StopRequest::kNone) {
    return {.steps = {EndStage(index, StageStatus::kStopped),
                      EndExecution(ExecutionStatus::kStopped, std::string(kStoppedByRequest))}};
  }
  for (size_t i = 0; i < stage.actions.size(); ++i) {
    if (stage.actions[i].run_order == *order && s.actions[i].status == ActionStatus::kNotStarted) {
      plan.steps.push_back(ActionStep(StepKind::kStartAction, index, i));
    }
  }
  plan.waiting = Waiting::kActions;
  return plan;
}

// Every action of the stage has ended and one failed or was abandoned.
Plan ExecutionPlan::EndOfStage(const ExecutionProgress& p, size_t index) const {
  const spec::Stage& stage = pipeline_.stages[index];
  const StageProgress& s = p.stages[index];
  const ActionProgress* failed = nullptr;
  size_t failed_index = 0;
  for (size_t i = 0; i < s.actions.size() && !failed; ++i) {
    if (s.actions[i].status == ActionStatus::kFailed) {
      failed = &s.actions[i];
      failed_index = i;
    }
  }
  if (!failed || p.stop != StopRequest::kNone) {
    return {.steps = {EndStage(index, StageStatus::kStopped),
                      EndExecution(ExecutionStatus::kStopped, std::string(kStoppedByRequest))}};
  }
  if (stage.on_failure_result == "RETRY" && !s.auto_retried) {
    return {
        .steps = {
            {.kind = StepKind::kRetryStage, .stage = index, .retry_mode = AutoRetryMode(stage)}}};
  }
  std::string why = "Action " + stage.actions[failed_index].name + " failed: " + failed->summary;
  return {.steps = {EndStage(index, StageStatus::kFailed),
                    EndExecution(ExecutionStatus::kFailed, std::move(why))}};
}

void ExecutionPlan::Apply(const Step& step, int64_t now_ms, ExecutionProgress* p) const {
  switch (step.kind) {
    case StepKind::kEnterStage: {
      StageProgress& s = p->stages[step.stage];
      s.status = StageStatus::kInProgress;
      ++s.attempt;
      return;
    }
    case StepKind::kStartAction: {
      ActionProgress& a = p->stages[step.stage].actions[step.action];
      a = {.status = ActionStatus::kInProgress,
           .attempt = p->stages[step.stage].attempt,
           .started_ms = now_ms};
      return;
    }
    case StepKind::kAbandonAction:
      p->stages[step.stage].actions[step.action].cancelling = true;
      return;
    case StepKind::kTimeOutAction:
      ActionEnded(step.stage, step.action, ActionStatus::kFailed, "Approval timed out", p);
      return;
    case StepKind::kEndStage:
      p->stages[step.stage].status = step.stage_status;
      return;
    case StepKind::kRetryStage: {
      StageProgress& s = p->stages[step.stage];
      ResetActions(step.retry_mode, &s);
      s.auto_retried = true;
      ++s.attempt;
      return;
    }
    case StepKind::kEndExecution:
      p->status = step.execution_status;
      p->summary = step.summary;
      return;
  }
}

void ExecutionPlan::ActionEnded(size_t stage, size_t action, ActionStatus status,
                                const std::string& summary, ExecutionProgress* p) const {
  if (stage >= p->stages.size() || action >= p->stages[stage].actions.size()) return;
  ActionProgress& a = p->stages[stage].actions[action];
  if (a.status != ActionStatus::kInProgress) return;  // a late report of an action ended already
  a.status = status;
  a.summary = summary;
  a.cancelling = false;
}

base::Status ExecutionPlan::Retry(size_t stage, RetryMode mode, ExecutionProgress* p) const {
  if (!CanRetry(p->status)) {
    return base::Status(base::ErrorKind::kFailed,
                        "it is " + std::string(StoredName(p->status)) +
                            ": only Failed or Stopped executions can be retried");
  }
  if (stage >= p->stages.size()) return base::InvalidInput("no such stage");
  StageProgress& s = p->stages[stage];
  if (s.status != StageStatus::kFailed && s.status != StageStatus::kStopped) {
    return base::Status(base::ErrorKind::kFailed,
                        "stage " + pipeline_.stages[stage].name + " did not fail or stop");
  }
  ResetActions(mode, &s);
  s.status = StageStatus::kNotStarted;
  s.auto_retried = false;
  for (size_t i = stage + 1; i < p->stages.size(); ++i) {
    StageProgress fresh;
    fresh.actions.resize(p->stages[i].actions.size());
    p->stages[i] = std::move(fresh);
  }
  p->first_stage = stage;
  p->stop = StopRequest::kNone;
  p->status = ExecutionStatus::kInProgress;
  p->summary.clear();
  return base::Status::Ok();
}

void ExecutionPlan::Stop(StopRequest request, ExecutionProgress* p) const {
  if (request == StopRequest::kAbandon || p->stop == StopRequest::kNone) p->stop = request;
}

}  // namespace kiln::pipeline
