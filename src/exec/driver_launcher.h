// How a ShellSession's driver is started and ended: the seam between the session's protocol
// (shell_session.h) and where the driver runs (a host process tree, or a container:
// container_shell.h). A launcher hands the session the host ends of the driver's three
// channels; the session never learns how they were made.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/status.h"

namespace kiln::exec {

// What to run: `shell script`, in cwd, with exactly env. Paths are as the driver sees them
// (a container launcher mounts scratch_dir at the same path, so they match the host's there).
struct DriverLaunch {
  std::string shell;                  // "sh", "bash" or a path
  std::filesystem::path script;       // the driver, inside scratch_dir
  std::filesystem::path scratch_dir;  // private (0700); a launcher may add files here
  std::filesystem::path cwd;
  std::vector<std::string> env;  // "NAME=VALUE"
};

// The session's ends of the driver's channels (driver fd 3 reads ctl, fd 4 writes ack, its
// stdout and stderr both go to out). out and ack are non-blocking and report EOF once the
// driver and everything it started are gone; all are CLOEXEC.
struct DriverChannels {
  base::UniqueFd out;
  base::UniqueFd ctl;
  base::UniqueFd ack;
};

// Whether the driver was waiting for a request when it was told to quit (it then exits at
// once) or was still running a command that was abandoned (timeout, stop).
enum class DriverState { kIdle, kBusy };

// Not thread-safe: the session's thread calls it. Launch at most once.
class DriverLauncher {
 public:
  virtual ~DriverLauncher() = default;  // implementations End(0) what is left
  virtual base::Result<DriverChannels> Launch(const DriverLaunch& launch) = 0;
  // Ends the driver and everything it started: a driver that was told to quit gets a moment to
  // exit; then SIGTERM, and SIGKILL (or force removal) after grace_ms. Idempotent.
  virtual void End(int64_t grace_ms, DriverState state) = 0;
  // The driver's host pid (also its process group), or -1 when it has none of ours.
  virtual pid_t pid() const { return -1; }
};

// Today's launcher: the driver as a child of Kiln (posix_spawn) in its own process group,
// marked with tree_token (KILN_TREE_TOKEN) so End finds descendants that left the group.
class HostLauncher : public DriverLauncher {
 public:
  explicit HostLauncher(std::string tree_token) : tree_token_(std::move(tree_token)) {}
  ~HostLauncher() override { End(0, DriverState::kBusy); }
  base::Result<DriverChannels> Launch(const DriverLaunch& launch) override;
  void End(int64_t grace_ms, DriverState state) override;
  pid_t pid() const override { return pid_; }

 private:
  std::string tree_token_;
  pid_t pid_ = -1;  // kept after End, for callers checking that the group is gone
  bool ended_ = false;
};

}  // namespace kiln::exec
