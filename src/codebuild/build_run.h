// One build's run (RunBuild, engine.h): CodeBuild's phases in order, each recorded with its
// status and context, the commands in one shell session (on the host or in a container).
// Internal to the codebuild folder; not thread-safe: one thread runs a build.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.h"
#include "codebuild/command_log.h"
#include "codebuild/container_executor.h"
#include "codebuild/engine.h"
#include "codebuild/log_sink.h"
#include "exec/shell_session.h"

namespace kiln::codebuild {
namespace fs = std::filesystem;
using spec::PhaseName;

PhaseType ToPhaseType(PhaseName p);

// How a buildspec phase ended.
struct PhaseOutcome {
  BuildStatus status = BuildStatus::kSucceeded;
  std::string message;  // for a failed command
};

// What happens after a phase fails (CodeBuild's transitions, AWS-SEMANTICS.md §1.3).
enum class Next { kNextPhase, kSkipToUpload, kSkipToFinalizing, kRetry };

// A Linux user name (useradd's rule, with a trailing $ for machine accounts) or a numeric
// id: nothing su could take for an option.
bool IsUserName(std::string_view name);

// The first line of text, with " ..." when there was more.
std::string OneLine(std::string_view text);

class BuildRun {
 public:
  explicit BuildRun(const BuildRequest& req) : req_(req) {}
  BuildRecord Run();

 private:
  bool Prepare();
  bool Provision();
  bool ProvisionContainer(PhaseRecord& p);
  bool StartJob(PhaseRecord& p);
  void ResolveSourceVersion(const fs::path& dir);
  bool DownloadSource();
  base::Status StartShell();
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

}  // namespace kiln::codebuild
