// Stage and action execution statuses, typed. The store and the API use CodePipeline's names
// (StageExecutionStatus, ActionExecutionStatus); kNotStarted is Kiln's for a stage or action
// the execution has not reached, which CodePipeline shows by leaving latestExecution out.
#pragma once

#include <optional>
#include <string_view>

namespace kiln::pipeline {

enum class StageStatus {
  kNotStarted,
  kInProgress,
  kStopping,
  kSucceeded,
  kFailed,
  kStopped,
  kCancelled,
  kSkipped,
};

enum class ActionStatus {
  kNotStarted,
  kInProgress,
  kSucceeded,
  kFailed,
  kAbandoned,
};

// "InProgress", "Succeeded", ...; kNotStarted is "" (no row, no latestExecution).
std::string_view StageStatusName(StageStatus status);
std::string_view ActionStatusName(ActionStatus status);
// nullopt for a name CodePipeline does not have ("" is kNotStarted).
std::optional<StageStatus> ParseStageStatus(std::string_view name);
std::optional<ActionStatus> ParseActionStatus(std::string_view name);

// RetryStageExecution's retryMode.
enum class RetryMode { kFailedActions, kAllActions };
std::string_view RetryModeName(RetryMode mode);
std::optional<RetryMode> ParseRetryMode(std::string_view name);

}  // namespace kiln::pipeline
