// CodePipeline pipeline definitions (`get-pipeline` output, with or without the outer
// {"pipeline": ...}; JSON or the same structure in YAML) and CodePipeline's structure rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spec/diagnostic.h"

namespace kiln::spec {

struct ActionTypeId {
  std::string category;  // Source | Build | Test | Deploy | Approval | Invoke
  std::string owner;     // AWS | ThirdParty | Custom
  std::string provider;  // CodeStarSourceConnection, CodeCommit, Git, CodeBuild, ECS, Manual...
  std::string version = "1";
};

struct Action {
  std::string name;
  ActionTypeId type;
  int run_order = 1;
  // Provider configuration, in file order. Values are strings; numbers and booleans keep
  // their source text (DeploymentTimeout: 10 -> "10").
  std::vector<std::pair<std::string, std::string>> configuration;
  std::vector<std::string> input_artifacts;
  std::vector<std::string> output_artifacts;
  std::string namespace_name;  // "namespace"; empty when absent
  int line = 0;                // where the action starts in the source file
  std::string pointer;         // its JSON pointer, e.g. /pipeline/stages/1/actions/0

  // The configuration value for key, if present.
  std::optional<std::string> Config(std::string_view key) const;
};

struct Stage {
  std::string name;
  std::vector<Action> actions;
  std::string on_failure_result;  // V2 onFailure.result: ROLLBACK | FAIL | RETRY | SKIP
  std::string retry_mode;         // onFailure.retryConfiguration.retryMode
  int line = 0;
  std::string pointer;
};

struct PipelineVariable {
  std::string name;
  std::string default_value;  // empty when absent (CodePipeline requires 1..1000 characters)
  std::string description;
  int line = 0;
  std::string pointer;
};

struct GitFilter {  // includes/excludes globs (CodePipeline's glob rules)
  std::vector<std::string> includes;
  std::vector<std::string> excludes;
};

struct GitPushFilter {
  std::optional<GitFilter> tags, branches, file_paths;
};

struct GitPullRequestFilter {
  std::vector<std::string> events;  // OPEN | UPDATED | CLOSED
  std::optional<GitFilter> branches, file_paths;
};

struct Trigger {
  std::string provider_type;  // CodeStarSourceConnection
  std::string source_action_name;
  std::vector<GitPushFilter> push;
  std::vector<GitPullRequestFilter> pull_request;
  int line = 0;
  std::string pointer;
};

enum class ExecutionMode { kSuperseded, kQueued, kParallel };
std::string_view ExecutionModeName(ExecutionMode m);

struct Pipeline {
  std::string name;
  std::vector<Stage> stages;
  std::vector<PipelineVariable> variables;
  std::vector<Trigger> triggers;
  ExecutionMode execution_mode = ExecutionMode::kSuperseded;
  std::string pipeline_type = "V1";  // V1 | V2
  int line = 0;                      // where the pipeline object starts
  std::string pointer;               // e.g. /pipeline, or /Resources/Pipeline/Properties
};

struct ParsedPipeline {
  std::optional<Pipeline> pipeline;  // set when no diagnostics
  Diagnostics diagnostics;
};

// Parses JSON or YAML text. AWS-only fields (roleArn, artifactStore(s), region, version,
// metadata, blockers) are accepted and ignored; unknown keys are errors naming their line.
// Never throws. Limits: 4 MiB of text, 64 levels of nesting. Diagnostics name the JSON pointer
// of what they are about ("/pipeline/stages/1/actions/0/runorder: unknown key ..."). Stage
// conditions (onFailure/onSuccess/beforeEntry `conditions`) are refused: Kiln cannot honour
// them yet. A configuration value written as a list or map (YAML) becomes its JSON text.
ParsedPipeline ParsePipeline(std::string_view text, const std::string& file);

// CodePipeline's structure rules (AWS-SEMANTICS.md §2.1-2.3, 2.6): names and their
// characters; >= 2 stages; the first stage holds only Source actions and only it does; unique
// stage names, action names per stage, output artifact names and namespaces (and namespaces
// not clashing with artifact names); every input artifact produced by an earlier action
// (earlier stage, or lower runOrder in the same stage); `#{Namespace.Key}` references only to
// namespaces of earlier actions, `codepipeline` or `variables` (declared ones); runOrder >= 1;
// known providers and their required configuration keys; executionMode QUEUED/PARALLEL only
// with pipelineType V2; trigger filters in the valid combinations. Known providers:
// Source: CodeStarSourceConnection, CodeCommit, Git; Build/Test: CodeBuild;
// Deploy: ECS; Approval: Manual. A known AWS provider Kiln does not have yet (e.g.
// CodeDeployToECS, CloudFormation, S3, ECR, Lambda) is an error saying exactly that.
Diagnostics ValidatePipeline(const Pipeline& p, const std::string& file);

// The variable references `#{Namespace.Key}` in text, as (namespace, key) pairs.
std::vector<std::pair<std::string, std::string>> VariableRefs(std::string_view text);

// The pipeline as CodePipeline's JSON structure (the inner object of get-pipeline).
std::string PipelineToJson(const Pipeline& p);

}  // namespace kiln::spec
