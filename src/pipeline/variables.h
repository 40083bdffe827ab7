// Pipeline variables: `#{Namespace.Key}` references resolved from the namespaces that earlier
// actions filled, `codepipeline` (PipelineExecutionId) and `variables` (pipeline variables).
#pragma once

#include <map>
#include <string>

#include "base/status.h"

namespace kiln::pipeline {

// namespace -> key -> value
using Namespaces = std::map<std::string, std::map<std::string, std::string>>;

// How a resolved value is written into the text: as it is, or escaped for the inside of a JSON
// string (for configuration values that are JSON text, such as CodeBuild's EnvironmentVariables).
enum class Quoting { kNone, kJsonString };

// Replaces every #{Namespace.Key} in text. An unknown namespace or key is kInvalidInput
// naming the reference (CodePipeline fails the action the same way).
base::Result<std::string> ResolveVariables(const std::string& text, const Namespaces& ns,
                                           Quoting quoting = Quoting::kNone);

}  // namespace kiln::pipeline
