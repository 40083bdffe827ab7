// The CodeBuild engine: runs one build of a buildspec through CodeBuild's phases
// (SUBMITTED ... COMPLETED) with its transition rules, in one shell session.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "codebuild/build_record.h"
#include "codebuild/environment.h"
#include "registry/access.h"
#include "spec/buildspec.h"
#include "spec/kiln_config.h"

namespace kiln::codebuild {

struct BuildRequest {
  std::string project;                 // names the build: "<project>:<uuid>"
  std::string build_id;                // the id to use ("<project>:<uuid>"); empty: a new one
  std::filesystem::path source_dir;    // the primary source
  bool in_place = false;               // run in source_dir itself instead of a fresh copy
  spec::Buildspec buildspec;           // parsed; batch builds are refused by the caller
  std::filesystem::path state_dir;     // logs/, workspaces/, cache/, builds/, counters/
  VarList project_vars;                // project environment variables
  spec::BuildEnvironment environment;  // the project's image, compute type, ... (none: host)
  spec::ProjectCache cache;            // the project's cache type and LOCAL modes
  std::string cluster_engine;          // environment.cluster's swarm manager (ApplyCluster)
  VarList overrides;                   // start-build overrides (`-e`)
  VarList extra_builtin;               // e.g. CODEBUILD_SRC_DIR_<artifact> from a pipeline
  std::map<std::string, std::string> parameters;  // parameter-store name -> value
  std::map<std::string, std::string> secrets;     // secrets-manager id -> SecretString
  std::vector<std::string> mask;                  // more values to hide (AddTypedOverrides)
  std::optional<registry::Access> registry;       // kiln.yml's registry (ApplyRegistry)
  int64_t timeout_ms = 60 * 60 * 1000;            // CodeBuild's default: 60 minutes
  std::string initiator;                          // CODEBUILD_INITIATOR
  std::filesystem::path artifacts_out;            // empty: <state>/builds/<project>/<n>/artifacts
  int console_fd = -1;                            // where the live log goes besides the log file
  std::string console_prefix;                     // put before each console line (e.g. "[bake] ")
  int cancel_fd = -1;                             // readable => stop the build (STOPPED)
  int64_t kill_grace_ms = 10'000;                 // SIGTERM, then SIGKILL after this
  std::function<void(const BuildRecord&)> on_update;  // called at each phase change
};

// Adds CodeBuild's typed variables ([{name, value, type}]: a pipeline action's
// EnvironmentVariables, StartBuild's environmentVariablesOverride) to request->overrides,
// resolved through request->parameters and ->secrets; the values of PARAMETER_STORE and
// SECRETS_MANAGER ones join request->mask, so the log, exported variables and the record
// show them as "***", as CodeBuild does. Call it after parameters and secrets are set.
base::Status AddTypedOverrides(const nlohmann::json& vars, BuildRequest* request);

// A project's settings for a build: its plain variables, then its typed environmentVariables
// (resolved through request->parameters and ->secrets, which must be set; the values of
// PARAMETER_STORE and SECRETS_MANAGER ones join request->mask), and its build environment.
// StartBuild overrides and action variables come after (they win, as in CodeBuild).
base::Status ApplyProjectSettings(const spec::Project& project, BuildRequest* request);

// kiln.yml's registry for a container build (registry::ResolveAccess: for `listen`, the
// password of the registry Kiln runs under request->state_dir). Call it after
// request->state_dir and ->environment are set; a build on the host gets none. The password
// joins request->mask; the build's `aws ecr get-login-password` prints it.
base::Status ApplyRegistry(const spec::KilnConfig& config, BuildRequest* request);

// The engine of the swarm cluster that request->environment.cluster names (none: nothing to
// do): kInvalidInput when kiln.yml has no such cluster or its provider is not swarm (kiln
// validate reports both with the line).
base::Status ApplyCluster(const spec::KilnConfig& config, BuildRequest* request);

// A kiln.yml project's build, the one place the CLI's server, the API, webhooks and pipeline
// actions turn a project into a request (request->state_dir set first): kiln.yml's parameter
// and secret stores, the project's settings, then override_environment (StartBuild's image,
// privileged mode, compute type; may be empty), kiln.yml's registry and cluster. config may be
// null (a pipeline run without kiln.yml): only the project's settings apply.
base::Status PrepareProjectBuild(
    const spec::KilnConfig* config, const spec::Project& project,
    const std::function<void(spec::BuildEnvironment*)>& override_environment,
    BuildRequest* request);

// The build's buildspec: override_text when not empty (named "buildspecOverride"), else the
// project's buildspec file under base, which it may not escape. kInvalidInput with the
// parse diagnostic (file:line:col), kNotFound for a missing file, kUnsupported for a batch.
base::Status LoadProjectBuildspec(const std::filesystem::path& base, const spec::Project& project,
                                  const std::string& override_text, BuildRequest* request);

// Runs the build to completion and returns its record (also written to
// <state>/builds/<project>/<number>.json). Never throws; failures are in the record.
BuildRecord RunBuild(const BuildRequest& request);

}  // namespace kiln::codebuild
