#include "codebuild/build_containers.h"

#include <openssl/evp.h>

#include <string_view>

#include "base/hex.h"
#include "exec/container_shell.h"
#include "exec/docker_client.h"
#include "exec/swarm_job.h"

namespace kiln::codebuild {
namespace fs = std::filesystem;

std::string StateLabel(const fs::path& state_dir) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(fs::absolute(state_dir, ec), ec);
  if (ec) canonical = fs::absolute(state_dir, ec).lexically_normal();
  std::string text = canonical.string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), md, &n, EVP_sha256(), nullptr);
  return base::HexEncode(std::string_view(reinterpret_cast<const char*>(md), n)).substr(0, 16);
}

base::Result<OrphanSweep> RemoveOrphanBuildContainers(const fs::path& state_dir) {
  OrphanSweep sweep;
  auto client = exec::DockerClient::ConnectFromEnvironment();
  if (!client.ok()) {
    sweep.note = client.status().message();
    return sweep;
  }
  sweep.engine = true;
  auto removed = exec::RemoveOrphanContainers(*client, kStateLabel, StateLabel(state_dir));
  if (!removed.ok()) return removed.status();
  sweep.removed = *removed;
  return sweep;
}

base::Result<OrphanSweep> RemoveOrphanBuildJobs(const fs::path& state_dir,
                                                const std::string& swarm_engine) {
  OrphanSweep sweep;
  auto endpoint = exec::ParseDockerHost(swarm_engine);
  if (!endpoint.ok()) return endpoint.status();
  auto client = exec::DockerClient::Connect(*endpoint);
  if (!client.ok()) {
    sweep.note = client.status().message();
    return sweep;
  }
  sweep.engine = true;
  std::string label = StateLabel(state_dir);
  exec::SwarmClient swarm(std::move(*client));
  auto services = exec::RemoveOrphanJobServices(swarm, kStateLabel, label);
  if (!services.ok()) return services.status();
  sweep.services = services->services;
  sweep.removed = services->containers;
  return sweep;
}

}  // namespace kiln::codebuild
