// The action providers that do work outside the engine's loop: sources through git, CodeBuild
// through the build engine, the ECS deploy through the server's Deployer. Each runs on a
// thread of its own with a copy of what it needs (ActionJob), touches no store and no state
// of the execution, and reports its end as an ActionOutcome, which the engine's loop applies.
// (Manual approvals need no thread: the loop keeps them.)
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "codebuild/engine.h"
#include "pipeline/engine.h"
#include "pipeline/stage_status.h"
#include "spec/pipeline.h"

namespace kiln::pipeline {

struct SourceRevision {
  std::string action, revision_id, summary;
};

struct ActionJob {
  const EngineOptions* options = nullptr;
  std::string pipeline, execution_id, stage;
  spec::Action action;  // its configuration resolved against the namespaces
  std::filesystem::path work_dir;
  std::map<std::string, std::string> input_hashes;  // input artifact name -> sha256
  std::string source_revision;                      // the execution's first source revision
  std::string revision_override;                    // the commit a source action takes
  int cancel_fd = -1;                               // readable: abandon the action
};

struct ArtifactOut {
  std::string name, sha256;
  int64_t size = 0;
};

struct ActionOutcome {
  ActionStatus status = ActionStatus::kSucceeded;  // Succeeded | Failed
  std::string summary;
  std::string external_id;
  std::map<std::string, std::string> variables;  // output variables
  std::vector<ArtifactOut> artifacts;
  std::optional<SourceRevision> revision;       // a source action's
  std::optional<codebuild::BuildRecord> build;  // a CodeBuild action's final record
};

// Called on the action's thread once the build of a CodeBuild action has its id.
using BuildStarted = std::function<void(const codebuild::BuildRecord&)>;

// Runs a Source, CodeBuild or ECS action to its end. Never throws on bad input (a failed
// outcome says why).
ActionOutcome RunBlockingAction(const ActionJob& job, const BuildStarted& build_started);

// The store's record of a build, as PutBuild takes it.
store::BuildRow BuildRowOf(const codebuild::BuildRecord& record, const std::string& execution_id,
                           bool running);

}  // namespace kiln::pipeline
