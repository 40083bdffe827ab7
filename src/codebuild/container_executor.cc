#include "codebuild/container_executor.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <thread>

#include "codebuild/build_containers.h"
#include "exec/container_shell.h"
#include "exec/swarm_job.h"
#include "registry/aws_shim.h"

namespace kiln::codebuild {
namespace fs = std::filesystem;
namespace {

constexpr char kInnerSocket[] = "/var/run/docker.sock";
// What Docker gives a container whose image sets no PATH.
constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// kAuto: the engine's default bridge where it has one; an engine started with --bridge=none
// (or one that cannot say) gives the host's network.
exec::NetworkMode NetworkOf(spec::BuildNetwork network, const exec::DockerClient& client) {
  switch (network) {
    case spec::BuildNetwork::kNone:
      return exec::NetworkMode::kNone;
    case spec::BuildNetwork::kBridge:
      return exec::NetworkMode::kBridge;
    case spec::BuildNetwork::kHost:
      return exec::NetworkMode::kHost;
    case spec::BuildNetwork::kAuto:
      break;
  }
  auto bridge = client.HasNetwork("bridge");
  return bridge.ok() && *bridge ? exec::NetworkMode::kBridge : exec::NetworkMode::kHost;
}

// The registry part of an image reference: its first component when that has a '.' or a ':'
// or is localhost (Docker's rule); "" for Docker Hub's short names.
std::string RegistryOf(const std::string& image) {
  size_t slash = image.find('/');
  if (slash == std::string::npos) return "";
  std::string first = image.substr(0, slash);
  bool host = first == "localhost" || first.find_first_of(".:") != std::string::npos;
  return host ? first : "";
}

base::Result<exec::RegistryAuth> AuthFromSecret(const std::string& id,
                                                const std::map<std::string, std::string>& secrets) {
  auto it = secrets.find(id);
  if (it == secrets.end()) {
    return base::InvalidInput("registryCredential names secret '" + id +
                              "', which kiln.yml's secrets do not have");
  }
  auto doc = nlohmann::json::parse(it->second, nullptr, false);
  bool ok = doc.is_object() && doc.contains("username") && doc["username"].is_string() &&
            doc.contains("password") && doc["password"].is_string();
  if (!ok) {
    return base::InvalidInput("secret '" + id +
                              "' (registryCredential) must be JSON {\"username\", \"password\"}");
  }
  return exec::RegistryAuth{.username = doc["username"], .password = doc["password"]};
}

// CodeBuild's compute type as limits; CPUs no more than this host has.
void ApplyLimits(spec::ComputeType type, exec::ContainerShellOptions* o) {
  spec::ComputeLimits limits = spec::LimitsOf(type);
  double host_cpus = std::max(1u, std::thread::hardware_concurrency());
  o->nano_cpus = static_cast<int64_t>(std::min(limits.cpus, host_cpus) * 1e9);
  o->memory_bytes = static_cast<int64_t>(limits.memory_bytes);
}

std::string NoEngineMessage(const std::string& image, const std::string& why) {
  return "environment.image '" + image +
         "' needs a Docker engine, and none answers at DOCKER_HOST (" + why +
         "); start Docker (or set DOCKER_HOST to its unix socket), or remove environment.image "
         "to run the build on the host";
}

base::Status Failed(std::string message) {
  return base::Status(base::ErrorKind::kFailed, std::move(message));
}

// The engine the build's container runs on: DOCKER_HOST's, or the swarm cluster's manager.
base::Result<exec::DockerClient> ConnectEngine(const spec::BuildEnvironment& environment,
                                               const std::string& swarm_engine) {
  if (environment.cluster.empty()) {
    auto client = exec::DockerClient::ConnectFromEnvironment();
    if (!client.ok()) return Failed(NoEngineMessage(environment.image, client.status().message()));
    return client;
  }
  std::string what = "environment.cluster '" + environment.cluster + "'";
  if (swarm_engine.empty())
    return Failed(what + ": its engine is not known (no kiln.yml clusters)");
  auto endpoint = exec::ParseDockerHost(swarm_engine);
  if (!endpoint.ok()) return Failed(what + ": " + endpoint.status().message());
  auto client = exec::DockerClient::Connect(*endpoint);
  if (!client.ok()) {
    return Failed(what + " needs its swarm manager, and none answers at " + swarm_engine + " (" +
                  client.status().message() + ")");
  }
  return client;
}

// This engine's node id, when it is an active swarm manager (jobs are created through it).
base::Result<std::string> SwarmNode(const exec::SwarmClient& swarm, const std::string& cluster) {
  auto info = swarm.Info();
  if (!info.ok()) return info.status();
  if (info->state != exec::SwarmNodeState::kActive || !info->control_available) {
    return Failed("environment.cluster '" + cluster + "': the engine at " +
                  swarm.engine().endpoint().socket_path + " is not an active swarm manager (" +
                  exec::SwarmNodeStateText(info->state) + ")");
  }
  return info->node_id;
}

// Swarm service names are [A-Za-z0-9-] (63 at most): the build id's uuid part.
std::string JobName(const std::string& build_id) {
  std::string name = "kiln-build-";
  for (char c : build_id.substr(build_id.rfind(':') + 1)) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') name += c;
  }
  return name.substr(0, 63);
}

// The image's config, pulling the image first if the engine does not have it.
base::Result<exec::ImageInfo> EnsureImage(const exec::DockerClient& client,
                                          const std::string& image,
                                          const std::optional<exec::RegistryAuth>& auth,
                                          const ContainerExecutor::LineSink& log) {
  auto info = client.InspectImage(image);
  if (info.ok() || info.status().kind() != base::ErrorKind::kNotFound) return info;
  log("Pulling image " + image);
  auto st = client.PullImage(image, auth, [&](const exec::ProgressEvent& e) {
    if (e.progress.empty() && !e.status.empty()) {
      log(e.id.empty() ? e.status : e.id + ": " + e.status);
    }
  });
  if (!st.ok()) return st;
  return client.InspectImage(image);
}

std::string PathOf(const exec::ImageInfo& info) {
  for (const std::string& e : info.env) {
    if (e.starts_with("PATH=")) return e.substr(5);
  }
  return kDefaultPath;
}

}  // namespace

