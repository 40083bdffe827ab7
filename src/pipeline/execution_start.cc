// The three ways an execution comes to run on the engine's loop: created here, claimed from
// the server's queue, or resumed by a retry of one of its stages.
#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/ids.h"
#include "pipeline/execution_run.h"
#include "pipeline/liveness.h"

namespace kiln::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

base::Result<std::map<std::string, std::string>> PipelineVariables(const spec::Pipeline& pipeline,
                                                                   const StartOptions& start) {
  std::map<std::string, std::string> vars;
  for (const auto& v : pipeline.variables) vars[v.name] = v.default_value;
  for (const auto& [k, v] : start.variables) {
    if (!vars.contains(k)) {
      return base::InvalidInput("variable '" + k + "' is not declared by pipeline " +
                                pipeline.name);
    }
    vars[k] = v;
  }
  return vars;
}

// The cancel pipe and the work folder. The folder is made (and removed at the end) only by the
// process that runs the execution: a retry that is refused must not remove the folder of the
// process running it.
base::Status ExecutionRun::Open(bool tell) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return base::IoError("pipe", errno);
  cancel_read_.Reset(p[0]);
  cancel_write_.Reset(p[1]);
  fs::path dir = options_.state_dir / "executions" / id_;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return base::IoError("create " + dir.string(), ec.value());
  work_dir_ = dir;
  if (observer_ && tell) observer_->OnExecution(id_, "InProgress", "");
  return base::Status::Ok();
}

base::Status ExecutionRun::Begin(const StartOptions& start) {
  auto vars = PipelineVariables(plan_.pipeline(), start);
  if (!vars.ok()) return vars.status();
  namespaces_["variables"] = *vars;
  namespaces_["codepipeline"] = {{"PipelineExecutionId", id_}};
  revision_override_ = start.revision;
  return base::Status::Ok();
}

base::Status ExecutionRun::Create(int64_t version, const StartOptions& start) {
  if (auto st = Begin(start); !st.ok()) return st;
  const spec::Pipeline& p = plan_.pipeline();
  store::ExecutionRow row{.id = id_,
                          .pipeline = p.name,
                          .pipeline_version = version,
                          .status = "InProgress",
                          .trigger_type = start.trigger_type,
                          .trigger_detail = start.trigger_detail,
                          .execution_mode = std::string(spec::ExecutionModeName(p.execution_mode)),
                          .start_ms = base::NowMillis(),
                          .owner_pid = ::getpid(),
                          .owner_token = SelfToken()};
  if (auto st = host_.store().InsertExecution(&row); !st.ok()) return st;
  seq_ = row.seq;
  if (auto st = Open(true); !st.ok()) return st;
  SaveVariables();
  return base::Status::Ok();
}

base::Status ExecutionRun::ClaimQueued() {
  store::Store& store = host_.store();
  auto text = store.StartJson(id_);
  if (!text.ok()) return text.status();
  auto start = StartOptionsFromJson(*text);
  if (!start.ok()) return start.status();
  if (auto st = Begin(*start); !st.ok()) return st;
  auto claimed = store.ClaimQueued(id_, ::getpid(), SelfToken());
  if (!claimed.ok()) return claimed.status();
  if (!*claimed) {
    return base::Status(base::ErrorKind::kFailed, "execution " + id_ + " is not queued any more");
  }
  auto row = store.GetExecution(id_);
  if (!row.ok()) return row.status();
  if (*row) seq_ = (*row)->seq;
  // Not told again: the server said InProgress when it queued it (CodePipeline shows a waiting
  // execution as InProgress).
  if (auto st = Open(false); !st.ok()) return st;
  SaveVariables();
  return base::Status::Ok();
}

base::Status ExecutionRun::Resume(const std::string& stage, RetryMode mode) {
  const auto& stages = plan_.pipeline().stages;
  size_t index = stages.size();
  for (size_t i = 0; i < stages.size(); ++i) {
    if (stages[i].name == stage) index = i;
  }
  if (index == stages.size()) {
    return base::InvalidInput("pipeline " + plan_.pipeline().name + " has no stage " + stage);
  }
  // Checked and claimed in one transaction: of two retries started together, one runs.
  auto st = host_.store().db().Transaction([&] { return ResumeLocked(stage, mode, index); });
  return st.ok() ? Open(true) : st;
}

