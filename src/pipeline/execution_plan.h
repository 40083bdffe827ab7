// The pipeline planner: what an execution may do next, given the pipeline definition and the
// execution's progress. No I/O, no threads, no clock of its own: the engine applies each step
// (starting actions, writing rows) and asks again when an event changes the progress.
//
// CodePipeline's rules (AWS-SEMANTICS.md §2.4-2.5):
// - stages run in order; in a stage, the actions of the lowest unfinished runOrder run
//   together, and the next runOrder starts once all of them succeeded;
// - a failed action lets the others of its runOrder finish; the stage then fails, and with it
//   the execution ("Action X failed: ..."), unless the stage's onFailure is RETRY, which
//   retries it once in the same execution (its retryMode, FAILED_ACTIONS by default);
// - stop and wait: running actions finish, nothing new starts, the execution ends Stopped;
//   stop and abandon: running actions are abandoned at once;
// - the gate in front of a stage: QUEUED waits for its turn; SUPERSEDED waits while another
//   execution holds the stage or its inbound transition is disabled, and is superseded there
//   (between stages only) by a newer execution waiting for the same stage;
// - a Manual approval fails when it has waited longer than its timeout;
// - retry (RetryStageExecution) re-opens a Failed or Stopped stage: FAILED_ACTIONS runs again
//   the actions that did not succeed, ALL_ACTIONS all of them, then the stages after it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "pipeline/execution_status.h"
#include "pipeline/stage_status.h"
#include "spec/pipeline.h"

namespace kiln::pipeline {

struct ActionProgress {
  ActionStatus status = ActionStatus::kNotStarted;
  int attempt = 0;          // the stage attempt it last ran in
  int64_t started_ms = 0;   // when it last started (approval timeouts)
  bool cancelling = false;  // an abandon was sent to it
  std::string summary;
};

struct StageProgress {
  StageStatus status = StageStatus::kNotStarted;
  int attempt = 0;  // 1 on first entry, +1 on each retry
  bool auto_retried = false;
  std::vector<ActionProgress> actions;  // as the stage's actions in the definition
};

enum class StopRequest { kNone, kWait, kAbandon };

struct ExecutionProgress {
  ExecutionStatus status = ExecutionStatus::kInProgress;
  std::string summary;
  size_t first_stage = 0;  // where this run (or retry) starts; the stages before it are done
  StopRequest stop = StopRequest::kNone;
  std::vector<StageProgress> stages;  // as the definition's stages
};

// What the other executions of the pipeline say about the stage this one would enter next
// (ExecutionPlan::StageToEnter); the engine reads it from the store.
struct Gate {
  bool turn = true;                // QUEUED: no older execution is still active
  bool stage_free = true;          // SUPERSEDED: no other execution holds the stage
  bool newer_waiting = false;      // SUPERSEDED: a newer execution waits in front of it
  bool transition_enabled = true;  // the stage's inbound transition
};

enum class StepKind {
  kEnterStage,     // take the stage and start its attempt
  kStartAction,    // start the action
  kAbandonAction,  // cancel a running action (stop and abandon)
  kTimeOutAction,  // a Manual approval waited too long: it fails
  kEndStage,       // the stage ended with stage_status
  kRetryStage,     // onFailure RETRY: the stage runs again (retry_mode)
  kEndExecution,   // the execution ended with execution_status and summary
};

struct Step {
  StepKind kind = StepKind::kEnterStage;
  size_t stage = 0;
  size_t action = 0;
  StageStatus stage_status = StageStatus::kSucceeded;
  ExecutionStatus execution_status = ExecutionStatus::kSucceeded;
  RetryMode retry_mode = RetryMode::kFailedActions;
  std::string summary;
};

// Why an execution does nothing now, when Next has no step.
enum class Waiting {
  kNothing,     // it ended
  kActions,     // for running actions (or approvals) to end
  kTurn,        // QUEUED: for older executions
  kStage,       // SUPERSEDED: for the stage to be free
  kTransition,  // for the stage's inbound transition to be enabled
};

struct Plan {
  std::vector<Step> steps;  // to apply in order, then ask again
  Waiting waiting = Waiting::kNothing;
  std::optional<int64_t> wake_ms;  // ask again by then (an approval's deadline)
};

class ExecutionPlan {
 public:
  ExecutionPlan(const spec::Pipeline& pipeline, int64_t approval_timeout_ms);

  const spec::Pipeline& pipeline() const { return pipeline_; }
  // Every stage and action NotStarted.
  ExecutionProgress Fresh() const;
  // The stage the execution would enter next, if it is in front of one.
  std::optional<size_t> StageToEnter(const ExecutionProgress& p) const;
  // What to do now. Pure: the same inputs give the same plan.
  Plan Next(const ExecutionProgress& p, const Gate& gate, int64_t now_ms) const;
  // The progress after a step (the engine calls it once the step's effects are recorded).
  void Apply(const Step& step, int64_t now_ms, ExecutionProgress* p) const;
  // An action's end, as its runner reported it.
  void ActionEnded(size_t stage, size_t action, ActionStatus status, const std::string& summary,
                   ExecutionProgress* p) const;
  // RetryStageExecution: kFailed naming why when the stage cannot be retried now.
  base::Status Retry(size_t stage, RetryMode mode, ExecutionProgress* p) const;
  // Stop requests (StopPipelineExecution); an abandon overrides a wait.
  void Stop(StopRequest request, ExecutionProgress* p) const;

 private:
  Plan NextInStage(const ExecutionProgress& p, size_t index, int64_t now_ms) const;
  Plan EndOfStage(const ExecutionProgress& p, size_t index) const;
  Plan Enter(const ExecutionProgress& p, size_t index, const Gate& gate) const;
  std::optional<int64_t> Deadline(const ExecutionProgress& p, size_t stage, size_t action) const;

  spec::Pipeline pipeline_;
  int64_t approval_timeout_ms_;
};

}  // namespace kiln::pipeline