fs::path ContainerSourcePath(std::string_view build_id) {
  std::string digits;
  for (char c : build_id) {
    if (c >= '0' && c <= '9' && digits.size() < 10) digits += c;
  }
  return fs::path("/codebuild/output") / ("src" + (digits.empty() ? "0" : digits)) / "src";
}

base::Result<std::optional<exec::RegistryAuth>> PullAuthFor(
    const spec::BuildEnvironment& environment, const std::optional<registry::Access>& registry,
    const std::map<std::string, std::string>& secrets) {
  std::string host = RegistryOf(environment.image);
  if (environment.pull_credentials == spec::ImagePullCredentials::kServiceRole &&
      !environment.registry_credential.empty()) {
    auto auth = AuthFromSecret(environment.registry_credential, secrets);
    if (!auth.ok()) return auth.status();
    auth->server_address = host;
    return std::optional<exec::RegistryAuth>(std::move(*auth));
  }
  if (registry && !host.empty() && host == registry->address) {
    return std::optional<exec::RegistryAuth>(exec::RegistryAuth{
        .username = registry->username, .password = registry->password, .server_address = host});
  }
  return std::optional<exec::RegistryAuth>();
}

base::Result<std::unique_ptr<ContainerExecutor>> ContainerExecutor::Prepare(
    const spec::BuildEnvironment& environment, const std::string& swarm_engine,
    const fs::path& state_dir, const std::optional<exec::RegistryAuth>& pull_auth,
    const LineSink& log) {
  auto client = ConnectEngine(environment, swarm_engine);
  if (!client.ok()) return client.status();
  std::optional<exec::SwarmClient> swarm;
  std::string node;
  if (!environment.cluster.empty()) {
    swarm.emplace(*client);
    auto id = SwarmNode(*swarm, environment.cluster);
    if (!id.ok()) return id.status();
    node = *id;
  }
  auto info = EnsureImage(*client, environment.image, pull_auth, log);
  if (!info.ok()) {
    return base::Status(base::ErrorKind::kFailed,
                        "cannot get image '" + environment.image + "': " + info.status().message());
  }
  exec::NetworkMode network = NetworkOf(environment.network, *client);
  std::unique_ptr<ContainerExecutor> executor(
      new ContainerExecutor(std::move(*client), environment, StateLabel(state_dir), PathOf(*info)));
  executor->network_ = network;
  // A task given a tag tries a registry pull at every start (DOCKER-ENGINE.md §4).
  executor->image_ref_ = swarm ? info->id : environment.image;
  executor->swarm_ = std::move(swarm);
  executor->node_id_ = std::move(node);
  return executor;
}

ContainerExecutor::~ContainerExecutor() {
  std::error_code ec;
  if (!shim_dir_.empty()) fs::remove_all(shim_dir_, ec);
}

base::Status ContainerExecutor::InstallAwsShim(const fs::path& dir,
                                               const std::optional<registry::Access>& access) {
  shim_dir_ = dir;  // removed by the destructor even if writing fails half-way
  registry_address_ = access ? access->address : "";
  return registry::WriteShimDir(dir, access);
}

exec::ContainerShellOptions ContainerExecutor::ShellOptions(const std::string& build_id,
                                                            const fs::path& host_src,
                                                            const fs::path& container_src) const {
  exec::ContainerShellOptions o{.image = image_ref_,
                                .workspace_dir = host_src,
                                .workspace_path = container_src,
                                .network_mode = network_,
                                .labels = {{kBuildLabel, build_id}, {kStateLabel, state_label_}}};
  ApplyLimits(environment_.compute_type, &o);
  if (!shim_dir_.empty()) {
    o.extra_binds.push_back(
        {.source = shim_dir_.string(), .target = registry::kShimMount, .read_only = true});
    o.env.push_back("PATH=" + std::string(registry::kShimBin) + ":" + image_path_);
    if (!registry_address_.empty()) o.env.push_back("KILN_REGISTRY=" + registry_address_);
  }
  if (environment_.privileged) {
    // The build's docker talks to this engine (root-equivalent, as CodeBuild's privileged mode).
    o.extra_binds.push_back({.source = client_.endpoint().socket_path, .target = kInnerSocket});
    o.env.push_back(std::string("DOCKER_HOST=unix://") + kInnerSocket);
  }
  return o;
}

std::unique_ptr<exec::DriverLauncher> ContainerExecutor::Launcher(
    const std::string& build_id, const fs::path& host_src, const fs::path& container_src) const {
  exec::ContainerShellOptions o = ShellOptions(build_id, host_src, container_src);
  if (!swarm_) return std::make_unique<exec::ContainerLauncher>(client_, std::move(o));
  o.name = JobName(build_id);
  return std::make_unique<exec::SwarmJobLauncher>(
      *swarm_, exec::SwarmJobOptions{.container = std::move(o), .node_id = node_id_});
}

}  // namespace kiln::codebuild
