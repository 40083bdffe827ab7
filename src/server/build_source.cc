#include "server/build_source.h"

#include <nlohmann/json.hpp>

#include "base/files.h"
#include "codebuild/environment.h"
#include "source/connection_fetch.h"
#include "spec/buildspec.h"

namespace kiln::server {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

base::Status ExportSource(const RunnerOptions& options, const BuildSourceRef& source,
                          const fs::path& dest, codebuild::BuildRequest* req) {
  const spec::Connection* conn =
      options.config ? options.config->FindConnection(source.connection) : nullptr;
  if (!conn) return base::NotFound("connection '" + source.connection + "' not found");
  auto fetch = source::ConnectionFetchOptions(*options.config, *conn);
  if (!fetch.ok()) return fetch.status();
  source::GitMirror mirror(options.state_dir / "git");
  if (auto st = mirror.Fetch(*fetch); !st.ok()) return st;
  auto commit = mirror.Resolve(*fetch, source.branch, source.revision);
  if (!commit.ok()) return commit.status();
  if (auto st = mirror.ExportTree(*fetch, commit->commit_id, dest); !st.ok()) return st;
  req->extra_builtin.emplace_back("CODEBUILD_RESOLVED_SOURCE_VERSION", commit->commit_id);
  req->extra_builtin.emplace_back("CODEBUILD_SOURCE_VERSION", commit->commit_id);
  req->extra_builtin.emplace_back("CODEBUILD_SOURCE_REPO_URL", conn->url);
  const std::pair<const char*, const std::string*> webhook[] = {
      {"CODEBUILD_WEBHOOK_EVENT", &source.webhook_event},
      {"CODEBUILD_WEBHOOK_HEAD_REF", &source.webhook_head_ref},
      {"CODEBUILD_WEBHOOK_BASE_REF", &source.webhook_base_ref},
      {"CODEBUILD_WEBHOOK_TRIGGER", &source.webhook_trigger},
      {"CODEBUILD_WEBHOOK_ACTOR_ACCOUNT_ID", &source.webhook_actor_account_id}};
  for (const auto& [var, value] : webhook) {
    if (!value->empty()) req->extra_builtin.emplace_back(var, *value);
  }
  return base::Status::Ok();
}

// The typed overrides in the shape build's one resolver of typed variables reads.
base::Status ApplyOverrides(const std::vector<EnvironmentVariable>& vars,
                            codebuild::BuildRequest* req) {
  json list = json::array();
  for (const auto& v : vars) {
    list.push_back({{"name", v.name}, {"value", v.value}, {"type", VariableTypeName(v.type)}});
  }
  return codebuild::AddTypedOverrides(list, req);  // also registers secret values for masking
}

// StartBuild's environment overrides win over the project's environment (CodeBuild's
// StartBuildInput *Override fields); an image makes a host project's build a container build.
// environmentTypeOverride was checked at intake (LINUX_CONTAINER only) and changes nothing.
void ApplyEnvironmentOverrides(const StartBuildRequest& start, spec::BuildEnvironment* env) {
  if (start.image_override) env->image = *start.image_override;
  if (start.privileged_mode_override) env->privileged = *start.privileged_mode_override;
  if (start.compute_type_override) env->compute_type = *start.compute_type_override;
}

}  // namespace

base::Result<PreparedBuild> PrepareBuild(const RunnerOptions& options, const store::BuildRow& row,
                                         const StoredBuildRequest& request) {
  const spec::Project* project =
      options.config ? options.config->FindProject(row.project) : nullptr;
  if (!project) return base::NotFound("project '" + row.project + "' is not defined in kiln.yml");
  PreparedBuild out;
  out.work_dir = options.state_dir / "server-builds" / row.id.substr(row.id.rfind(':') + 1);
  fs::path src = out.work_dir / "src";
  codebuild::BuildRequest& req = out.request;
  req.project = row.project;
  req.build_id = row.id;
  req.state_dir = options.state_dir;
  req.source_dir = src;
  req.in_place = true;
  req.timeout_ms = project->timeout_ms;
  if (auto minutes = request.start.timeout_in_minutes_override) req.timeout_ms = *minutes * 60'000;
  req.initiator = request.initiator.empty() ? "kiln-api" : request.initiator;
  auto overrides = [&](spec::BuildEnvironment* env) {
    ApplyEnvironmentOverrides(request.start, env);
  };
  if (auto st = codebuild::PrepareProjectBuild(options.config, *project, overrides, &req);
      !st.ok()) {
    return st;
  }
  if (request.source) {
    if (auto st = ExportSource(options, *request.source, src, &req); !st.ok()) return st;
  } else {
    std::error_code ec;
    fs::create_directories(src, ec);
    if (ec) return base::IoError("create " + src.string(), ec.value());
  }
  fs::path base = request.source ? src : fs::path(options.config->file).parent_path();
  if (auto st = codebuild::LoadProjectBuildspec(
          base, *project, request.start.buildspec_override.value_or(""), &req);
      !st.ok()) {
    return st;
  }
  if (auto st = ApplyOverrides(request.start.environment_variables_override, &req); !st.ok()) {
    return st;
  }
  return out;
}

}  // namespace kiln::server
