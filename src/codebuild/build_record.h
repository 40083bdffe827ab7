// A build as CodeBuild's API describes it (`Build`), plus Kiln's own fields.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "codebuild/reports.h"
#include "spec/build_environment.h"

namespace kiln::codebuild {

// CodeBuild's status words, used for both builds and phases.
enum class BuildStatus { kSucceeded, kFailed, kFault, kTimedOut, kInProgress, kStopped };
std::string_view StatusName(BuildStatus s);

// Phase types in the order CodeBuild runs them.
enum class PhaseType {
  kSubmitted,
  kQueued,
  kProvisioning,
  kDownloadSource,
  kInstall,
  kPreBuild,
  kBuild,
  kPostBuild,
  kUploadArtifacts,
  kFinalizing,
  kCompleted
};
std::string_view PhaseTypeName(PhaseType p);

struct PhaseContext {
  std::string status_code;  // COMMAND_EXECUTION_ERROR, CLIENT_ERROR, ...
  std::string message;
};

struct PhaseRecord {
  PhaseType type = PhaseType::kSubmitted;
  BuildStatus status = BuildStatus::kSucceeded;  // COMPLETED has no status
  int64_t start_ms = 0;                          // epoch milliseconds
  int64_t end_ms = 0;                            // 0 while running
  std::vector<PhaseContext> contexts;
};

struct ArtifactRecord {
  std::string identifier;          // secondary artifacts only
  std::string location;            // where the files were written
  std::string name;                // artifacts.name after expansion, if set
  std::vector<std::string> files;  // sorted relative paths
};

// The environment the build ran in (CodeBuild's Build.environment): the project's, after
// StartBuild's overrides. Kiln's host executor is an empty image.
struct EnvironmentRecord {
  std::string image;
  spec::ComputeType compute_type = spec::ComputeType::kSmall;
  bool privileged = false;
  std::string cluster;  // a swarm cluster: the build ran as a Swarm job there
};
EnvironmentRecord RecordOf(const spec::BuildEnvironment& environment);

struct BuildRecord {
  std::string id;  // "<project>:<uuid>"
  std::string arn;
  int64_t build_number = 0;
  std::string project;
  BuildStatus status = BuildStatus::kInProgress;
  PhaseType current_phase = PhaseType::kSubmitted;
  int64_t start_ms = 0, end_ms = 0;
  std::string initiator;
  std::string source_version;  // resolvedSourceVersion (git commit), if known
  EnvironmentRecord environment;
  std::vector<PhaseRecord> phases;
  std::vector<std::pair<std::string, std::string>> exported;
  bool has_artifacts = false;
  ArtifactRecord artifacts;
  std::vector<ArtifactRecord> secondary_artifacts;
  std::vector<ReportSummary> reports;
  std::string log_path;
  int attempts = 1;  // > 1 when on-failure RETRY re-ran the build
};

// The CodeBuild-shaped JSON (DESIGN.md "--json").
nlohmann::json ToJson(const BuildRecord& r);

}  // namespace kiln::codebuild
