// The action providers: sources through git, CodeBuild through the build engine, manual
// approvals through the store.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/files.h"
#include "base/ids.h"
#include "base/json_text.h"
#include "codebuild/engine.h"
#include "codebuild/environment.h"
#include "pipeline/execution_context.h"
#include "source/connection_fetch.h"
#include "source/git_mirror.h"
#include "spec/buildspec.h"

namespace kiln::pipeline {
namespace fs = std::filesystem;
namespace {

ActionOutcome Fail(std::string summary) {
  return {.status = "Failed", .summary = std::move(summary)};
}

std::string Config(const spec::Action& a, std::string_view key) {
  return a.Config(key).value_or("");
}

// The connection a source action names, as fetch options.
base::Result<source::FetchOptions> SourceFetchOptions(const ExecutionContext& ctx,
                                                      const spec::Action& a,
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
  const spec::KilnConfig* config = ctx.options->config;
  const spec::Connection* conn = config ? config->FindConnection(name) : nullptr;
  if (!conn) {
    return base::NotFound("connection '" + name + "' is not defined in kiln.yml (connections)");
  }
  *connection_arn = conn->arn.empty() ? conn->name : conn->arn;
  return source::ConnectionFetchOptions(*config, *conn);
}

ActionOutcome RunSource(ExecutionContext& ctx, const spec::Action& a) {
  std::string connection_arn;
  auto fetch = SourceFetchOptions(ctx, a, &connection_arn);
  if (!fetch.ok()) return Fail(fetch.status().message());
  source::GitMirror mirror(ctx.options->state_dir / "git");
  if (auto st = mirror.Fetch(*fetch); !st.ok()) return Fail("fetch failed: " + st.message());
  std::string branch = Config(a, "BranchName");
  auto commit = mirror.Resolve(*fetch, branch, ctx.revision_override);
  if (!commit.ok()) return Fail(commit.status().message());
  fs::path dir = ctx.work_dir / ("source-" + a.name + "-" + base::NewUuid());
  bool clone = Config(a, "OutputArtifactFormat") == "CODEBUILD_CLONE_REF";
  auto st = clone ? mirror.ExportClone(*fetch, commit->commit_id, branch, dir)
                  : mirror.ExportTree(*fetch, commit->commit_id, dir);
  if (!st.ok()) return Fail("export failed: " + st.message());
  auto stored = ctx.artifacts->Put(dir);
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
  std::lock_guard lock(ctx.mu);
  for (const auto& name : a.output_artifacts) ctx.artifact_hashes[name] = stored->sha256;
  ctx.revisions.push_back({a.name, commit->commit_id, out.summary});
  for (const auto& name : a.output_artifacts) {
    if (auto s = ctx.store->PutArtifact(
            {ctx.execution_id, name, stored->sha256, static_cast<int64_t>(stored->size)});
        !s.ok()) {
      return Fail(s.message());
    }
  }
  return out;
}

// CodeBuild action EnvironmentVariables: [{name, value, type}] (already #{}-resolved).
base::Status ApplyActionVariables(const std::string& json_text, codebuild::BuildRequest* req) {
  if (json_text.empty()) return base::Status::Ok();
  auto doc = nlohmann::json::parse(json_text, nullptr, false);
  if (!doc.is_array()) return base::InvalidInput("EnvironmentVariables is not a JSON array");
  return codebuild::AddTypedOverrides(doc, req);
}

int CancelFd(ExecutionContext& ctx) { return ctx.cancel_read; }

ActionOutcome RunCodeBuild(ExecutionContext& ctx, const spec::Stage& stage, const spec::Action& a) {
  const spec::KilnConfig* config = ctx.options->config;
  std::string project_name = Config(a, "ProjectName");
  spec::Project project{.name = project_name};
  if (config) {
    if (const spec::Project* p = config->FindProject(project_name)) project = *p;
  }
  fs::path ws = ctx.work_dir / ("build-" + a.name + "-" + base::NewUuid());
  std::string primary = Config(a, "PrimarySource");
  if (primary.empty() && !a.input_artifacts.empty()) primary = a.input_artifacts.front();
  codebuild::BuildRequest req{.project = project_name,
                              .state_dir = ctx.options->state_dir,
                              .timeout_ms = project.timeout_ms,
                              .initiator = "codepipeline/" + ctx.pipeline->name,
                              .artifacts_out = ws / "out",
                              .console_fd = ctx.options->console_fd,
                              .cancel_fd = CancelFd(ctx)};
  req.console_prefix = "[" + a.name + "] ";
  for (const auto& input : a.input_artifacts) {
    std::string sha;
    {
      std::lock_guard lock(ctx.mu);
      sha = ctx.artifact_hashes[input];
    }
    fs::path dir = ws / "in" / input;
    if (auto st = ctx.artifacts->Get(sha, dir); !st.ok()) {
      return Fail("input artifact " + input + ": " + st.message());
    }
    if (input == primary) {
      req.source_dir = dir;
    } else {
      req.extra_builtin.emplace_back("CODEBUILD_SRC_DIR_" + input, dir.string());
    }
  }
  if (req.source_dir.empty()) {
    req.source_dir = ws / "in" / "_empty";
    fs::create_directories(req.source_dir);
  }
  req.in_place = true;
  {
    std::lock_guard lock(ctx.mu);
    if (!ctx.revisions.empty()) {
      req.extra_builtin.emplace_back("CODEBUILD_RESOLVED_SOURCE_VERSION",
                                     ctx.revisions.front().revision_id);
      req.extra_builtin.emplace_back("CODEBUILD_SOURCE_VERSION", ctx.revisions.front().revision_id);
    }
  }
  fs::path spec_path = req.source_dir / project.buildspec;
  auto text = base::ReadFile(spec_path, spec::BuildspecLimits{}.max_bytes);
  if (!text.ok()) return Fail("buildspec: " + text.status().message());
  auto parsed = spec::ParseBuildspec(*text, project.buildspec);
  if (!parsed.spec) return Fail(parsed.diagnostics.front().ToString());
  if (parsed.spec->has_batch) return Fail("batch builds are not supported yet");
  req.buildspec = std::move(*parsed.spec);
  if (config) codebuild::ResolveConfigStores(*config, &req.parameters, &req.secrets);
  if (auto st = codebuild::ApplyProjectSettings(project, &req); !st.ok()) {
    return Fail(st.message());
  }
  if (config) {
    if (auto st = codebuild::ApplyRegistry(*config, &req); !st.ok()) return Fail(st.message());
    if (auto st = codebuild::ApplyCluster(*config, &req); !st.ok()) return Fail(st.message());
  }
  if (auto st = ApplyActionVariables(Config(a, "EnvironmentVariables"), &req); !st.ok()) {
    return Fail(st.message());
  }
  // The running build's id is recorded at once: `pipeline status` can point at its log, and
  // if this process dies, whoever marks the execution Failed can end the build's processes.
  bool recorded = false;
  req.on_update = [&](const codebuild::BuildRecord& r) {
    if (recorded || r.id.empty()) return;
    recorded = true;
    {
      std::lock_guard lock(ctx.mu);
      ctx.Recorded(ctx.store->SetActionExternalId(ctx.execution_id, stage.name, a.name, r.id),
                   "the build id of action " + a.name);
      // Recorded while it runs, so its log can be followed (kiln logs -f, the API).
      ctx.Recorded(
          ctx.store->PutBuild({r.id, r.project, r.build_number, "IN_PROGRESS", ctx.execution_id,
                               base::JsonText(codebuild::ToJson(r)), r.log_path, r.start_ms, 0}),
          "build " + r.id);
    }
    if (ctx.options->observer) {
      ctx.options->observer->OnBuild(stage.name, a.name, r.id, "IN_PROGRESS");
    }
  };
  codebuild::BuildRecord record = codebuild::RunBuild(req);
  ActionOutcome out{.external_id = record.id};
  {
    std::lock_guard lock(ctx.mu);
    ctx.Recorded(ctx.store->PutBuild({record.id, record.project, record.build_number,
                                      std::string(codebuild::StatusName(record.status)),
                                      ctx.execution_id, base::JsonText(codebuild::ToJson(record)),
                                      record.log_path, record.start_ms, record.end_ms}),
                 "build " + record.id);
  }
  if (ctx.options->observer) {
    ctx.options->observer->OnBuild(stage.name, a.name, record.id,
                                   std::string(codebuild::StatusName(record.status)));
  }
  for (const auto& [k, v] : record.exported) out.variables[k] = v;
  if (record.status != codebuild::BuildStatus::kSucceeded) {
    std::error_code ec;
    fs::remove_all(ws, ec);
    out.status =
        record.status == codebuild::BuildStatus::kStopped && ctx.abandon ? "Abandoned" : "Failed";
    out.summary = "Build " + record.id + " " + std::string(codebuild::StatusName(record.status));
    return out;
  }
  for (size_t i = 0; i < a.output_artifacts.size(); ++i) {
    const std::string& name = a.output_artifacts[i];
    // CodePipeline: with several outputs, each is the secondary artifact of that identifier.
    fs::path dir = a.output_artifacts.size() == 1 ? ws / "out" : ws / "out" / name;
    fs::create_directories(dir);
    auto stored = ctx.artifacts->Put(dir);
    if (!stored.ok()) return Fail("output artifact " + name + ": " + stored.status().message());
    std::lock_guard lock(ctx.mu);
    ctx.artifact_hashes[name] = stored->sha256;
    ctx.Recorded(ctx.store->PutArtifact(
                     {ctx.execution_id, name, stored->sha256, static_cast<int64_t>(stored->size)}),
                 "output artifact " + name);
  }
  std::error_code ec;
  fs::remove_all(ws, ec);
  out.summary = "Build " + record.id + " SUCCEEDED";
  return out;
}

ActionOutcome RunApproval(ExecutionContext& ctx, const spec::Stage& stage, const spec::Action& a,
                          int attempt) {
  int64_t deadline = base::MonotonicMillis() + ctx.options->approval_timeout_ms;
  for (;;) {
    if (ctx.abandon) return {.status = "Abandoned", .summary = "Stopped while waiting"};
    std::vector<store::ActionRow> rows;
    {
      std::lock_guard lock(ctx.mu);
      auto r = ctx.store->Actions(ctx.execution_id);
      if (r.ok()) rows = std::move(*r);
    }
    for (const auto& row : rows) {
      if (row.stage != stage.name || row.action != a.name || row.attempt != attempt) continue;
      std::string comment = row.approval_summary.empty() ? "" : ": " + row.approval_summary;
      if (row.approval == "Approved") return {.summary = "Approved" + comment};
      if (row.approval == "Rejected") return Fail("Rejected" + comment);
    }
    if (base::MonotonicMillis() >= deadline) return Fail("Approval timed out");
    std::this_thread::sleep_for(std::chrono::milliseconds(ctx.options->poll_ms));
  }
}

// CodePipeline's ECS deploy action: FileName defaults to imagedefinitions.json;
// DeploymentTimeout is in minutes (1-60, default 60).
ActionOutcome RunEcsDeploy(ExecutionContext& ctx, const spec::Action& a) {
  if (!ctx.options->deployer) {
    return Fail(
        "the ECS deploy action needs the process provider of `kiln serve`: run this "
        "pipeline through the server (kiln serve, or --server URL)");
  }
  if (a.input_artifacts.empty()) return Fail("the ECS deploy action has no input artifact");
  std::string input = a.input_artifacts.front();
  std::string sha;
  {
    std::lock_guard lock(ctx.mu);
    sha = ctx.artifact_hashes[input];
  }
  fs::path dir = ctx.work_dir / ("deploy-" + a.name + "-" + base::NewUuid());
  if (auto st = ctx.artifacts->Get(sha, dir); !st.ok()) {
    return Fail("input artifact " + input + ": " + st.message());
  }
  Deployer::Request req{.cluster = Config(a, "ClusterName"),
                        .service = Config(a, "ServiceName"),
                        .artifact_dir = dir,
                        .file_name = Config(a, "FileName"),
                        .execution_id = ctx.execution_id,
                        .cancel_fd = CancelFd(ctx)};
  if (req.file_name.empty()) req.file_name = "imagedefinitions.json";
  std::string minutes = Config(a, "DeploymentTimeout");
  if (!minutes.empty()) {
    int64_t m = std::atoll(minutes.c_str());
    if (m < 1 || m > 60) return Fail("DeploymentTimeout must be 1 to 60 minutes, not " + minutes);
    req.timeout_ms = m * 60'000;
  }
  Deployer::Outcome out = ctx.options->deployer->Deploy(req);
  ActionOutcome result;
  result.status = ctx.abandon ? "Abandoned" : out.succeeded ? "Succeeded" : "Failed";
  result.summary = out.summary;
  result.external_id = out.deployment_id;
  return result;
}

}  // namespace

ActionOutcome RunAction(ExecutionContext& ctx, const spec::Stage& stage, const spec::Action& action,
                        int attempt) {
  const std::string& provider = action.type.provider;
  if (action.type.category == "Source") return RunSource(ctx, action);
  if (provider == "CodeBuild") return RunCodeBuild(ctx, stage, action);
  if (provider == "Manual") return RunApproval(ctx, stage, action, attempt);
  if (provider == "ECS") return RunEcsDeploy(ctx, action);
  return Fail("provider " + provider + " is not supported by Kiln");
}

}  // namespace kiln::pipeline
