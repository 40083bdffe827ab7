// What a ShellSession's driver needs when it runs inside a container for the whole session,
// whoever makes the container: a plain container (container_shell.h) or the task of a Swarm
// job (swarm_job.h). The driver's three channels are FIFOs in the scratch dir, which the
// container mounts at the same absolute path, so the same kernel pipes join both sides of the
// container boundary and a command costs what it costs on the host.
//
// Open order (fifo(7)): opening one end of a FIFO blocks until the other end is open. Kiln
// opens its ends before the container starts, never blocking: ctl O_RDWR (a writer that also
// counts as a reader, so neither Kiln's open nor the driver's `3<ctl` waits), out and ack
// O_RDONLY|O_NONBLOCK (so the driver's `>out` and `4>ack` find a reader). A read end opened
// so reports no hang-up until a writer has come and gone, so a driver that has not opened
// them yet looks idle, not dead. When the container exits, the watcher thread opens and closes
// ack and out for writing, so a driver that died before ever opening them still reads as EOF.
//
// The container runs init (tini: TERM reaches the driver) with the workspace mounted at its
// CodeBuild path. With init, a shell missing from the image does not fail the launch (tini
// starts, its exec fails): the session then sees a lost shell at its first request.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/fd.h"
#include "base/status.h"
#include "exec/docker_client.h"
#include "exec/driver_launcher.h"

namespace kiln::exec {

struct ContainerShellOptions {
  std::string image;
  std::string name;                      // empty: the engine (or the launcher) picks one
  std::filesystem::path workspace_dir;   // host dir holding the source
  std::filesystem::path workspace_path;  // inside: CodeBuild's /codebuild/output/src<digits>/src
  std::vector<std::string> env;          // defaults under the session's env (which wins)
  std::string user = "0:0";              // CodeBuild runs as root
  NetworkMode network_mode = NetworkMode::kNone;
  int64_t nano_cpus = 0;                      // 0: unlimited
  int64_t memory_bytes = 0;                   // 0: unlimited
  std::vector<BindMount> extra_binds;         // e.g. the engine socket for privileged builds
  std::map<std::string, std::string> labels;  // kiln.build=<id>, kiln.state=..., for sweeps
};

// The driver's container as either kind of launcher creates it: its entrypoint (open the
// FIFOs, then exec the driver), cmd, env (options.env, then the session's, then
// CODEBUILD_SRC_DIR=workspace_path), working dir and binds (the workspace at workspace_path,
// the scratch dir at its own path, then options.extra_binds).
struct DriverContainer {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string working_dir;
  std::vector<BindMount> binds;
};
DriverContainer DriverContainerOf(const ContainerShellOptions& options, const DriverLaunch& launch);

// A DriverLauncher whose driver runs in one container: makes the FIFOs, has the subclass make
// and start the container, watches for its exit on a thread of its own, and ends it. Not
// thread-safe (the session's thread), except that the watcher thread touches only what mu_
// guards. Subclasses must call Shutdown() in their destructor (Remove is virtual).
class ContainerDriverLauncher : public DriverLauncher {
 public:
  base::Result<DriverChannels> Launch(const DriverLaunch& launch) final;
  // The driver told to quit gets a moment to exit; then SIGTERM to the container (tini passes
  // it on), and after grace_ms the subclass's Remove, which also kills what is left.
  void End(int64_t grace_ms, DriverState state) final;

  // Empty until the container exists.
  const std::string& container_id() const { return container_id_; }
  // The container's exit status once it exited (143: ended by SIGTERM through tini, 137:
  // killed), nullopt before, or when the engine could not tell.
  std::optional<int> exit_code() const;

 protected:
  explicit ContainerDriverLauncher(const DockerClient& engine) : engine_(engine) {}
  // Makes and starts the driver's container (setting *container_id as soon as it exists, so
  // Remove finds it even when starting fails) and returns a wait on its exit, sent so that an
  // exit before the call returns is not missed. Its error fails Launch.
  virtual base::Result<PendingWait> StartContainer(const DriverLaunch& launch,
                                                   std::string* container_id) = 0;
  // Removes whatever StartContainer made, running or not. Called once, from End.
  virtual void Remove() = 0;
  // End(0) and the watcher's end: for the subclass's destructor.
  void Shutdown();

  const DockerClient& engine_;

 private:
  void WatchExit();
  bool WaitExit(int64_t timeout_ms);
  void StopWatcher();

  std::filesystem::path scratch_dir_;
  base::UniqueFd lifeline_;  // held open for writing while Kiln lives (driver_container.cc)
  std::string container_id_;
  bool launched_ = false;
  bool ended_ = false;
  bool started_ = false;
  std::optional<PendingWait> wait_;  // watcher_ blocks in Get; Abort from here is safe
  std::thread watcher_;
  mutable std::mutex mu_;
  std::condition_variable exited_cv_;
  bool exited_ = false;           // guarded by mu_
  std::optional<int> exit_code_;  // guarded by mu_
};

}  // namespace kiln::exec