base::Status ExecutionRun::ResumeLocked(const std::string& stage, RetryMode mode, size_t index) {
  store::Store& store = host_.store();
  auto row = store.GetExecution(id_);
  if (!row.ok()) return row.status();
  if (!*row) return base::NotFound("no execution " + id_);
  std::optional<ExecutionStatus> status = ParseExecutionStatus((*row)->status);
  progress_.status = status.value_or(ExecutionStatus::kCancelled);
  auto stages = store.Stages(id_);
  if (!stages.ok()) return stages.status();
  auto actions = store.Actions(id_);
  if (!actions.ok()) return actions.status();
  LoadProgress(*stages, *actions);
  if (auto st = plan_.Retry(index, mode, &progress_); !st.ok()) {
    return base::Status(st.kind(), "execution " + id_ + " cannot be retried: " + st.message());
  }
  seq_ = (*row)->seq;
  if (auto st = CheckNotSuperseded(**row, stage); !st.ok()) return st;
  if (auto st = LoadOutputs(**row); !st.ok()) return st;
  if (auto st = store.SetStopRequest(id_, ""); !st.ok()) return st;
  if (auto st = store.SetOwner(id_, ::getpid(), SelfToken()); !st.ok()) return st;
  return store.SetExecutionStatus(id_, "InProgress", "", 0);
}

// The progress the rows record (each row is the latest attempt of its stage or action); a
// status the store should not hold reads as Failed, which a retry may re-run.
void ExecutionRun::LoadProgress(const std::vector<store::StageRow>& stages,
                                const std::vector<store::ActionRow>& actions) {
  const auto& defs = plan_.pipeline().stages;
  for (size_t s = 0; s < defs.size(); ++s) {
    StageProgress& sp = progress_.stages[s];
    for (const auto& row : stages) {
      if (row.stage != defs[s].name) continue;
      sp.status = ParseStageStatus(row.status).value_or(StageStatus::kFailed);
      sp.attempt = row.attempt;
      stage_start_ms_[s] = row.start_ms;
    }
    for (size_t i = 0; i < defs[s].actions.size(); ++i) {
      for (const auto& row : actions) {
        if (row.stage != defs[s].name || row.action != defs[s].actions[i].name) continue;
        sp.actions[i].status = ParseActionStatus(row.status).value_or(ActionStatus::kFailed);
        sp.actions[i].attempt = row.attempt;
        sp.actions[i].summary = row.summary;
        action_rows_[{s, i}] = row;
      }
    }
  }
}

// What earlier stages produced: namespaces, source revisions and artifacts.
base::Status ExecutionRun::LoadOutputs(const store::ExecutionRow& row) {
  auto vars = json::parse(row.variables_json, nullptr, false);
  if (vars.is_object()) {
    for (auto& [ns, kv] : vars.items()) {
      if (!kv.is_object()) continue;
      for (auto& [k, v] : kv.items()) {
        if (v.is_string()) namespaces_[ns][k] = v.get<std::string>();
      }
    }
  }
  auto revs = json::parse(row.source_revisions_json, nullptr, false);
  if (revs.is_array()) {
    for (const auto& r : revs) {
      if (!r.is_object()) continue;
      auto text = [&](const char* key) {
        auto it = r.find(key);
        return it != r.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      revisions_.push_back({text("actionName"), text("revisionId"), text("revisionSummary")});
    }
  }
  auto artifacts = host_.store().Artifacts(id_);
  if (!artifacts.ok()) return artifacts.status();
  for (const auto& a : *artifacts) artifact_hashes_[a.name] = a.sha256;
  return base::Status::Ok();
}

// SUPERSEDED: a newer execution entering a stage supersedes a failed or stopped one there,
// which can then no longer be retried (AWS-SEMANTICS.md 2.4).
base::Status ExecutionRun::CheckNotSuperseded(const store::ExecutionRow& self,
                                              const std::string& stage) {
  const spec::Pipeline& p = plan_.pipeline();
  if (p.execution_mode != spec::ExecutionMode::kSuperseded) return base::Status::Ok();
  store::Store& store = host_.store();
  auto rows = store.ListExecutions(p.name);
  if (!rows.ok()) return rows.status();
  for (const auto& e : *rows) {
    if (e.seq <= self.seq) continue;
    auto stages = store.Stages(e.id);
    if (!stages.ok()) return stages.status();
    for (const auto& s : *stages) {
      if (s.stage != stage) continue;
      return base::Status(base::ErrorKind::kFailed,
                          "a newer execution " + e.id + " has entered stage " + stage +
                              ", so execution " + self.id + " can no longer be retried");
    }
  }
  return base::Status::Ok();
}

}  // namespace kiln::pipeline
