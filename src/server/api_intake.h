// The API's request bodies as typed values: one struct per body and one parser per struct.
// This is the only place that reads values out of a client's JSON (and out of a stored build
// request, which is the same struct written back): every field is type-checked and bounded
// here, so handlers and the runner work with typed values and no body can make nlohmann
// throw. Unknown fields are ignored (AWS's SDKs add fields over time).
//
// Every parser returns kInvalidInput with one line naming the field path and what was
// expected, e.g. "field 'environmentVariablesOverride[0].name': expected a string, got number".
// Thread-safe (pure functions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "pipeline/stage_status.h"
#include "spec/build_environment.h"

namespace kiln::server {

// Bounds on what one request may hold (the HTTP layer already caps a body at 1 MiB).
inline constexpr size_t kMaxListEntries = 500;            // variables, revisions, images
inline constexpr size_t kMaxNameBytes = 255;              // a variable's or stage's name
inline constexpr size_t kMaxValueBytes = 64 * 1024;       // a variable's value, a path, a ref
inline constexpr size_t kMaxBuildspecBytes = 512 * 1024;  // buildspecOverride
inline constexpr size_t kMaxReasonBytes = 200;            // CodePipeline: StopExecution reason
inline constexpr size_t kMaxSummaryBytes = 512;           // CodePipeline: approval summary
inline constexpr int64_t kMinBuildTimeoutMinutes = 5;     // CodeBuild: timeoutInMinutes
inline constexpr int64_t kMaxBuildTimeoutMinutes = 2160;
inline constexpr int64_t kMaxDesiredCount = 1000;
inline constexpr size_t kMaxImageBytes = 255;  // imageOverride (CodeBuild: 1..255)

// POST /api/v1/pipelines/{name}/executions (StartPipelineExecution).
struct PipelineVariable {
  std::string name;
  std::string value;
};
enum class RevisionType { kCommitId };  // Kiln's sources are git: COMMIT_ID only
struct SourceRevision {
  std::string action_name;  // optional in Kiln: one revision for every source action
  RevisionType revision_type = RevisionType::kCommitId;
  std::string revision_value;
};
struct StartExecutionRequest {
  std::vector<PipelineVariable> variables;
  std::vector<SourceRevision> source_revisions;
};

// POST /api/v1/executions/{id}/stop (StopPipelineExecution).
struct StopExecutionRequest {
  bool abandon = false;
  std::string reason;
};

// POST /api/v1/executions/{id}/retry (RetryStageExecution).
using pipeline::RetryMode;
using pipeline::RetryModeName;
struct RetryStageRequest {
  std::string stage_name;
  RetryMode mode = RetryMode::kFailedActions;
};

// POST /api/v1/executions/{id}/approve | reject (PutApprovalResult).
struct ApprovalRequest {
  std::string stage_name;
  std::string action_name;
  std::string summary;
  std::string token;  // optional: when given, it must be the waiting approval's
};

// POST /api/v1/pipelines/{name}/stages/{stage}/disable-transition | enable-transition
// (DisableStageTransition / EnableStageTransition). transitionType is required; Outbound
// means the next stage's Inbound (the handler maps it).
enum class TransitionType { kInbound, kOutbound };
inline constexpr size_t kMaxTransitionReasonChars = 300;  // CodePipeline: reason 1..300
struct TransitionRequest {
  TransitionType type = TransitionType::kInbound;
  std::string reason;  // disable only: required, 1..300 characters (UTF-8)
};

// POST /api/v1/projects/{name}/builds (StartBuild).
// The same typed variable as a project's environmentVariables (spec/build_environment.h).
using spec::VariableType;
using spec::VariableTypeName;
using EnvironmentVariable = spec::TypedVariable;
struct StartBuildRequest {
  std::optional<std::string> buildspec_override;
  std::optional<std::string> source_version;
  std::vector<EnvironmentVariable> environment_variables_override;
  std::optional<int64_t> timeout_in_minutes_override;  // 5..2160
  // The build environment's overrides (CodeBuild's StartBuildInput); each wins over the
  // project's setting. An imageOverride on a project without an image makes it a container
  // build.
  std::optional<std::string> image_override;  // 1..255 bytes, spec::IsImageReference
  std::optional<bool> privileged_mode_override;
  std::optional<spec::ComputeType> compute_type_override;  // BUILD_GENERAL1_*
  // Only LINUX_CONTAINER is accepted (Kiln's builds run in Linux containers or on the host).
  std::optional<std::string> environment_type_override;
};

// A build as queued in the builds table (record_json): the client's StartBuild fields, and
// what the server adds (the project, who started it, a webhook's source).
struct BuildSourceRef {
  std::string connection;
  std::string revision;
  std::string branch;
  std::string webhook_event;
  std::string webhook_head_ref;
  std::string webhook_base_ref;
  std::string webhook_trigger;
  std::string webhook_actor_account_id;
};
struct StoredBuildRequest {
  std::string project_name;
  std::string initiator;
  StartBuildRequest start;
  std::optional<BuildSourceRef> source;
};

// POST /api/v1/services/{name}/deployments: one of imageDefinitions, imageDetail, revision.
struct ImageDefinition {
  std::string name;
  std::string image_uri;
};
struct DeployRequest {
  std::vector<ImageDefinition> image_definitions;  // imagedefinitions.json's array
  std::optional<std::string> image_detail_uri;     // imageDetail.json's ImageURI
  std::optional<int64_t> revision;                 // >= 1: an existing revision again
  std::string artifact_dir;                        // absolute, or empty
};
// POST /api/v1/services/{name}/rollback: no fields (the body, if any, must be an object).
struct RollbackRequest {};
// POST /api/v1/services/{name}/scale.
struct ScaleRequest {
  int desired_count = 0;  // 0..kMaxDesiredCount
};

// Each parses a request body that is already JSON (any JSON value: a non-object is refused).
base::Result<StartExecutionRequest> ParseStartExecutionRequest(const nlohmann::json& body);
base::Result<StopExecutionRequest> ParseStopExecutionRequest(const nlohmann::json& body);
base::Result<RetryStageRequest> ParseRetryStageRequest(const nlohmann::json& body);
base::Result<ApprovalRequest> ParseApprovalRequest(const nlohmann::json& body);
base::Result<StartBuildRequest> ParseStartBuildRequest(const nlohmann::json& body);
base::Result<DeployRequest> ParseDeployRequest(const nlohmann::json& body);
base::Result<RollbackRequest> ParseRollbackRequest(const nlohmann::json& body);
base::Result<ScaleRequest> ParseScaleRequest(const nlohmann::json& body);
base::Result<TransitionRequest> ParseDisableTransitionRequest(const nlohmann::json& body);
base::Result<TransitionRequest> ParseEnableTransitionRequest(const nlohmann::json& body);
// A DisableStageTransition reason (also the CLI's --reason): kInvalidInput "must not be
// empty" or "at most 300 characters, got N".
base::Status CheckTransitionReason(std::string_view reason);

// The stored form of a queued build, and back. The parser reads the StartBuild fields with
// the same code as ParseStartBuildRequest; any text (not JSON, wrong types) gives an error.
std::string StoredBuildRequestJson(const StoredBuildRequest& request);
base::Result<StoredBuildRequest> ParseStoredBuildRequest(std::string_view text);

}  // namespace kiln::server
