// A project's settings and typed overrides on a BuildRequest (engine.h).
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "codebuild/engine.h"
#include "codebuild/environment.h"
#include "registry/access.h"
#include "spec/buildspec.h"

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

base::Status PrepareProjectBuild(
    const spec::KilnConfig* config, const spec::Project& project,
    const std::function<void(spec::BuildEnvironment*)>& override_environment,
    BuildRequest* request) {
  if (config) ResolveConfigStores(*config, &request->parameters, &request->secrets);
  if (auto st = ApplyProjectSettings(project, request); !st.ok()) return st;
  if (override_environment) override_environment(&request->environment);
  if (!config) return base::Status::Ok();
  if (auto st = ApplyRegistry(*config, request); !st.ok()) return st;
  return ApplyCluster(*config, request);
}

base::Status LoadProjectBuildspec(const std::filesystem::path& base, const spec::Project& project,
                                  const std::string& override_text, BuildRequest* request) {
  std::string text = override_text;
  std::string file = "buildspecOverride";
  if (text.empty()) {
    std::filesystem::path path = base / project.buildspec;
    if (!base::IsInside(base, path)) {
      return base::InvalidInput("buildspec path " + project.buildspec + " escapes the source");
    }
    auto read = base::ReadFile(path, spec::BuildspecLimits{}.max_bytes);
    if (!read.ok()) {
      return base::NotFound("buildspec " + path.string() + ": " + read.status().message());
    }
    text = std::move(*read);
    file = path.string();
  }
  auto parsed = spec::ParseBuildspec(text, file);
  if (!parsed.spec) return base::InvalidInput(parsed.diagnostics.front().ToString());
  if (parsed.spec->has_batch) return base::Unsupported("batch builds are not supported yet");
  request->buildspec = std::move(*parsed.spec);
  return base::Status::Ok();
}

}  // namespace kiln::codebuild
