// The buildspec's phases in one shell session: commands in batches, CodeBuild's on-failure
// transitions and retries, exported variables.
#include "codebuild/build_run.h"

namespace kiln::codebuild {

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
    // A swarm build's first session started in PROVISIONING.
    if (auto st = shell_ ? base::Status::Ok() : StartShell(); !st.ok()) {
      Log("Could not start the shell: " + st.message());
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

}  // namespace kiln::codebuild
