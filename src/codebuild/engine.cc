#include "codebuild/engine.h"

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
namespace fs = std::filesystem;
namespace {

using spec::PhaseName;

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

// How a buildspec phase ended.
struct PhaseOutcome {
  BuildStatus status = BuildStatus::kSucceeded;
  std::string message;  // for a failed command
};

// What happens after a phase fails (CodeBuild's transitions, AWS-SEMANTICS.md §1.3).
enum class Next { kNextPhase, kSkipToUpload, kSkipToFinalizing, kRetry };

// A Linux user name (useradd's rule, with a trailing $ for machine accounts) or a numeric
// id: nothing su could take for an option.
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

class BuildRun {
 public:
  explicit BuildRun(const BuildRequest& req) : req_(req) {}
  BuildRecord Run();

 private:
  bool Prepare();
  bool Provision();
  bool ProvisionContainer(PhaseRecord& p);
  bool DownloadSource();
  bool StartShell();
  void RunPhases();
  PhaseOutcome RunPhase(PhaseName p);
  std::string RunAs(PhaseName p) const {  // "" for the session's user
    const spec::Phase& phase = req_.buildspec.phase(p);
    return phase.run_as.value_or(req_.buildspec.run_as.value_or(""));
  }
  PhaseOutcome RunList(const std::vector<spec::Command>& cmds, size_t first_index);
  Next AfterFailure(PhaseName p, const PhaseOutcome& o);
  void UploadArtifacts();
  bool UploadOne(const spec::ArtifactSpec& spec, const fs::path& out, ArtifactRecord* rec,
                 PhaseRecord* phase);
  void Finalize();
  void FreezeExportedVariables();

  PhaseRecord& Begin(PhaseType t);
  void End(PhaseRecord& p, BuildStatus s, std::string code = "", std::string message = "");
  void Log(const std::string& line) { log_->Line("[Container] " + line); }
  // The buildspec's cache.paths count only with the project's LOCAL_CUSTOM_CACHE (CodeBuild).
  bool UsesCustomCache() const {
    return req_.buildspec.cache.present && req_.cache.has(spec::CacheMode::kCustom);
  }
  void LogCacheModes();
  void Notify() {
    if (req_.on_update) req_.on_update(rec_);
  }

