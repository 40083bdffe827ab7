// A pipeline execution's status, typed. The store keeps the names below; CodePipeline's names
// reach JSON only through ApiName, where an execution still waiting for a slot (kQueued, a
// state of Kiln's runner) is InProgress with no stage started, as CodePipeline shows it.
#pragma once

#include <optional>
#include <string_view>

namespace kiln::pipeline {

enum class ExecutionStatus {
  kQueued,  // waiting for a slot (Kiln's; never in an API answer)
  kInProgress,
  kStopping,
  kStopped,
  kSucceeded,
  kSuperseded,
  kFailed,
  kCancelled,
};

// The stored name ("Queued", "InProgress", ...); nullopt for anything else.
std::optional<ExecutionStatus> ParseExecutionStatus(std::string_view name);
std::string_view StoredName(ExecutionStatus status);
// CodePipeline's PipelineExecutionStatus: kQueued is InProgress.
std::string_view ApiName(ExecutionStatus status);
// The API's name for a stored one; an unknown stored name passes through as it is.
std::string_view ApiStatusName(std::string_view stored);

// CodePipeline's StopPipelineExecution rule, for the CLI and the server alike: a running (or
// waiting) execution can be stopped; one that is Stopping only by abandoning it.
bool CanStop(ExecutionStatus status, bool abandon);
// RetryStageExecution's rule: only a Failed or Stopped execution has a stage to retry.
bool CanRetry(ExecutionStatus status);
// Ended: nothing of it runs any more.
bool IsFinished(ExecutionStatus status);

}  // namespace kiln::pipeline
