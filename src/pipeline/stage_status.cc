#include "pipeline/stage_status.h"

#include <array>
#include <utility>

namespace kiln::pipeline {
namespace {

constexpr std::array<std::pair<StageStatus, std::string_view>, 8> kStageNames = {{
    {StageStatus::kNotStarted, ""},
    {StageStatus::kInProgress, "InProgress"},
    {StageStatus::kStopping, "Stopping"},
    {StageStatus::kSucceeded, "Succeeded"},
    {StageStatus::kFailed, "Failed"},
    {StageStatus::kStopped, "Stopped"},
    {StageStatus::kCancelled, "Cancelled"},
    {StageStatus::kSkipped, "Skipped"},
}};

constexpr std::array<std::pair<ActionStatus, std::string_view>, 5> kActionNames = {{
    {ActionStatus::kNotStarted, ""},
    {ActionStatus::kInProgress, "InProgress"},
    {ActionStatus::kSucceeded, "Succeeded"},
    {ActionStatus::kFailed, "Failed"},
    {ActionStatus::kAbandoned, "Abandoned"},
}};

constexpr std::array<std::pair<RetryMode, std::string_view>, 2> kRetryModes = {{
    {RetryMode::kFailedActions, "FAILED_ACTIONS"},
    {RetryMode::kAllActions, "ALL_ACTIONS"},
}};

template <typename E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& names, E value) {
  for (const auto& [v, text] : names) {
    if (v == value) return text;
  }
  return "";
}

template <typename E, size_t N>
std::optional<E> Parse(const std::array<std::pair<E, std::string_view>, N>& names,
                       std::string_view text) {
  for (const auto& [v, name] : names) {
    if (name == text) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view StageStatusName(StageStatus status) { return NameOf(kStageNames, status); }
std::string_view ActionStatusName(ActionStatus status) { return NameOf(kActionNames, status); }
std::optional<StageStatus> ParseStageStatus(std::string_view name) {
  return Parse(kStageNames, name);
}
std::optional<ActionStatus> ParseActionStatus(std::string_view name) {
  return Parse(kActionNames, name);
}
std::string_view RetryModeName(RetryMode mode) { return NameOf(kRetryModes, mode); }
std::optional<RetryMode> ParseRetryMode(std::string_view name) { return Parse(kRetryModes, name); }

}  // namespace kiln::pipeline
