// A ShellSession whose driver runs inside one container for the whole session (the shape of
// a CodeBuild build container): no `docker exec` per command and no attach stream. The
// driver's three channels are FIFOs in the scratch dir, which is bind-mounted at the same
// absolute path, so the same kernel pipes join both sides of the container boundary and a
// command costs what it costs on the host.
//
// Open order (fifo(7)): opening one end of a FIFO blocks until the other end is open. Kiln
// opens its ends before the container starts, never blocking: ctl O_RDWR (a writer that also
// counts as a reader, so neither Kiln's open nor the driver's `3<ctl` waits), out and ack
// O_RDONLY|O_NONBLOCK (so the driver's `>out` and `4>ack` find a reader). A read end opened
// so reports no hang-up until a writer has come and gone, so a driver that has not opened
// them yet looks idle, not dead. When the container exits, the waiter thread opens and closes
// ack and out for writing, so a driver that died before ever opening them still reads as EOF.
//
// The container is created with init (tini: TERM reaches the driver), the workspace mounted
// at its CodeBuild path, and is force-removed by End, Close and destruction whatever happened.
// With init, a shell missing from the image does not fail Start (tini starts, its exec
// fails): the session then sees a lost shell at its first request.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "exec/docker_client.h"
#include "exec/driver_launcher.h"

namespace kiln::exec {

struct ContainerShellOptions {
  std::string image;
  std::string name;                      // empty: the engine picks one
  std::filesystem::path workspace_dir;   // host dir holding the source
  std::filesystem::path workspace_path;  // inside: CodeBuild's /codebuild/output/src<digits>/src
  std::vector<std::string> env;          // defaults under the session's env (which wins)
  std::string user = "0:0";              // CodeBuild runs as root
  NetworkMode network_mode = NetworkMode::kNone;
  int64_t nano_cpus = 0;                      // 0: unlimited
  int64_t memory_bytes = 0;                   // 0: unlimited
  std::vector<BindMount> extra_binds;         // e.g. the engine socket for privileged builds
  std::map<std::string, std::string> labels;  // kiln.build=<id>, for RemoveOrphanContainers
};

// Launches the driver in a new container. The session's cwd must be a path inside the
// container (normally workspace_path); CODEBUILD_SRC_DIR is set to workspace_path. The
// client must outlive the launcher.
class ContainerLauncher : public DriverLauncher {
 public:
  ContainerLauncher(const DockerClient& client, ContainerShellOptions options)
      : client_(client), options_(std::move(options)) {}
  ~ContainerLauncher() override;
  base::Result<DriverChannels> Launch(const DriverLaunch& launch) override;
  // The driver told to quit gets a moment to exit; then SIGTERM to the container (tini passes
  // it on), and after grace_ms a forced removal, which also kills what is left.
  void End(int64_t grace_ms, DriverState state) override;

  const std::string& container_id() const { return id_; }
  // The container's exit status once it exited (143: ended by SIGTERM through tini, 137:
  // killed), nullopt before, or when the engine could not tell.
  std::optional<int> exit_code() const;

 private:
  ContainerSpec Spec(const DriverLaunch& launch) const;
  base::Status CreateAndStart(const DriverLaunch& launch);
  void WatchExit();
  bool WaitExit(int64_t timeout_ms);
  void StopWaiter();

  const DockerClient& client_;
  ContainerShellOptions options_;
  std::filesystem::path scratch_dir_;
  base::UniqueFd lifeline_;  // held open for writing while Kiln lives (see DriverEntrypoint)
  std::string id_;
  bool ended_ = false;
  bool started_ = false;
  std::optional<PendingWait> wait_;  // waiter_ blocks in Get; Abort from here is safe
  std::thread waiter_;
  mutable std::mutex mu_;
  std::condition_variable exited_cv_;
  bool exited_ = false;           // guarded by mu_
  std::optional<int> exit_code_;  // guarded by mu_
};

// Force-removes every container (running or not) carrying label key (=value when value is
// non-empty): recovery after Kiln was killed without cleaning up. Returns how many it removed.
// Service task containers (the kiln.task label) are left alone: the deploy layer adopts them.
base::Result<size_t> RemoveOrphanContainers(const DockerClient& client, const std::string& key,
                                            const std::string& value = "");

}  // namespace kiln::exec
