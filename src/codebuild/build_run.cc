#include "codebuild/build_run.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/fd.h"
#include "base/files.h"
#include "base/ids.h"
#include "base/json_text.h"
#include "codebuild/artifacts.h"
#include "codebuild/cache.h"
#include "codebuild/command_log.h"
#include "codebuild/container_executor.h"
#include "codebuild/log_sink.h"
#include "exec/process.h"
#include "exec/shell_session.h"
#include "store/build_counter.h"

extern "C" char** environ;

namespace kiln::codebuild {

PhaseType ToPhaseType(PhaseName p) {
  switch (p) {
    case PhaseName::kInstall:
      return PhaseType::kInstall;
    case PhaseName::kPreBuild:
      return PhaseType::kPreBuild;
    case PhaseName::kBuild:
      return PhaseType::kBuild;
    case PhaseName::kPostBuild:
      return PhaseType::kPostBuild;
  }
  return PhaseType::kBuild;
}

bool IsUserName(std::string_view name) {
  if (name.empty() || name.size() > 32 || name[0] == '-') return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
              (c == '$' && i + 1 == name.size());
    if (!ok) return false;
  }
  return true;
}

std::string OneLine(std::string_view text) {
  std::string out(text.substr(0, text.find('\n')));
  if (out.size() < text.size()) out += " ...";
  return out;
}

PhaseRecord& BuildRun::Begin(PhaseType t) {
  rec_.current_phase = t;
  rec_.phases.push_back(
      {.type = t, .status = BuildStatus::kInProgress, .start_ms = base::NowMillis()});
  Notify();
  return rec_.phases.back();
}

void BuildRun::End(PhaseRecord& p, BuildStatus s, std::string code, std::string message) {
  p.status = s;
  p.end_ms = base::NowMillis();
  if (!code.empty()) p.contexts.push_back({std::move(code), MaskText(env_.mask, message)});
  if (log_ && p.type != PhaseType::kSubmitted && p.type != PhaseType::kQueued) {
    Log("Phase complete: " + std::string(PhaseTypeName(p.type)) +
        " State: " + std::string(StatusName(s)));
    for (const auto& c : p.contexts) {
      Log("Phase context status code: " + c.status_code + " Message: " + c.message);
    }
  }
}

