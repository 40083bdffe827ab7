#include "exec/container_shell.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "exec/shell_session.h"
#include "exec/task_containers.h"

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
// nothing is left running (the stopped container goes at the daemon's next start).
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

ContainerLauncher::~ContainerLauncher() {
  End(0, DriverState::kBusy);
  StopWaiter();
}

ContainerSpec ContainerLauncher::Spec(const DriverLaunch& launch) const {
  ContainerSpec spec{
      .name = options_.name,
      .image = options_.image,
      .cmd = {"kiln-driver"},  // $0 of the entrypoint's -c script, so the image's Cmd is unused
      .entrypoint = DriverEntrypoint(launch),
      .env = ContainerEnv(options_.env, launch.env, options_.workspace_path),
      .working_dir = launch.cwd.string(),
      .user = options_.user,
      .labels = options_.labels,
      .network_mode = options_.network_mode,
      .nano_cpus = options_.nano_cpus,
      .memory_bytes = options_.memory_bytes,
      .init = true,  // tini as PID 1: SIGTERM reaches the driver (DOCKER-ENGINE.md fact 8)
  };
  spec.binds = {
      {.source = options_.workspace_dir.string(), .target = options_.workspace_path.string()},
      {.source = launch.scratch_dir.string(), .target = launch.scratch_dir.string()}};
  spec.binds.insert(spec.binds.end(), options_.extra_binds.begin(), options_.extra_binds.end());
  return spec;
}

base::Result<DriverChannels> ContainerLauncher::Launch(const DriverLaunch& launch) {
  if (!id_.empty() || ended_) return base::Internal("container launcher used twice");
  scratch_dir_ = launch.scratch_dir;
  auto channels = MakeChannels(launch.scratch_dir);
  if (!channels.ok()) return channels.status();
  // Read-write, so opening never blocks and Kiln counts as the FIFO's writer until it exits.
  auto life = MakeFifo(launch.scratch_dir / kLife, O_RDWR);
  if (!life.ok()) return life.status();
  lifeline_ = std::move(*life);
  if (auto st = CreateAndStart(launch); !st.ok()) return st;
  return channels;
}

// Wait before Start (DOCKER-ENGINE.md fact 1), on a thread, so End can wait with a timeout.
base::Status ContainerLauncher::CreateAndStart(const DriverLaunch& launch) {
  auto id = client_.CreateContainer(Spec(launch));
  if (!id.ok()) return id.status();
  id_ = *id;
  auto wait = client_.Wait(id_, WaitCondition::kNextExit);
  if (!wait.ok()) return wait.status();
  wait_.emplace(std::move(*wait));
  waiter_ = std::thread([this] { WatchExit(); });
  if (auto st = client_.Start(id_); !st.ok()) return st;
  started_ = true;
  return base::Status::Ok();
}

void ContainerLauncher::WatchExit() {
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

std::optional<int> ContainerLauncher::exit_code() const {
  std::lock_guard lock(mu_);
  return exit_code_;
}

bool ContainerLauncher::WaitExit(int64_t timeout_ms) {
  std::unique_lock lock(mu_);
  return exited_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return exited_; });
}

// An idle driver told to quit has nothing left to do, and its exit would take tini's SIGKILL
// to whatever it left in the background anyway: force removal at once does the same without
// waiting for the engine to report the exit (~76 ms, DOCKER-ENGINE.md §5).
void ContainerLauncher::End(int64_t grace_ms, DriverState state) {
  if (ended_ || id_.empty()) return;
  ended_ = true;
  if (state == DriverState::kIdle) grace_ms = 0;
  if (started_ && !WaitExit(grace_ms > 0 ? kQuitMs : 0) && grace_ms > 0 &&
      client_.Kill(id_, "SIGTERM").ok()) {
    (void)WaitExit(grace_ms);
  }
  (void)client_.Remove(id_, /*force=*/true);  // whatever happened: nothing is left running
  StopWaiter();
}

void ContainerLauncher::StopWaiter() {
  if (!waiter_.joinable()) return;
  // A container that never started has no exit to report; 20.10 answers the wait on removal
  // anyway, but nothing promises it, so do not count on it.
  if (!started_ || !WaitExit(kWaitAfterRemoveMs)) wait_->Abort();
  waiter_.join();
}

base::Result<size_t> RemoveOrphanContainers(const DockerClient& client, const std::string& key,
                                            const std::string& value) {
  auto list = client.ListContainers({{key, value}}, /*all=*/true);
  if (!list.ok()) return list.status();
  size_t removed = 0;
  for (const ContainerSummary& c : *list) {
    if (c.labels.contains(kTaskLabel)) continue;  // a service task: adopted, never swept
    auto st = client.Remove(c.id, /*force=*/true);
    if (st.ok()) ++removed;
    if (!st.ok() && st.kind() != base::ErrorKind::kNotFound) return st;
  }
  return removed;
}

}  // namespace kiln::exec
