// A project's settings and typed overrides on a BuildRequest (engine.h).
#include <nlohmann/json.hpp>

#include "codebuild/engine.h"
#include "registry/access.h"

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

base::Status ApplyRegistry(const spec::KilnConfig& config, BuildRequest* request) {
  if (request->environment.on_host()) return base::Status::Ok();  // no aws shim on the host
  auto access = registry::ResolveAccess(config, request->state_dir);
  if (!access.ok()) return access.status();
  request->registry = std::move(*access);
  if (request->registry) request->mask.push_back(request->registry->password);
  return base::Status::Ok();
}

base::Status ApplyCluster(const spec::KilnConfig& config, BuildRequest* request) {
  const std::string& name = request->environment.cluster;
  if (name.empty() || request->environment.on_host()) return base::Status::Ok();
  const spec::Cluster* cluster = config.FindCluster(name);
  if (!cluster) return base::InvalidInput("environment.cluster '" + name + "' is not in clusters");
  if (cluster->provider != "swarm") {
    return base::InvalidInput("environment.cluster '" + name + "' has provider " +
                              cluster->provider + "; builds run on swarm clusters only");
  }
  request->cluster_engine = cluster->engine;
  return base::Status::Ok();
}

}  // namespace kiln::codebuild
