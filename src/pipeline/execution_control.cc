#include "pipeline/execution_control.h"

#include "base/ids.h"
#include "pipeline/execution_status.h"

namespace kiln::pipeline {

base::Result<StopOutcome> RequestStop(store::Store& store, const std::string& id, bool abandon) {
  StopOutcome outcome = StopOutcome::kStopping;
  base::Status refused = base::Status::Ok();
  auto st = store.db().Transaction([&]() -> base::Status {
    auto row = store.GetExecution(id);
    if (!row.ok()) return row.status();
    if (!*row) {
      refused = base::NotFound("no execution " + id);
      return base::Status::Ok();
    }
    std::optional<ExecutionStatus> status = ParseExecutionStatus((*row)->status);
    if (!status || !CanStop(*status, abandon)) {
      refused = base::Status(base::ErrorKind::kFailed,
                             "execution " + id + " is " +
                                 std::string(ApiStatusName((*row)->status)) + ", not InProgress");
      return base::Status::Ok();
    }
    if (*status == ExecutionStatus::kQueued) {  // no engine runs it yet
      outcome = StopOutcome::kStopped;
      return store.SetExecutionStatus(id, "Stopped", "Stopped before it started",
                                      base::NowMillis());
    }
    auto set = store.SetStopRequest(id, abandon ? "abandon" : "wait");
    return set.ok() ? store.SetExecutionStatus(id, "Stopping", "Stop requested", 0) : set;
  });
  if (!st.ok()) return st;
  if (!refused.ok()) return refused;
  return outcome;
}

}  // namespace kiln::pipeline
