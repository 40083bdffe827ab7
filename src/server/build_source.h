// Turns a queued build (the StartBuild request stored with it) into a BuildRequest: the
// project from kiln.yml, the buildspec (override, or the project's file in the source), the
// source (a connection's commit exported from the mirror, or none), variables and stores.
#pragma once

#include <filesystem>

#include "base/status.h"
#include "codebuild/engine.h"
#include "server/api_intake.h"
#include "server/runner.h"
#include "store/store.h"

namespace kiln::server {

struct PreparedBuild {
  codebuild::BuildRequest request;
  std::filesystem::path work_dir;  // removed after the build
};

// request: the stored request, already parsed (ParseStoredBuildRequest). Without a source,
// the project's buildspec path is taken from kiln.yml's folder.
base::Result<PreparedBuild> PrepareBuild(const RunnerOptions& options, const store::BuildRow& row,
                                         const StoredBuildRequest& request);

}  // namespace kiln::server
