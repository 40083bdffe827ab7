// Which process runs an execution, and whether it still does: a killed `kiln pipeline run`
// must be noticed by any later command, and a live one never mistaken for a dead one.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace kiln::store {
class Store;
}

namespace kiln::pipeline {

// This process's identity: "<boot id>:<start time in clock ticks>" (pids are reused; the
// start time and boot id are not).
std::string SelfToken();
// True if pid is alive and is the process that had token.
bool IsAlive(int64_t pid, const std::string& token);

// Marks every active execution whose owner process is gone as Failed ("the process running
// this execution stopped"), fails its in-progress stages and actions (ending the processes
// of their builds, which outlive it), and releases its stage locks. Returns how many it reconciled.
// `reason`, when given, replaces that summary (the server says "server restarted").
base::Result<int> ReconcileDeadExecutions(store::Store& store, const std::string& reason = "");

}  // namespace kiln::pipeline