  const BuildRequest& req_;
  BuildRecord rec_;
  std::unique_ptr<LogSink> log_;
  base::UniqueFd log_fd_;
  std::unique_ptr<CommandLog> command_log_;
  std::unique_ptr<ContainerExecutor> container_;  // outlives shell_, whose launcher uses it
  std::unique_ptr<exec::ShellSession> shell_;
  ComposedEnv env_;
  fs::path build_dir_, workspace_, src_dir_;
  fs::path shell_src_dir_;  // src_dir_ as the commands see it (in a container: its mount)
  std::vector<size_t> first_command_;  // index of each phase's first command in the session
  std::vector<std::string> commands_;
  int64_t deadline_ = 0;
  bool succeeding_ = true;
  bool upload_ = true;                  // UPLOAD_ARTIFACTS is reached
  std::optional<BuildStatus> stopped_;  // TIMED_OUT or STOPPED
  int retries_left_ = -1;
};

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
  auto executor = ContainerExecutor::Prepare(req_.environment, req_.state_dir, *pull_auth,
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
  Log("Running on Kiln's container executor (image " + req_.environment.image + ", computeType " +
      std::string(spec::ComputeTypeName(req_.environment.compute_type)) + ", network " +
      exec::NetworkModeText(container_->network()) + "), build " + rec_.id);
  return true;
}

bool BuildRun::DownloadSource() {
  PhaseRecord& p = Begin(PhaseType::kDownloadSource);
  if (!req_.in_place) {
    std::error_code ec;
    fs::remove_all(workspace_, ec);
    auto st = base::CopyTree(req_.source_dir, src_dir_, {req_.state_dir});
    if (!st.ok()) {
      End(p, BuildStatus::kFailed, "CLIENT_ERROR", st.message());
      return false;
    }
  }
  if (fs::exists(src_dir_ / ".git")) {
    auto head = exec::Capture({"git", "-C", src_dir_.string(), "rev-parse", "HEAD"}, "");
    if (head.ok() && head->exit_code == 0) {
      rec_.source_version = head->out.substr(0, head->out.find('\n'));
      env_.vars.emplace_back("CODEBUILD_RESOLVED_SOURCE_VERSION", rec_.source_version);
    }
  }
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

bool BuildRun::StartShell() {
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
  if (!shell.ok()) {
    Log("Could not start the shell: " + shell.status().message());
    return false;
  }
  shell_ = std::move(*shell);
  return true;
}

PhaseOutcome BuildRun::RunList(const std::vector<spec::Command>& cmds, size_t first_index) {
  if (cmds.empty()) return {};
  auto r = shell_->RunBatch(first_index, first_index + cmds.size() - 1, deadline_);
  switch (r.outcome) {
    case exec::CommandOutcome::kTimedOut:
      return {BuildStatus::kTimedOut, "Build timed out"};
    case exec::CommandOutcome::kCancelled:
      return {BuildStatus::kStopped, "Build stopped"};
    case exec::CommandOutcome::kShellLost:
      return {BuildStatus::kFault, "the build's shell exited unexpectedly"};
    case exec::CommandOutcome::kExited:
      break;
  }
  if (r.exit_code == 0) return {};
  std::string text = r.index < commands_.size() ? OneLine(commands_[r.index]) : "?";
  Log("Command did not exit successfully " + text + " exit status " + std::to_string(r.exit_code));
  return {BuildStatus::kFailed, "Error while executing command: " + text +
                                    ". Reason: exit status " + std::to_string(r.exit_code)};
}

// CodeBuild: `finally` runs after the phase's commands even when one of them failed; the
// phase succeeds only if both parts do.
PhaseOutcome BuildRun::RunPhase(PhaseName name) {
  const spec::Phase& phase = req_.buildspec.phase(name);
  size_t base_index = first_command_[static_cast<int>(name)];
  // CodeBuild: the phase's run-as, else the buildspec's, names the user its commands run as.
  // On the host only root can become another user; failing beats running as the wrong one.
  bool has_commands = !phase.commands.empty() || !phase.finally.empty();
  if (std::string user = RunAs(name); !user.empty() && has_commands) {
    if (!IsUserName(user))
      return {BuildStatus::kFailed, "run-as '" + user + "' is not a user name"};
    if (!container_ && ::geteuid() != 0) {
      return {BuildStatus::kFailed, "run-as " + user + " needs Kiln to run as root"};
    }
    Log("Running the commands of this phase as " + user + " (run-as)");
  }
  if (!phase.runtime_versions.empty()) {
    // CodeBuild's words on an image that declares no runtimes; it goes on, and so does Kiln.
    Log("Skipping install of runtimes. Runtime version selection is not supported by this "
        "build image.");
  }
  if (auto st = shell_->SetVariable("CODEBUILD_BUILD_SUCCEEDING", succeeding_ ? "1" : "0");
      !st.ok()) {
    return {BuildStatus::kFault, st.message()};
  }
  PhaseOutcome main = RunList(phase.commands, base_index);
  if (main.status == BuildStatus::kTimedOut || main.status == BuildStatus::kStopped ||
      main.status == BuildStatus::kFault) {
    return main;
  }
  PhaseOutcome fin = RunList(phase.finally, base_index + phase.commands.size());
  return main.status != BuildStatus::kSucceeded ? main : fin;
}

Next BuildRun::AfterFailure(PhaseName p, const PhaseOutcome& o) {
  const spec::OnFailure& f = req_.buildspec.phase(p).on_failure;
  using Mode = spec::OnFailure::Mode;
  switch (f.mode) {
    case Mode::kAbort:
      return Next::kSkipToFinalizing;
    case Mode::kContinue:
      return Next::kNextPhase;
    case Mode::kRetry: {
      if (retries_left_ < 0) retries_left_ = f.retry_count;
      // CodeBuild: RETRY-<regex> retries only when the error message matches the regex.
      bool matches = !f.retry_regex || f.retry_regex->Matches(o.message);
      if (retries_left_ > 0 && matches) {
        --retries_left_;
        return Next::kRetry;
      }
      break;
    }
    case Mode::kDefault:
      break;
  }
  // CodeBuild: INSTALL/PRE_BUILD failures skip to FINALIZING; BUILD still runs POST_BUILD;
  // UPLOAD_ARTIFACTS is attempted after BUILD and POST_BUILD.
  switch (p) {
    case PhaseName::kInstall:
    case PhaseName::kPreBuild:
      return Next::kSkipToFinalizing;
    case PhaseName::kBuild:
      return Next::kNextPhase;
    case PhaseName::kPostBuild:
      return Next::kSkipToUpload;
  }
  return Next::kSkipToFinalizing;
}

void BuildRun::RunPhases() {
  for (;;) {
    if (!StartShell()) {
      succeeding_ = false;
      upload_ = false;
      rec_.status = BuildStatus::kFault;
      return;
    }
    bool retry = false;
    for (PhaseName name : spec::kAllPhases) {
      PhaseRecord& p = Begin(ToPhaseType(name));
      Log("Entering phase " + std::string(PhaseTypeName(p.type)));
      PhaseOutcome o = RunPhase(name);
      PhaseRecord& done = rec_.phases.back();  // Begin() may have reallocated nothing since
      if (o.status == BuildStatus::kSucceeded) {
        End(done, o.status);
        continue;
      }
      End(done, o.status, o.status == BuildStatus::kFailed ? "COMMAND_EXECUTION_ERROR" : "",
          o.message);
      succeeding_ = false;
      if (o.status != BuildStatus::kFailed) {  // timed out, stopped, or the shell was lost
        stopped_ = o.status;
        upload_ = false;
        break;
      }
      Next next = AfterFailure(name, o);
      if (next == Next::kRetry) {
        retry = true;
        break;
      }
      if (next == Next::kSkipToFinalizing) upload_ = false;
      if (next != Next::kNextPhase) break;
    }
    if (!retry) return;
    shell_->Close(req_.kill_grace_ms);
    shell_.reset();
    ++rec_.attempts;
    succeeding_ = true;
    Log("Retrying the build (on-failure RETRY): attempt " + std::to_string(rec_.attempts));
  }
}

void BuildRun::FreezeExportedVariables() {
  // CodeBuild: exported variables are frozen after POST_BUILD.
  if (!shell_ || stopped_) return;
  for (const auto& name : req_.buildspec.env.exported_variables) {
    auto v = shell_->GetVariable(name);
    if (!v.ok()) continue;
    // CodeBuild shows exported variables that hold a secret masked; so they are stored.
    rec_.exported.emplace_back(name, MaskText(env_.mask, *v));
  }
}

bool BuildRun::UploadOne(const spec::ArtifactSpec& spec, const fs::path& out, ArtifactRecord* rec,
                         PhaseRecord* phase) {
  spec::ArtifactSpec expanded = spec;
  auto expand = [&](std::string* s) {
    auto v = shell_->Expand(*s);
    if (v.ok()) *s = *v;
  };
  for (auto& f : expanded.files) expand(&f);
  for (auto& f : expanded.exclude_paths) expand(&f);
  if (expanded.base_directory) expand(&*expanded.base_directory);
  if (expanded.name) {
    expand(&*expanded.name);
    rec->name = MaskText(env_.mask, *expanded.name);  // the record must not hold a secret
  }
  auto files = ResolveArtifactFiles(expanded, src_dir_);
  base::Status st = files.ok() ? WriteArtifactFiles(*files, out) : files.status();
  if (!st.ok()) {
    std::string msg = st.message();
    std::string code = "CLIENT_ERROR";
    if (msg.starts_with("CLIENT_ERROR: ")) msg = msg.substr(14);
    phase->contexts.push_back({code, msg});
    return false;
  }
  rec->location = fs::absolute(out).string();
  for (const auto& f : *files) rec->files.push_back(f.relative);
  return true;
}

void BuildRun::UploadArtifacts() {
  PhaseRecord& p = Begin(PhaseType::kUploadArtifacts);
  FreezeExportedVariables();
  bool ok = true;
  const auto& a = req_.buildspec.artifacts;
  if (a.present) {
    fs::path out = req_.artifacts_out.empty() ? build_dir_ / "artifacts" : req_.artifacts_out;
    rec_.has_artifacts = true;
    ok = UploadOne(a.primary, out, &rec_.artifacts, &p);
    for (const auto& [id, spec] : a.secondary) {
      ArtifactRecord r{.identifier = id};
      ok = UploadOne(spec, out / id, &r, &p) && ok;
      rec_.secondary_artifacts.push_back(std::move(r));
    }
    if (ok) {
      Log("Artifacts: " + std::to_string(rec_.artifacts.files.size()) + " files in " +
          rec_.artifacts.location);
    }
  }
  for (const auto& group : req_.buildspec.reports) {
    ReportSummary s = SummariseReport(group, src_dir_);
    Log("Report " + s.group + ": " + std::to_string(s.total) + " tests, " +
        std::to_string(s.passed) + " passed, " + std::to_string(s.failed) + " failed, " +
        std::to_string(s.errors) + " errors, " + std::to_string(s.skipped) + " skipped");
    for (const auto& problem : s.problems) Log("Report " + s.group + ": " + problem);
    rec_.reports.push_back(std::move(s));
  }
  if (ok && succeeding_ && UsesCustomCache()) {
    spec::Cache cache = req_.buildspec.cache;
    if (cache.key) {
      auto v = shell_->Expand(*cache.key);
      if (v.ok()) cache.key = *v;
    }
    LocalCache local(req_.state_dir / "cache", req_.project);
    auto saved = local.Save(cache, src_dir_);
    Log(saved.ok() ? "Saved cache: " + std::to_string(*saved) + " files"
                   : "Cache save failed: " + saved.status().message());
  }
  if (!ok) succeeding_ = false;
  End(rec_.phases.back(), ok ? BuildStatus::kSucceeded : BuildStatus::kFailed);
}

void BuildRun::Finalize() {
  PhaseRecord& p = Begin(PhaseType::kFinalizing);
  if (shell_) {
    shell_->Close(req_.kill_grace_ms);
    shell_.reset();
  }
  if (!req_.in_place) {
    std::error_code ec;
    fs::remove_all(workspace_, ec);
  }
  End(p, BuildStatus::kSucceeded);
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

}  // namespace

BuildRecord RunBuild(const BuildRequest& request) { return BuildRun(request).Run(); }

}  // namespace kiln::codebuild
