#include "exec/driver_container.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "exec/shell_session.h"

namespace kiln::exec {
namespace fs = std::filesystem;
namespace {

constexpr int kPipeSize = 1 << 20;
// A driver told to quit exits at once, but the engine reports the container's exit some
// tens of ms later (DOCKER-ENGINE.md §5: ~76 ms): wait that long before sending TERM.
constexpr int64_t kQuitMs = 300;
// After a forced removal the engine has answered the pending wait; if it has not (the engine
// went away), stop waiting for it.
constexpr int64_t kWaitAfterRemoveMs = 2000;

constexpr char kCtl[] = "ctl";
constexpr char kAck[] = "ack";
constexpr char kOut[] = "out";
constexpr char kLife[] = "life";

base::Result<base::UniqueFd> MakeFifo(const fs::path& path, int open_flags) {
  ::unlink(path.c_str());
  if (::mkfifo(path.c_str(), 0600) != 0) return base::IoError("mkfifo " + path.string(), errno);
  base::UniqueFd fd(::open(path.c_str(), open_flags | O_CLOEXEC));
  if (!fd.valid()) return base::IoError("open " + path.string(), errno);
  return fd;
}

// See the header for why these flags cannot deadlock either side.
base::Result<DriverChannels> MakeChannels(const fs::path& dir) {
  DriverChannels ch;
  auto ctl = MakeFifo(dir / kCtl, O_RDWR);
  if (!ctl.ok()) return ctl.status();
  auto ack = MakeFifo(dir / kAck, O_RDONLY | O_NONBLOCK);
  if (!ack.ok()) return ack.status();
  auto out = MakeFifo(dir / kOut, O_RDONLY | O_NONBLOCK);
  if (!out.ok()) return out.status();
  ::fcntl(out->get(), F_SETPIPE_SZ, kPipeSize);
  ch.ctl = std::move(*ctl);
  ch.ack = std::move(*ack);
  ch.out = std::move(*out);
  return ch;
}

// The container's command: open the channels as the host launcher's dup2s would have, then
// become the driver (one exec, so the driver is the process tini signals). First a watcher
// blocks reading the lifeline FIFO, whose only writer is Kiln: if Kiln dies (kill -9), the
// read ends and SIGTERM to tini ends the driver mid-command, and with it the container, so
// nothing is left running (what is left goes at the daemon's next start).
std::vector<std::string> DriverEntrypoint(const DriverLaunch& launch) {
  auto at = [&](const char* name) { return ShellQuote((launch.scratch_dir / name).string()); };
  std::string watcher =
      "{ read -r _ <" + at(kLife) + "; kill -TERM 1; } </dev/null >/dev/null 2>&1 & ";
  std::string prologue = watcher + "exec 3<" + at(kCtl) + " 4>" + at(kAck) + " >" + at(kOut) +
                         " 2>&1 && exec " + ShellQuote(launch.shell) + " " +
                         ShellQuote(launch.script.string());
  return {launch.shell, "-c", prologue};
}

// Defaults first, then the session's variables (the last of a name wins), then the source
// dir as the container sees it.
std::vector<std::string> ContainerEnv(const std::vector<std::string>& defaults,
                                      const std::vector<std::string>& session,
                                      const fs::path& workspace_path) {
  std::vector<std::string> env;
  for (const auto* list : {&defaults, &session}) {
    for (const std::string& e : *list) {
      if (!e.starts_with("CODEBUILD_SRC_DIR=")) env.push_back(e);
    }
  }
  env.push_back("CODEBUILD_SRC_DIR=" + workspace_path.string());
  return env;
}

// Opening a FIFO for writing and closing it again makes its reader see EOF once no one else
// holds it: how the session learns that a container's driver is gone (header).
void HangUp(const fs::path& fifo) {
  int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) ::close(fd);
}

}  // namespace

DriverContainer DriverContainerOf(const ContainerShellOptions& options,
                                  const DriverLaunch& launch) {
  DriverContainer c{
      .entrypoint = DriverEntrypoint(launch),
      .cmd = {"kiln-driver"},  // $0 of the entrypoint's -c script, so the image's Cmd is unused
      .env = ContainerEnv(options.env, launch.env, options.workspace_path),
      .working_dir = launch.cwd.string(),
      .binds = {
          {.source = options.workspace_dir.string(), .target = options.workspace_path.string()},
          {.source = launch.scratch_dir.string(), .target = launch.scratch_dir.string()}}};
  c.binds.insert(c.binds.end(), options.extra_binds.begin(), options.extra_binds.end());
  return c;
}

base::Result<DriverChannels> ContainerDriverLauncher::Launch(const DriverLaunch& launch) {
  if (launched_ || ended_) return base::Internal("container launcher used twice");
  launched_ = true;
  scratch_dir_ = launch.scratch_dir;
  auto channels = MakeChannels(launch.scratch_dir);
  if (!channels.ok()) return channels.status();
  // Read-write, so opening never blocks and Kiln counts as the FIFO's writer until it exits.
  auto life = MakeFifo(launch.scratch_dir / kLife, O_RDWR);
  if (!life.ok()) return life.status();
  lifeline_ = std::move(*life);
  auto wait = StartContainer(launch, &container_id_);
  if (!wait.ok()) return wait.status();
  wait_.emplace(std::move(*wait));
  started_ = true;
  watcher_ = std::thread([this] { WatchExit(); });
  return channels;
}

void ContainerDriverLauncher::WatchExit() {
  auto code = wait_->Get();
  {
    std::lock_guard lock(mu_);
    exited_ = true;
    if (code.ok()) exit_code_ = *code;
  }
  exited_cv_.notify_all();
  HangUp(scratch_dir_ / kAck);
  HangUp(scratch_dir_ / kOut);
}

std::optional<int> ContainerDriverLauncher::exit_code() const {
  std::lock_guard lock(mu_);
  return exit_code_;
}

bool ContainerDriverLauncher::WaitExit(int64_t timeout_ms) {
  std::unique_lock lock(mu_);
  return exited_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return exited_; });
}

// An idle driver told to quit has nothing left to do, and its exit would take tini's SIGKILL
// to whatever it left in the background anyway: removal at once does the same without
// waiting for the engine to report the exit (~76 ms, DOCKER-ENGINE.md §5).
void ContainerDriverLauncher::End(int64_t grace_ms, DriverState state) {
  if (ended_ || !launched_) return;
  ended_ = true;
  if (state == DriverState::kIdle) grace_ms = 0;
  if (started_ && !WaitExit(grace_ms > 0 ? kQuitMs : 0) && grace_ms > 0 &&
      engine_.Kill(container_id_, "SIGTERM").ok()) {
    (void)WaitExit(grace_ms);
  }
  Remove();  // whatever happened: nothing is left running
  StopWatcher();
}

void ContainerDriverLauncher::Shutdown() {
  End(0, DriverState::kBusy);
  StopWatcher();
}

void ContainerDriverLauncher::StopWatcher() {
  if (!watcher_.joinable()) return;
  if (!WaitExit(kWaitAfterRemoveMs)) wait_->Abort();
  watcher_.join();
}

}  // namespace kiln::exec
