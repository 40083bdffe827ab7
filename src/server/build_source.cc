#include "server/build_source.h"

#include "base/files.h"
#include "build/environment.h"
#include "source/connection_fetch.h"
#include "spec/buildspec.h"

namespace kiln::server {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string Text(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

base::Status ExportSource(const RunnerOptions& options, const json& source, const fs::path& dest,
                          build::BuildRequest* req) {
  const spec::Connection* conn =
      options.config ? options.config->FindConnection(Text(source, "connection")) : nullptr;
  if (!conn) return base::NotFound("connection '" + Text(source, "connection") + "' not found");
  auto fetch = source::ConnectionFetchOptions(*options.config, *conn);
  if (!fetch.ok()) return fetch.status();
  source::GitMirror mirror(options.state_dir / "git");
  if (auto st = mirror.Fetch(*fetch); !st.ok()) return st;
  auto commit = mirror.Resolve(*fetch, Text(source, "branch"), Text(source, "revision"));
  if (!commit.ok()) return commit.status();
  if (auto st = mirror.ExportTree(*fetch, commit->commit_id, dest); !st.ok()) return st;
  req->extra_builtin.emplace_back("CODEBUILD_RESOLVED_SOURCE_VERSION", commit->commit_id);
  req->extra_builtin.emplace_back("CODEBUILD_SOURCE_VERSION", commit->commit_id);
  req->extra_builtin.emplace_back("CODEBUILD_SOURCE_REPO_URL", conn->url);
  for (const char* key : {"webhookEvent", "webhookHeadRef", "webhookBaseRef", "webhookTrigger",
                          "webhookActorAccountId"}) {
    std::string v = Text(source, key);
    if (v.empty()) continue;
    std::string name = key;  // webhookHeadRef -> CODEBUILD_WEBHOOK_HEAD_REF
    std::string var = "CODEBUILD_WEBHOOK";
    for (char c : name.substr(7)) {
      if (std::isupper(static_cast<unsigned char>(c))) var += '_';
      var += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    req->extra_builtin.emplace_back(var, v);
  }
  return base::Status::Ok();
}

base::Status ApplyOverrides(const json& vars, build::BuildRequest* req) {
  if (!vars.is_array()) return base::Status::Ok();
  return build::AddTypedOverrides(vars, req);  // also registers secret values for masking
}

}  // namespace

base::Result<PreparedBuild> PrepareBuild(const RunnerOptions& options, const store::BuildRow& row,
                                         const json& request) {
  const spec::Project* project = options.config ? options.config->FindProject(row.project) : nullptr;
  if (!project) return base::NotFound("project '" + row.project + "' is not defined in kiln.yml");
  PreparedBuild out;
  out.work_dir = options.state_dir / "server-builds" / row.id.substr(row.id.rfind(':') + 1);
  fs::path src = out.work_dir / "src";
  build::BuildRequest& req = out.request;
  req.project = row.project;
  req.build_id = row.id;
  req.state_dir = options.state_dir;
  req.source_dir = src;
  req.in_place = true;
  req.timeout_ms = project->timeout_ms;
  if (request.contains("timeoutInMinutesOverride") &&
      request["timeoutInMinutesOverride"].is_number_integer()) {
    req.timeout_ms = request["timeoutInMinutesOverride"].get<int64_t>() * 60'000;
  }
  req.initiator = Text(request, "initiator").empty() ? "kiln-api" : Text(request, "initiator");
  req.project_vars = project->variables;
  build::ResolveConfigStores(*options.config, &req.parameters, &req.secrets);
  if (request.contains("source") && request["source"].is_object()) {
    if (auto st = ExportSource(options, request["source"], src, &req); !st.ok()) return st;
  } else {
    std::error_code ec;
    fs::create_directories(src, ec);
    if (ec) return base::IoError("create " + src.string(), ec.value());
  }
  std::string text = Text(request, "buildspecOverride");
  std::string file = "buildspecOverride";
  if (text.empty()) {
    fs::path base = request.contains("source") ? src : fs::path(options.config->file).parent_path();
    fs::path path = base / project->buildspec;
    if (!base::IsInside(base, path)) return base::InvalidInput("buildspec path escapes the source");
    auto read = base::ReadFile(path, spec::BuildspecLimits{}.max_bytes);
    if (!read.ok()) return base::NotFound("buildspec " + path.string() + ": " + read.status().message());
    text = *read;
    file = path.string();
  }
  auto parsed = spec::ParseBuildspec(text, file);
  if (!parsed.spec) return base::InvalidInput(parsed.diagnostics.front().ToString());
  if (parsed.spec->has_batch) return base::Unsupported("batch builds are not supported yet");
  req.buildspec = std::move(*parsed.spec);
  if (auto st = ApplyOverrides(request.value("environmentVariablesOverride", json()), &req);
      !st.ok()) {
    return st;
  }
  return out;
}

}  // namespace kiln::server
