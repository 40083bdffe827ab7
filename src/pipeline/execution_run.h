// One execution while it runs on the engine's loop: its plan and progress, what its actions
// produced (namespaces, artifacts, revisions), and the store rows that record each step. Every
// method runs on the loop's thread; action threads reach it only through the loop.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "pipeline/action_runner.h"
#include "pipeline/engine.h"
#include "pipeline/execution_plan.h"
#include "pipeline/variables.h"
#include "store/store.h"

namespace kiln::pipeline {

// The pipeline's variables with the start's overrides; kInvalidInput for an undeclared one.
base::Result<std::map<std::string, std::string>> PipelineVariables(const spec::Pipeline& pipeline,
                                                                   const StartOptions& start);

// What an execution needs from the loop that runs it.
class RunHost {
 public:
  virtual ~RunHost() = default;
  virtual store::Store& store() = 0;
  // Runs work on a thread of its own, then done(outcome) on the loop (if the execution still
  // runs there).
  virtual void RunAction(const std::string& execution_id, size_t stage, size_t action,
                         ActionJob job) = 0;
  // Posts a build's start (from an action thread) to the loop.
  virtual void BuildStarted(const std::string& execution_id, size_t stage, size_t action,
                            const codebuild::BuildRecord& record) = 0;
  // A stage was released or an execution ended: executions waiting in front of a stage or
  // for their turn look again.
  virtual void GatesChanged() = 0;
  // Asks Advance again at the monotonic time at_ms (an approval's deadline, a liveness check).
  virtual void WakeAt(const std::string& execution_id, int64_t at_ms) = 0;
};

class ExecutionRun {
 public:
  ExecutionRun(RunHost& host, const EngineOptions& options, const spec::Pipeline& pipeline,
               std::string id, ExecutionObserver* observer);
  ~ExecutionRun();

  // The three ways in: a new execution; a stored Queued one; a retry of a stage.
  base::Status Create(int64_t version, const StartOptions& start);
  base::Status ClaimQueued();
  base::Status Resume(const std::string& stage, RetryMode mode);

  // Applies the plan's steps until it waits or the execution ends.
  void Advance();
  // Reads the stop request and the decisions of waiting approvals from the store.
  void ReadControl();
  // The end of an action that ran on a thread, and a build's start.
  void ActionDone(size_t stage, size_t action, ActionOutcome outcome);
  void BuildStarted(size_t stage, size_t action, const codebuild::BuildRecord& record);

  const std::string& id() const { return id_; }
  bool ended() const { return IsFinished(progress_.status); }
  // Waiting for something only another execution's end or release can give.
  bool WaitsAtGate() const;

 private:
  base::Status Open(bool tell);  // tell: the observer hears InProgress
  base::Status Begin(const StartOptions& start);
  base::Status ResumeLocked(const std::string& stage, RetryMode mode, size_t index);
  void LoadProgress(const std::vector<store::StageRow>& stages,
                    const std::vector<store::ActionRow>& actions);
  base::Status LoadOutputs(const store::ExecutionRow& row);
  base::Status CheckNotSuperseded(const store::ExecutionRow& self, const std::string& stage);
  base::Result<Gate> ReadGate(size_t stage);
  void Perform(const Step& step);
  void EnterStage(size_t stage);
  void StartAction(size_t stage, size_t action);
  void EndAction(size_t stage, size_t action, const ActionOutcome& outcome);
  void RecordStage(size_t stage, StageStatus status, int attempt);
  std::vector<std::pair<size_t, size_t>> WaitingApprovals() const;
  void ReadDecisions(const std::vector<std::pair<size_t, size_t>>& waiting);
  void SetWaiting(Waiting waiting);
  void Finish();
  ActionJob JobFor(size_t stage, const spec::Action& resolved) const;
  store::ActionRow& RowOf(size_t stage, size_t action);
  void SaveVariables();
  void Recorded(const base::Status& written, const std::string& what);
  void Fail(const std::string& why);

  RunHost& host_;
  const EngineOptions& options_;
  ExecutionPlan plan_;
  ExecutionProgress progress_;
  std::string id_;
  int64_t seq_ = 0;
  ExecutionObserver* observer_;
  std::filesystem::path work_dir_;
  base::UniqueFd cancel_read_, cancel_write_;  // readable once the execution is abandoned
  Namespaces namespaces_;
  std::map<std::string, std::string> artifact_hashes_;  // artifact name -> sha256
  std::vector<SourceRevision> revisions_;
  std::string revision_override_;
  std::map<std::pair<size_t, size_t>, store::ActionRow> action_rows_;  // as last written
  std::vector<int64_t> stage_start_ms_;
  Waiting waiting_ = Waiting::kNothing;
  std::string waiting_stage_;  // as recorded in the store
  std::string store_failure_;  // the first write that failed; the execution cannot succeed
  bool finished_ = false;
};

}  // namespace kiln::pipeline
