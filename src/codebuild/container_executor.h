// Kiln's container executor: a build whose environment names an image runs its shell session
// inside one container of that image (exec/container_shell.h), the way CodeBuild runs a build
// container. The source stays on the host and is bind-mounted at CodeBuild's path, so
// artifacts, cache and reports read the same files from the host directory.
//
// On a swarm cluster (environment.cluster) the container is the one task of a Swarm job
// (exec/swarm_job.h) created through the cluster's manager, pinned to the manager's own node:
// the workspace and the session's FIFOs are on this machine. Builds on other nodes need the
// workspace transferred: not done.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "exec/docker_client.h"
#include "exec/driver_container.h"
#include "exec/driver_launcher.h"
#include "exec/swarm_client.h"
#include "registry/access.h"
#include "spec/build_environment.h"

namespace kiln::codebuild {

// CodeBuild's source path inside the build container, /codebuild/output/src<N>/src, with N
// made of the build id's digits (at most 10; "0" when it has none).
std::filesystem::path ContainerSourcePath(std::string_view build_id);

// The credentials a pull of environment.image sends: with imagePullCredentialsType
// SERVICE_ROLE, the secret registryCredential names (CodeBuild: a Secrets Manager secret
// {"username": ..., "password": ...}), looked up in secrets; else kiln.yml's registry login
// when the image lives there; else none. kInvalidInput names what is missing or malformed.
base::Result<std::optional<exec::RegistryAuth>> PullAuthFor(
    const spec::BuildEnvironment& environment, const std::optional<registry::Access>& registry,
    const std::map<std::string, std::string>& secrets);

// Not thread-safe: one build's thread uses it. Must outlive every launcher it makes.
class ContainerExecutor {
 public:
  using LineSink = std::function<void(const std::string&)>;
  ~ContainerExecutor();
  ContainerExecutor(const ContainerExecutor&) = delete;
  ContainerExecutor& operator=(const ContainerExecutor&) = delete;

  // Connects to the engine named by DOCKER_HOST (or the default socket) and makes sure
  // environment.image is there, pulling it if not (progress lines go to log). The error's
  // message is for the PROVISIONING phase context: it names DOCKER_HOST when no engine
  // answers, and quotes the engine when the pull fails. state_dir names this Kiln's state
  // (its containers' kiln.state label, codebuild/build_containers.h).
  // pull_auth goes with a pull (PullAuthFor). network kAuto becomes the engine's "bridge"
  // network when it has one, else the host's.
  // With environment.cluster set, the engine is swarm_engine (a unix:// URL, ApplyCluster),
  // which must be an active swarm manager, and the image is pulled there and run by id.
  static base::Result<std::unique_ptr<ContainerExecutor>> Prepare(
      const spec::BuildEnvironment& environment, const std::string& swarm_engine,
      const std::filesystem::path& state_dir, const std::optional<exec::RegistryAuth>& pull_auth,
      const LineSink& log);

  // Writes the build's `aws` command (registry/aws_shim.h) to dir, which every container of
  // this executor then mounts read-only at /kiln, with /kiln/bin first in PATH (before the
  // image's PATH) and KILN_REGISTRY set to the registry's address when there is one. The
  // folder, which may hold the registry password, is removed with the executor.
  base::Status InstallAwsShim(const std::filesystem::path& dir,
                              const std::optional<registry::Access>& access);

  // A launcher for one session of build build_id: host_src is mounted at container_src (the
  // session's cwd), the container carries labels kiln.build=<build_id> and
  // kiln.state=<StateLabel(state_dir)>, and is removed when the session ends.
  exec::NetworkMode network() const { return network_; }
  // A swarm cluster's: the job's task runs on this node.
  bool swarm() const { return swarm_.has_value(); }
  const std::string& node_id() const { return node_id_; }

  // On a swarm cluster the launcher makes the job service kiln-build-<the id's uuid>, with
  // the same labels.
  std::unique_ptr<exec::DriverLauncher> Launcher(const std::string& build_id,
                                                 const std::filesystem::path& host_src,
                                                 const std::filesystem::path& container_src) const;

 private:
  exec::ContainerShellOptions ShellOptions(const std::string& build_id,
                                           const std::filesystem::path& host_src,
                                           const std::filesystem::path& container_src) const;

  ContainerExecutor(exec::DockerClient client, spec::BuildEnvironment environment,
                    std::string state_label, std::string image_path)
      : client_(std::move(client)),
        environment_(std::move(environment)),
        state_label_(std::move(state_label)),
        image_path_(std::move(image_path)) {}

  exec::DockerClient client_;
  spec::BuildEnvironment environment_;
  std::string state_label_;
  std::string image_path_;  // PATH of the image's config (or Docker's default)
  exec::NetworkMode network_ = exec::NetworkMode::kHost;  // environment_.network, resolved
  std::string image_ref_;                                 // what containers run (swarm: by id)
  std::optional<exec::SwarmClient> swarm_;                // on a swarm cluster
  std::string node_id_;                                   // the swarm manager's own node
  std::filesystem::path shim_dir_;
  std::string registry_address_;
};

}  // namespace kiln::codebuild
