// Stopping an execution (StopPipelineExecution), the one place for the CLI and the server.
#pragma once

#include <string>

#include "base/status.h"
#include "store/store.h"

namespace kiln::pipeline {

enum class StopOutcome {
  kStopping,  // a stop request for the engine running it (stop-and-wait or abandon)
  kStopped,   // it was still waiting for a slot: stopped at once, nothing of it ran
};

// Checks and sets in one transaction, so an execution that has just ended is not reopened.
// kNotFound: no such execution; kFailed: it cannot be stopped (CanStop), the message saying
// its status; else the store's error.
base::Result<StopOutcome> RequestStop(store::Store& store, const std::string& id, bool abandon);

}  // namespace kiln::pipeline
