// The build's environment variables with CodeBuild's precedence (highest first): start-build
// overrides, project variables, buildspec `env`. Values are literal: "$PATH:/x" stays as is.
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "spec/buildspec.h"
#include "spec/kiln_config.h"

namespace kiln::codebuild {

using VarList = std::vector<std::pair<std::string, std::string>>;

struct EnvInputs {
  VarList inherited;  // the runner's own environment (PATH, HOME, ...)
  VarList builtin;    // CODEBUILD_* set by Kiln
  const spec::Env* buildspec = nullptr;
  VarList project;                                // project environment variables
  VarList overrides;                              // `-e NAME=VALUE`, highest precedence
  std::map<std::string, std::string> parameters;  // parameter name -> value
  std::map<std::string, std::string> secrets;     // secret id -> SecretString
  std::vector<std::string> mask;  // values already known to be secret (typed overrides)
};

struct ComposedEnv {
  VarList vars;                       // final, one entry per name
  std::vector<std::string> mask;      // values to hide in every output
  std::vector<std::string> warnings;  // e.g. a reserved name that was ignored
};

// Resolves parameter-store and secrets-manager references and merges everything.
// A missing parameter or secret, or a json-key absent from the secret, is kFailed with a
// message that names the variable and the reference (never the value).
base::Result<ComposedEnv> ComposeEnvironment(const EnvInputs& in);

// Looks up a secrets-manager reference "id[:json-key[:version-stage[:version-id]]]" (the id
// may be a full ARN, which itself contains colons).
base::Result<std::string> ResolveSecretRef(const std::string& ref,
                                           const std::map<std::string, std::string>& secrets);

// "NAME=VALUE" strings for exec.
std::vector<std::string> ToEnvStrings(const VarList& vars);

// CodeBuild's typed variables ([{name, value, type}], as a pipeline action's
// EnvironmentVariables or StartBuild's environmentVariablesOverride): PLAINTEXT as given,
// PARAMETER_STORE and SECRETS_MANAGER looked up in parameters / secrets. Appends to out, and
// the value of every PARAMETER_STORE and SECRETS_MANAGER one to mask: resolving a secret and
// registering it for masking happen in one place, so no path can do one without the other.
// kNotFound naming a missing parameter or secret (never a value).
base::Status AppendTypedVariables(const nlohmann::json& vars,
                                  const std::map<std::string, std::string>& parameters,
                                  const std::map<std::string, std::string>& secrets, VarList* out,
                                  std::vector<std::string>* mask);

// Resolves every parameter and secret kiln.yml defines (for a buildspec's parameter-store and
// secrets-manager sections); ones that cannot be resolved are left out (the build then fails
// naming the missing one).
void ResolveConfigStores(const spec::KilnConfig& config,
                         std::map<std::string, std::string>* parameters,
                         std::map<std::string, std::string>* secrets);

}  // namespace kiln::codebuild