bool BuildRun::Prepare() {
  rec_.project = req_.project;
  rec_.start_ms = base::NowMillis();
  rec_.initiator = req_.initiator;
  rec_.environment = RecordOf(req_.environment);
  auto number = store::NextBuildNumber(req_.state_dir, req_.project);
  rec_.build_number = number.ok() ? *number : 0;
  rec_.id = req_.build_id.empty() ? req_.project + ":" + base::NewUuid() : req_.build_id;
  rec_.arn = "arn:aws:codebuild:local:000000000000:build/" + rec_.id;
  build_dir_ = req_.state_dir / "builds" / req_.project / std::to_string(rec_.build_number);
  std::error_code ec;
  fs::create_directories(build_dir_, ec);
  fs::path logs = req_.state_dir / "logs" / req_.project;
  fs::create_directories(logs, ec);
  rec_.log_path = (logs / (std::to_string(rec_.build_number) + ".log")).string();
  log_fd_.Reset(::open(rec_.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  deadline_ = base::MonotonicMillis() + req_.timeout_ms;
  return log_fd_.valid() && number.ok();
}

bool BuildRun::Provision() {
  PhaseRecord& p = Begin(PhaseType::kProvisioning);
  workspace_ =
      req_.state_dir / "workspaces" / (req_.project + "-" + std::to_string(rec_.build_number));
  src_dir_ = req_.in_place ? fs::absolute(req_.source_dir) : workspace_ / "src";
  shell_src_dir_ = req_.environment.on_host() ? src_dir_ : ContainerSourcePath(rec_.id);
  EnvInputs in{.buildspec = &req_.buildspec.env,
               .project = req_.project_vars,
               .overrides = req_.overrides,
               .parameters = req_.parameters,
               .secrets = req_.secrets,
               .mask = req_.mask};
  if (req_.registry) in.mask.push_back(req_.registry->password);  // even if set without Apply
  // A container starts from its image's environment, not Kiln's.
  for (char** e = environ; req_.environment.on_host() && *e; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos || kv.starts_with("KILN_")) continue;
    in.inherited.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  in.builtin = {
      {"CODEBUILD_SRC_DIR", shell_src_dir_.string()},
      {"CODEBUILD_BUILD_ID", rec_.id},
      {"CODEBUILD_BUILD_ARN", rec_.arn},
      {"CODEBUILD_BUILD_NUMBER", std::to_string(rec_.build_number)},
      {"CODEBUILD_INITIATOR", req_.initiator},
      {"CODEBUILD_START_TIME", std::to_string(rec_.start_ms)},
      {"CODEBUILD_BUILD_SUCCEEDING", "1"},
      {"CODEBUILD_PROJECT_ARN", "arn:aws:codebuild:local:000000000000:project/" + req_.project}};
  for (const auto& kv : req_.extra_builtin) in.builtin.push_back(kv);
  auto env = ComposeEnvironment(in);
  if (!env.ok()) {
    log_ = std::make_unique<LogSink>(log_fd_.get(), req_.console_fd, std::vector<std::string>{},
                                     req_.console_prefix);
    End(p, BuildStatus::kFailed, "CLIENT_ERROR", env.status().message());
    return false;
  }
  env_ = std::move(*env);
  log_ = std::make_unique<LogSink>(log_fd_.get(), req_.console_fd, env_.mask, req_.console_prefix);
  if (!req_.environment.on_host()) {
    if (!ProvisionContainer(p)) return false;
  } else {
    Log("Running on Kiln's host executor (the project has no environment.image), build " + rec_.id);
  }
  for (const auto& w : env_.warnings) Log("Warning: " + w);
  End(p, BuildStatus::kSucceeded);
  return true;
}

// Fails closed: a project that names an image expects its commands not to touch the host.
bool BuildRun::ProvisionContainer(PhaseRecord& p) {
  auto pull_auth = PullAuthFor(req_.environment, req_.registry, req_.secrets);
  if (!pull_auth.ok()) {
    End(p, BuildStatus::kFailed, "CLIENT_ERROR", pull_auth.status().message());
    return false;
  }
  auto executor =
      ContainerExecutor::Prepare(req_.environment, req_.cluster_engine, req_.state_dir, *pull_auth,
                                 [this](const std::string& line) { Log(line); });
  if (!executor.ok()) {
    End(p, BuildStatus::kFailed, "CLIENT_ERROR", executor.status().message());
    return false;
  }
  container_ = std::move(*executor);
  if (auto st = container_->InstallAwsShim(build_dir_ / "aws-shim", req_.registry); !st.ok()) {
    End(p, BuildStatus::kFailed, "CLIENT_ERROR", "the aws command for the build: " + st.message());
    return false;
  }
  std::string where = container_->swarm()
                          ? "swarm job executor (cluster " + req_.environment.cluster + ", node " +
                                container_->node_id() + ", image "
                          : "container executor (image ";
  Log("Running on Kiln's " + where + req_.environment.image + ", computeType " +
      std::string(spec::ComputeTypeName(req_.environment.compute_type)) + ", network " +
      exec::NetworkModeText(container_->network()) + "), build " + rec_.id);
  return !container_->swarm() || StartJob(p);
}

// CodeBuild starts the build container in PROVISIONING, so a job Swarm will not run fails
// there with Swarm's words. The session needs the source dir to mount (filled in by
// DOWNLOAD_SOURCE through the mount) and the source version first.
bool BuildRun::StartJob(PhaseRecord& p) {
  std::error_code ec;
  if (!req_.in_place) fs::remove_all(workspace_, ec);
  fs::create_directories(src_dir_, ec);
  ResolveSourceVersion(req_.source_dir);
  if (auto st = StartShell(); !st.ok()) {
    End(p, BuildStatus::kFailed, "CLIENT_ERROR", "the build's Swarm job: " + st.message());
    return false;
  }
  return true;
}

void BuildRun::ResolveSourceVersion(const fs::path& dir) {
  if (!rec_.source_version.empty() || !fs::exists(dir / ".git")) return;
  auto head = exec::Capture({"git", "-C", dir.string(), "rev-parse", "HEAD"}, "");
  if (head.ok() && head->exit_code == 0) {
    rec_.source_version = head->out.substr(0, head->out.find('\n'));
    env_.vars.emplace_back("CODEBUILD_RESOLVED_SOURCE_VERSION", rec_.source_version);
  }
}

bool BuildRun::DownloadSource() {
  PhaseRecord& p = Begin(PhaseType::kDownloadSource);
  if (!req_.in_place) {
    std::error_code ec;
    if (!shell_) fs::remove_all(workspace_, ec);  // with a job running: emptied, and mounted
    auto st = base::CopyTree(req_.source_dir, src_dir_, {req_.state_dir});
    if (!st.ok()) {
      End(p, BuildStatus::kFailed, "CLIENT_ERROR", st.message());
      return false;
    }
  }
  ResolveSourceVersion(src_dir_);
  Log("CODEBUILD_SRC_DIR=" + shell_src_dir_.string());
  LogCacheModes();
  if (UsesCustomCache()) {
    LocalCache cache(req_.state_dir / "cache", req_.project);
    auto restored = cache.Restore(req_.buildspec.cache, src_dir_);
    if (!restored.ok()) {
      Log("Cache restore failed: " + restored.status().message());
    } else if (restored->hit) {
      Log("Restored cache '" + restored->key + "': " + std::to_string(restored->files) + " files");
    } else {
      Log("No cache found");
    }
  }
  End(p, BuildStatus::kSucceeded);
  return true;
}

void BuildRun::LogCacheModes() {
  if (req_.buildspec.cache.present && !UsesCustomCache()) {
    Log(req_.cache.type == spec::CacheType::kNoCache
            ? "Not using the buildspec's cache: the project's cache type is NO_CACHE"
            : "Not using the buildspec's cache: the project's cache has no LOCAL_CUSTOM_CACHE "
              "mode");
  }
  if (req_.cache.has(spec::CacheMode::kDockerLayer)) {
    Log("LOCAL_DOCKER_LAYER_CACHE: docker builds use the engine's own layer cache");
  }
  if (req_.cache.has(spec::CacheMode::kSource)) {
    Log("LOCAL_SOURCE_CACHE: sources come from Kiln's git mirror, fetched as deltas");
  }
}

base::Status BuildRun::StartShell() {
  commands_.clear();
  first_command_.clear();
  std::vector<std::string> run_as;
  for (PhaseName p : spec::kAllPhases) {
    first_command_.push_back(commands_.size());
    for (const auto& c : req_.buildspec.phase(p).commands) commands_.push_back(c.text);
    for (const auto& c : req_.buildspec.phase(p).finally) commands_.push_back(c.text);
    run_as.resize(commands_.size(), RunAs(p));
  }
  exec::ShellOptions o{.shell = req_.buildspec.env.shell.value_or("sh"),
                       .cwd = shell_src_dir_,
                       .env = ToEnvStrings(env_.vars),
                       .scratch_dir = build_dir_ / "shell",
                       .commands = commands_,
                       .run_as = std::move(run_as),
                       .tree_token = rec_.id};
  command_log_ = std::make_unique<CommandLog>(log_.get(), &commands_);
  auto shell = container_ ? exec::ShellSession::Start(
                                o, container_->Launcher(rec_.id, src_dir_, shell_src_dir_),
                                command_log_.get(), req_.cancel_fd)
                          : exec::ShellSession::Start(o, command_log_.get(), req_.cancel_fd);
  if (!shell.ok()) return shell.status();
  shell_ = std::move(*shell);
  return base::Status::Ok();
}

BuildRecord BuildRun::Run() {
  if (!Prepare()) {
    rec_.status = BuildStatus::kFault;
    rec_.end_ms = base::NowMillis();
    return rec_;
  }
  auto& submitted = Begin(PhaseType::kSubmitted);
  End(submitted, BuildStatus::kSucceeded);
  auto& queued = Begin(PhaseType::kQueued);
  End(queued, BuildStatus::kSucceeded);
  bool ready = Provision() && DownloadSource();
  if (ready) {
    RunPhases();
    if (upload_) UploadArtifacts();
  } else {
    succeeding_ = false;
  }
  Finalize();
  if (rec_.status != BuildStatus::kFault) {
    rec_.status =
        stopped_ ? *stopped_ : (succeeding_ ? BuildStatus::kSucceeded : BuildStatus::kFailed);
  }
  Begin(PhaseType::kCompleted);
  rec_.current_phase = PhaseType::kCompleted;
  rec_.end_ms = base::NowMillis();
  log_->Flush();
  auto st = base::WriteFileAtomic(
      build_dir_.parent_path() / (std::to_string(rec_.build_number) + ".json"),
      base::JsonText(ToJson(rec_), 2),
      base::Durability::kNoSync);  // kiln.db holds the record durably
  (void)st;  // the record is also returned; a failed write is reported by the caller's output
  Notify();
  return rec_;
}

}  // namespace kiln::codebuild
