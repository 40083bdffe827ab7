#include "pipeline/action_runner.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "base/ids.h"
#include "base/json_text.h"
#include "codebuild/environment.h"
#include "source/connection_fetch.h"
#include "source/git_mirror.h"
#include "spec/buildspec.h"
#include "store/artifact_store.h"

namespace kiln::pipeline {
namespace fs = std::filesystem;
namespace {

ActionOutcome Fail(std::string summary) {
  return {.status = ActionStatus::kFailed, .summary = std::move(summary)};
}

std::string Config(const spec::Action& a, std::string_view key) {
  return a.Config(key).value_or("");
}

// The connection a source action names, as fetch options.
base::Result<source::FetchOptions> SourceFetchOptions(const ActionJob& job, const spec::Action& a,
                                                      std::string* connection_arn) {
  const std::string& provider = a.type.provider;
  std::string name;
  if (provider == "CodeStarSourceConnection") name = Config(a, "ConnectionArn");
  if (provider == "CodeCommit") name = Config(a, "RepositoryName");
  if (provider == "Git") name = Config(a, "ConnectionName");
  if (provider == "Git" && name.empty()) {
    source::FetchOptions fetch;
    fetch.url = Config(a, "Url");
    return fetch;
  }
  const spec::KilnConfig* config = job.options->config;
  const spec::Connection* conn = config ? config->FindConnection(name) : nullptr;
  if (!conn) {
    return base::NotFound("connection '" + name + "' is not defined in kiln.yml (connections)");
  }
  *connection_arn = conn->arn.empty() ? conn->name : conn->arn;
  return source::ConnectionFetchOptions(*config, *conn);
}

ActionOutcome RunSource(const ActionJob& job) {
  const spec::Action& a = job.action;
  std::string connection_arn;
  auto fetch = SourceFetchOptions(job, a, &connection_arn);
  if (!fetch.ok()) return Fail(fetch.status().message());
  source::GitMirror mirror(job.options->state_dir / "git");
  if (auto st = mirror.Fetch(*fetch); !st.ok()) return Fail("fetch failed: " + st.message());
  std::string branch = Config(a, "BranchName");
  auto commit = mirror.Resolve(*fetch, branch, job.revision_override);
  if (!commit.ok()) return Fail(commit.status().message());
  fs::path dir = job.work_dir / ("source-" + a.name + "-" + base::NewUuid());
  bool clone = Config(a, "OutputArtifactFormat") == "CODEBUILD_CLONE_REF";
  auto st = clone ? mirror.ExportClone(*fetch, commit->commit_id, branch, dir)
                  : mirror.ExportTree(*fetch, commit->commit_id, dir);
  if (!st.ok()) return Fail("export failed: " + st.message());
  store::ArtifactStore artifacts(job.options->state_dir / "artifacts");
  auto stored = artifacts.Put(dir);
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (!stored.ok()) return Fail("storing the artifact failed: " + stored.status().message());
  ActionOutcome out{.summary = commit->commit_message.substr(0, commit->commit_message.find('\n')),
                    .external_id = commit->commit_id};
  out.variables = {{"CommitId", commit->commit_id},
                   {"CommitMessage", commit->commit_message},
                   {"BranchName", branch},
                   {"AuthorDate", commit->author_date},
                   {"FullRepositoryName", commit->full_repository_name}};
  if (a.type.provider == "CodeStarSourceConnection")
    out.variables["ConnectionArn"] = connection_arn;
  if (a.type.provider == "CodeCommit")
    out.variables["RepositoryName"] = Config(a, "RepositoryName");
  for (const auto& name : a.output_artifacts) {
    out.artifacts.push_back({name, stored->sha256, static_cast<int64_t>(stored->size)});
  }
  out.revision = SourceRevision{a.name, commit->commit_id, out.summary};
  return out;
}

// CodeBuild action EnvironmentVariables: [{name, value, type}] (already #{}-resolved).
base::Status ApplyActionVariables(const std::string& json_text, codebuild::BuildRequest* req) {
  if (json_text.empty()) return base::Status::Ok();
  auto doc = nlohmann::json::parse(json_text, nullptr, false);
  if (!doc.is_array()) return base::InvalidInput("EnvironmentVariables is not a JSON array");
  return codebuild::AddTypedOverrides(doc, req);
}

// Input artifacts unpacked under ws/in: the primary one is the source, the others
// CODEBUILD_SRC_DIR_<name>.
base::Status UnpackInputs(const ActionJob& job, const fs::path& ws, codebuild::BuildRequest* req) {
  const spec::Action& a = job.action;
  std::string primary = Config(a, "PrimarySource");
  if (primary.empty() && !a.input_artifacts.empty()) primary = a.input_artifacts.front();
  store::ArtifactStore artifacts(job.options->state_dir / "artifacts");
  for (const auto& input : a.input_artifacts) {
    auto it = job.input_hashes.find(input);
    fs::path dir = ws / "in" / input;
    base::Status st = it == job.input_hashes.end() ? base::NotFound("no earlier action produced it")
                                                   : artifacts.Get(it->second, dir);
    if (!st.ok()) return base::Status(st.kind(), "input artifact " + input + ": " + st.message());
    if (input == primary) {
      req->source_dir = dir;
    } else {
      req->extra_builtin.emplace_back("CODEBUILD_SRC_DIR_" + input, dir.string());
    }
  }
  if (req->source_dir.empty()) {
    req->source_dir = ws / "in" / "_empty";
    std::error_code ec;
    fs::create_directories(req->source_dir, ec);
    if (ec) return base::IoError("create " + req->source_dir.string(), ec.value());
  }
  return base::Status::Ok();
}

// The project's settings, the registry and cluster, the buildspec from the source and the
// action's EnvironmentVariables, on top of what BuildRequestFor set.
base::Status ApplyProject(const ActionJob& job, const spec::Project& project,
                          codebuild::BuildRequest* req) {
  if (auto st = codebuild::LoadProjectBuildspec(req->source_dir, project, "", req); !st.ok()) {
    return st;
  }
  auto st = codebuild::PrepareProjectBuild(job.options->config, project, nullptr, req);
  if (!st.ok()) return st;
  return ApplyActionVariables(Config(job.action, "EnvironmentVariables"), req);
}

spec::Project ProjectOf(const ActionJob& job) {
  std::string name = Config(job.action, "ProjectName");
  const spec::KilnConfig* config = job.options->config;
  const spec::Project* found = config ? config->FindProject(name) : nullptr;
  return found ? *found : spec::Project{.name = name};
}

// The action's output artifacts from ws/out (CodePipeline: with several outputs, each is the
// secondary artifact of that identifier).
base::Status StoreOutputs(const ActionJob& job, const fs::path& ws, ActionOutcome* out) {
  const auto& names = job.action.output_artifacts;
  store::ArtifactStore artifacts(job.options->state_dir / "artifacts");
  for (const auto& name : names) {
    fs::path dir = names.size() == 1 ? ws / "out" : ws / "out" / name;
    std::error_code ec;
    fs::create_directories(dir, ec);
    auto stored = artifacts.Put(dir);
    if (!stored.ok()) {
      return base::Status(stored.status().kind(),
                          "output artifact " + name + ": " + stored.status().message());
    }
    out->artifacts.push_back({name, stored->sha256, static_cast<int64_t>(stored->size)});
  }
  return base::Status::Ok();
}

ActionOutcome RunCodeBuild(const ActionJob& job, const BuildStarted& build_started) {
  spec::Project project = ProjectOf(job);
  fs::path ws = job.work_dir / ("build-" + job.action.name + "-" + base::NewUuid());
  codebuild::BuildRequest req{.project = project.name,
                              .state_dir = job.options->state_dir,
                              .timeout_ms = project.timeout_ms,
                              .initiator = "codepipeline/" + job.pipeline,
                              .artifacts_out = ws / "out",
                              .console_fd = job.options->console_fd,
                              .cancel_fd = job.cancel_fd};
  req.console_prefix = "[" + job.action.name + "] ";
  req.in_place = true;
  if (!job.source_revision.empty()) {
    req.extra_builtin.emplace_back("CODEBUILD_RESOLVED_SOURCE_VERSION", job.source_revision);
    req.extra_builtin.emplace_back("CODEBUILD_SOURCE_VERSION", job.source_revision);
  }
  base::Status st = UnpackInputs(job, ws, &req);
  if (st.ok()) st = ApplyProject(job, project, &req);
  std::error_code ec;
  if (!st.ok()) {
    fs::remove_all(ws, ec);
    return Fail(st.message());
  }
  bool told = false;
  req.on_update = [&](const codebuild::BuildRecord& r) {
    if (told || r.id.empty()) return;
    told = true;
    build_started(r);
  };
  codebuild::BuildRecord record = codebuild::RunBuild(req);
  ActionOutcome out{.external_id = record.id, .build = record};
  for (const auto& [k, v] : record.exported) out.variables[k] = v;
  std::string status(codebuild::StatusName(record.status));
  if (record.status == codebuild::BuildStatus::kSucceeded) st = StoreOutputs(job, ws, &out);
  fs::remove_all(ws, ec);
  if (record.status != codebuild::BuildStatus::kSucceeded || !st.ok()) {
    out.status = ActionStatus::kFailed;
    out.summary = st.ok() ? "Build " + record.id + " " + status : st.message();
    return out;
  }
  out.summary = "Build " + record.id + " SUCCEEDED";
  return out;
}

// CodePipeline's ECS deploy action: FileName defaults to imagedefinitions.json;
// DeploymentTimeout is in minutes (1-60, default 60).
ActionOutcome RunEcsDeploy(const ActionJob& job) {
  const spec::Action& a = job.action;
  if (!job.options->deployer) {
    return Fail(
        "the ECS deploy action needs the process provider of `kiln serve`: run this "
        "pipeline through the server (kiln serve, or --server URL)");
  }
  if (a.input_artifacts.empty()) return Fail("the ECS deploy action has no input artifact");
  const std::string& input = a.input_artifacts.front();
  auto sha = job.input_hashes.find(input);
  if (sha == job.input_hashes.end()) return Fail("input artifact " + input + ": not produced");
  fs::path dir = job.work_dir / ("deploy-" + a.name + "-" + base::NewUuid());
  store::ArtifactStore artifacts(job.options->state_dir / "artifacts");
  if (auto st = artifacts.Get(sha->second, dir); !st.ok()) {
    return Fail("input artifact " + input + ": " + st.message());
  }
  Deployer::Request req{.cluster = Config(a, "ClusterName"),
                        .service = Config(a, "ServiceName"),
                        .artifact_dir = dir,
                        .file_name = Config(a, "FileName"),
                        .execution_id = job.execution_id,
                        .cancel_fd = job.cancel_fd};
  if (req.file_name.empty()) req.file_name = "imagedefinitions.json";
  std::string minutes = Config(a, "DeploymentTimeout");
  if (!minutes.empty()) {
    int64_t m = std::atoll(minutes.c_str());
    if (m < 1 || m > 60) return Fail("DeploymentTimeout must be 1 to 60 minutes, not " + minutes);
    req.timeout_ms = m * 60'000;
  }
  Deployer::Outcome out = job.options->deployer->Deploy(req);
  std::error_code ec;
  fs::remove_all(dir, ec);
  return {.status = out.succeeded ? ActionStatus::kSucceeded : ActionStatus::kFailed,
          .summary = out.summary,
          .external_id = out.deployment_id};
}

}  // namespace

ActionOutcome RunBlockingAction(const ActionJob& job, const BuildStarted& build_started) {
  const spec::Action& action = job.action;
  if (action.type.category == "Source") return RunSource(job);
  if (action.type.provider == "CodeBuild") return RunCodeBuild(job, build_started);
  if (action.type.provider == "ECS") return RunEcsDeploy(job);
  return Fail("provider " + action.type.provider + " is not supported by Kiln");
}

store::BuildRow BuildRowOf(const codebuild::BuildRecord& record, const std::string& execution_id,
                           bool running) {
  return {record.id,
          record.project,
          record.build_number,
          running ? "IN_PROGRESS" : std::string(codebuild::StatusName(record.status)),
          execution_id,
          base::JsonText(codebuild::ToJson(record)),
          record.log_path,
          record.start_ms,
          running ? 0 : record.end_ms};
}

}  // namespace kiln::pipeline
