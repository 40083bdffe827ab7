#include "exec/swarm_types.h"

#include <array>
#include <utility>

namespace kiln::exec {

namespace {

template <typename E, size_t N>
using Names = std::array<std::pair<E, const char*>, N>;

constexpr Names<SwarmNodeState, 6> kNodeStates = {{{SwarmNodeState::kNone, ""},
                                                   {SwarmNodeState::kInactive, "inactive"},
                                                   {SwarmNodeState::kPending, "pending"},
                                                   {SwarmNodeState::kActive, "active"},
                                                   {SwarmNodeState::kError, "error"},
                                                   {SwarmNodeState::kLocked, "locked"}}};

constexpr Names<SwarmUpdateState, 7> kUpdateStates = {
    {{SwarmUpdateState::kNone, ""},
     {SwarmUpdateState::kUpdating, "updating"},
     {SwarmUpdateState::kPaused, "paused"},
     {SwarmUpdateState::kCompleted, "completed"},
     {SwarmUpdateState::kRollbackStarted, "rollback_started"},
     {SwarmUpdateState::kRollbackPaused, "rollback_paused"},
     {SwarmUpdateState::kRollbackCompleted, "rollback_completed"}}};

constexpr Names<SwarmTaskState, 15> kTaskStates = {{{SwarmTaskState::kNew, "new"},
                                                    {SwarmTaskState::kAllocated, "allocated"},
                                                    {SwarmTaskState::kPending, "pending"},
                                                    {SwarmTaskState::kAssigned, "assigned"},
                                                    {SwarmTaskState::kAccepted, "accepted"},
                                                    {SwarmTaskState::kPreparing, "preparing"},
                                                    {SwarmTaskState::kReady, "ready"},
                                                    {SwarmTaskState::kStarting, "starting"},
                                                    {SwarmTaskState::kRunning, "running"},
                                                    {SwarmTaskState::kComplete, "complete"},
                                                    {SwarmTaskState::kShutdown, "shutdown"},
                                                    {SwarmTaskState::kFailed, "failed"},
                                                    {SwarmTaskState::kRejected, "rejected"},
                                                    {SwarmTaskState::kRemove, "remove"},
                                                    {SwarmTaskState::kOrphaned, "orphaned"}}};

template <typename E, size_t N>
const char* TextOf(const Names<E, N>& names, E value) {
  for (const auto& [v, text] : names) {
    if (v == value) return text;
  }
  return "?";
}

template <typename E, size_t N>
std::optional<E> ValueOf(const Names<E, N>& names, std::string_view text) {
  for (const auto& [v, t] : names) {
    if (text == t) return v;
  }
  return std::nullopt;
}

}  // namespace

const char* SwarmNodeStateText(SwarmNodeState state) { return TextOf(kNodeStates, state); }
const char* SwarmUpdateStateText(SwarmUpdateState state) { return TextOf(kUpdateStates, state); }
const char* SwarmTaskStateText(SwarmTaskState state) { return TextOf(kTaskStates, state); }

std::optional<SwarmNodeState> SwarmNodeStateFromText(std::string_view text) {
  return ValueOf(kNodeStates, text);
}
std::optional<SwarmUpdateState> SwarmUpdateStateFromText(std::string_view text) {
  return ValueOf(kUpdateStates, text);
}
std::optional<SwarmTaskState> SwarmTaskStateFromText(std::string_view text) {
  return ValueOf(kTaskStates, text);
}

bool IsFinal(SwarmTaskState state) { return state >= SwarmTaskState::kComplete; }

}  // namespace kiln::exec
