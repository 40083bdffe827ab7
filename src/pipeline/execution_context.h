// State shared by the actions of one execution while it runs in this process.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/engine.h"
#include "pipeline/variables.h"
#include "store/artifact_store.h"
#include "store/store.h"

namespace kiln::pipeline {

struct SourceRevision {
  std::string action, revision_id, summary;
};

// Thread-safe: every member that action threads touch is behind mu.
struct ExecutionContext {
  const EngineOptions* options = nullptr;
  const spec::Pipeline* pipeline = nullptr;
  std::string execution_id;
  std::filesystem::path work_dir;       // <state>/executions/<id>
  std::unique_ptr<store::Store> store;  // guarded by mu
  std::unique_ptr<store::ArtifactStore> artifacts;

  std::mutex mu;
  Namespaces namespaces;                               // guarded by mu
  std::map<std::string, std::string> artifact_hashes;  // artifact name -> sha256
  std::vector<SourceRevision> revisions;
  std::string revision_override;
  std::atomic<bool> abandon{false};         // stop-and-abandon requested
  int cancel_read = -1, cancel_write = -1;  // readable once abandon is set (cancels builds)

  // Persists namespaces and revisions to the execution row. Caller holds mu.
  base::Status SaveVariablesLocked();

  // A store write's result, handled: a failure is said on stderr at once ("what" names the
  // record), and the first one is kept, so that the execution, whose record is now incomplete,
  // ends Failed with that reason rather than claiming a success it could not record. Caller
  // holds mu.
  void Recorded(const base::Status& written, std::string_view what);
  std::string store_failure;  // guarded by mu; empty while every write succeeded
};

// What an action ended with.
struct ActionOutcome {
  std::string status = "Succeeded";  // Succeeded | Failed | Abandoned
  std::string summary;
  std::string external_id;
  std::map<std::string, std::string> variables;  // output variables
};

// Runs one action (configuration already resolved against the namespaces). attempt numbers
// retries of the stage.
ActionOutcome RunAction(ExecutionContext& ctx, const spec::Stage& stage, const spec::Action& action,
                        int attempt);

}  // namespace kiln::pipeline
