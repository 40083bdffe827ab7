#include "pipeline/execution_status.h"

#include <array>
#include <utility>

namespace kiln::pipeline {
namespace {

constexpr std::array<std::pair<ExecutionStatus, std::string_view>, 8> kNames = {{
    {ExecutionStatus::kQueued, "Queued"},
    {ExecutionStatus::kInProgress, "InProgress"},
    {ExecutionStatus::kStopping, "Stopping"},
    {ExecutionStatus::kStopped, "Stopped"},
    {ExecutionStatus::kSucceeded, "Succeeded"},
    {ExecutionStatus::kSuperseded, "Superseded"},
    {ExecutionStatus::kFailed, "Failed"},
    {ExecutionStatus::kCancelled, "Cancelled"},
}};

}  // namespace

std::optional<ExecutionStatus> ParseExecutionStatus(std::string_view name) {
  for (const auto& [status, text] : kNames) {
    if (text == name) return status;
  }
  return std::nullopt;
}

std::string_view StoredName(ExecutionStatus status) {
  for (const auto& [s, text] : kNames) {
    if (s == status) return text;
  }
  return "Failed";
}

std::string_view ApiName(ExecutionStatus status) {
  return StoredName(status == ExecutionStatus::kQueued ? ExecutionStatus::kInProgress : status);
}

std::string_view ApiStatusName(std::string_view stored) {
  std::optional<ExecutionStatus> status = ParseExecutionStatus(stored);
  return status ? ApiName(*status) : stored;
}

bool CanStop(ExecutionStatus status, bool abandon) {
  switch (status) {
    case ExecutionStatus::kQueued:
    case ExecutionStatus::kInProgress:
      return true;
    case ExecutionStatus::kStopping:
      return abandon;  // CodePipeline: a stop-and-wait can still be turned into an abandon
    case ExecutionStatus::kStopped:
    case ExecutionStatus::kSucceeded:
    case ExecutionStatus::kSuperseded:
    case ExecutionStatus::kFailed:
    case ExecutionStatus::kCancelled:
      break;
  }
  return false;
}

bool CanRetry(ExecutionStatus status) {
  return status == ExecutionStatus::kFailed || status == ExecutionStatus::kStopped;
}

bool IsFinished(ExecutionStatus status) {
  return status != ExecutionStatus::kQueued && status != ExecutionStatus::kInProgress &&
         status != ExecutionStatus::kStopping;
}

}  // namespace kiln::pipeline
