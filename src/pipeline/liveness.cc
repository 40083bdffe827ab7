#include "pipeline/liveness.h"

#include <unistd.h>

#include "base/files.h"
#include "base/ids.h"
#include "exec/process.h"
#include "store/store.h"

namespace kiln::pipeline {
namespace {

std::string StartTime(int64_t pid) {
  auto stat = base::ReadFile("/proc/" + std::to_string(pid) + "/stat", 64 * 1024);
  if (!stat.ok()) return "";
  size_t paren = stat->rfind(')');
  if (paren == std::string::npos) return "";
  // Fields after the command: state is field 3; starttime is field 22.
  size_t pos = paren + 2;
  for (int field = 3; field < 22 && pos != std::string::npos; ++field) {
    pos = stat->find(' ', pos);
    if (pos != std::string::npos) ++pos;
  }
  if (pos == std::string::npos) return "";
  if ((*stat)[paren + 2] == 'Z') return "";  // a zombie has finished
  return stat->substr(pos, stat->find(' ', pos) - pos);
}

std::string BootId() {
  auto id = base::ReadFile("/proc/sys/kernel/random/boot_id", 128);
  return id.ok() ? id->substr(0, id->find('\n')) : "";
}

}  // namespace

std::string SelfToken() { return BootId() + ":" + StartTime(::getpid()); }

bool IsAlive(int64_t pid, const std::string& token) {
  if (pid <= 0) return false;
  std::string start = StartTime(pid);
  return !start.empty() && BootId() + ":" + start == token;
}

base::Result<int> ReconcileDeadExecutions(store::Store& store, const std::string& reason_given) {
  auto active = store.ActiveExecutions("");
  if (!active.ok()) return active.status();
  int count = 0;
  int64_t now = base::NowMillis();
  for (const auto& e : *active) {
    if (IsAlive(e.owner_pid, e.owner_token)) continue;
    std::string reason = !reason_given.empty()
                             ? reason_given
                             : "the process running this execution (pid " +
                                   std::to_string(e.owner_pid) + ") stopped before it finished";
    auto st = store.db().Transaction([&]() -> base::Status {
      if (auto s = store.SetExecutionStatus(e.id, "Failed", reason, now); !s.ok()) return s;
      auto stages = store.Stages(e.id);
      if (!stages.ok()) return stages.status();
      for (auto s : *stages) {
        if (s.status != "InProgress" && s.status != "Stopping") continue;
        s.status = "Failed";
        s.end_ms = now;
        if (auto r = store.PutStage(s); !r.ok()) return r;
      }
      auto actions = store.Actions(e.id);
      if (!actions.ok()) return actions.status();
      for (auto a : *actions) {
        if (a.status != "InProgress") continue;
        // A build outlives the process that ran it (its own process group): end it now.
        if (!a.external_id.empty()) exec::KillTree(0, a.external_id, 1000);
        a.status = "Failed";
        a.summary = reason;
        a.end_ms = now;
        if (auto r = store.PutAction(a); !r.ok()) return r;
      }
      return store.UnlockAll(e.id);
    });
    if (!st.ok()) return st;
    ++count;
  }
  return count;
}

}  // namespace kiln::pipeline
