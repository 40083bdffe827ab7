// A project's settings and typed overrides on a BuildRequest (engine.h).
#include <nlohmann/json.hpp>

#include "codebuild/engine.h"

namespace kiln::codebuild {

base::Status AddTypedOverrides(const nlohmann::json& vars, BuildRequest* request) {
  return AppendTypedVariables(vars, request->parameters, request->secrets, &request->overrides,
                              &request->mask);
}

base::Status ApplyProjectSettings(const spec::Project& project, BuildRequest* request) {
  request->project_vars = project.variables;
  request->environment = project.environment;
  request->cache = project.cache;
  nlohmann::json typed = nlohmann::json::array();
  for (const spec::TypedVariable& v : project.environment.variables) {
    typed.push_back(
        {{"name", v.name}, {"value", v.value}, {"type", spec::VariableTypeName(v.type)}});
  }
  return AppendTypedVariables(typed, request->parameters, request->secrets, &request->project_vars,
                              &request->mask);
}

}  // namespace kiln::codebuild
