// A ShellSession whose driver runs inside one container for the whole session (the shape of
// a CodeBuild build container): no `docker exec` per command and no attach stream. The
// driver talks to Kiln through FIFOs in the bind-mounted scratch dir (driver_container.h).
//
// The container is created with init and force-removed by End, Close and destruction whatever
// happened.
#pragma once

#include <string>

#include "base/status.h"
#include "exec/docker_client.h"
#include "exec/driver_container.h"

namespace kiln::exec {

// Launches the driver in a new container. The session's cwd must be a path inside the
// container (normally workspace_path); CODEBUILD_SRC_DIR is set to workspace_path. The
// client must outlive the launcher.
class ContainerLauncher : public ContainerDriverLauncher {
 public:
  ContainerLauncher(const DockerClient& client, ContainerShellOptions options)
      : ContainerDriverLauncher(client), options_(std::move(options)) {}
  ~ContainerLauncher() override { Shutdown(); }

 private:
  base::Result<PendingWait> StartContainer(const DriverLaunch& launch,
                                           std::string* container_id) override;
  void Remove() override;

  ContainerShellOptions options_;
  std::string id_;
};

// Force-removes every container (running or not) carrying label key (=value when value is
// non-empty): recovery after Kiln was killed without cleaning up. Returns how many it removed.
// Service task containers (the kiln.task or kiln.service label) are left alone: the deploy
// layer adopts them.
base::Result<size_t> RemoveOrphanContainers(const DockerClient& client, const std::string& key,
                                            const std::string& value = "");

}  // namespace kiln::exec
