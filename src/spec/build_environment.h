// A CodeBuild project's build environment (CreateProject's `environment`, AWS-CONTAINERS.md
// section 1), as kiln.yml writes it under projects.NAME.environment. No image means Kiln's
// host executor: the build runs as processes on this machine (the build log and record say so).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::spec {

// BUILD_GENERAL1_*: CodeBuild's Linux container sizes, which Kiln applies as the build
// container's CPU and memory limits (README "Build environments").
enum class ComputeType { kSmall, kMedium, kLarge, kXLarge, k2XLarge };

struct ComputeLimits {
  double cpus;
  uint64_t memory_bytes;
};

std::string_view ComputeTypeName(ComputeType type);
std::optional<ComputeType> ParseComputeType(std::string_view name);
// SMALL 2 vCPU / 3 GiB, MEDIUM 4 / 7 GiB, LARGE 8 / 15 GiB, XLARGE 36 / 70 GiB,
// 2XLARGE 72 / 145 GiB (CodeBuild's LINUX_CONTAINER table); the engine caps CPUs at the host's.
ComputeLimits LimitsOf(ComputeType type);

// An image reference as Docker takes it: 1 to 512 bytes of printable ASCII without spaces,
// quotes or backslashes, and no scheme ("https://..."). kiln.yml's image and StartBuild's
// imageOverride are checked with it, so neither can put a control byte into an engine call.
bool IsImageReference(std::string_view ref);

// Where the build container's network comes from (a Kiln extension): kAuto is the engine's
// default bridge when it has one, else the host's network.
enum class BuildNetwork { kAuto, kHost, kBridge, kNone };
std::string_view BuildNetworkName(BuildNetwork network);

enum class ImagePullCredentials { kCodeBuild, kServiceRole };

enum class VariableType { kPlaintext, kParameterStore, kSecretsManager };
std::string_view VariableTypeName(VariableType type);

// One entry of environmentVariables: [{name, value, type}]; for the typed ones, value names a
// parameter or secret (resolved, and masked, when the build starts).
struct TypedVariable {
  std::string name;
  std::string value;
  VariableType type = VariableType::kPlaintext;
};

// The project's cache (CreateProject's `cache`, AWS-SEMANTICS.md 1.2): Kiln has no S3, so the
// types are NO_CACHE and LOCAL. A project without `cache` gets LOCAL with LOCAL_CUSTOM_CACHE,
// so a buildspec's `cache.paths` work without project settings (a Kiln default).
enum class CacheType { kNoCache, kLocal };
enum class CacheMode : unsigned { kSource = 1, kDockerLayer = 2, kCustom = 4 };

struct ProjectCache {
  CacheType type = CacheType::kLocal;
  unsigned modes = static_cast<unsigned>(CacheMode::kCustom);
  bool has(CacheMode mode) const {
    return type == CacheType::kLocal && (modes & static_cast<unsigned>(mode)) != 0;
  }
};

std::string_view CacheModeName(CacheMode mode);  // LOCAL_SOURCE_CACHE, ...
std::optional<CacheMode> ParseCacheMode(std::string_view name);

struct BuildEnvironment {
  std::string image;  // empty: the host executor
  ComputeType compute_type = ComputeType::kSmall;
  bool privileged = false;  // the build's docker reaches the engine (root-equivalent)
  ImagePullCredentials pull_credentials = ImagePullCredentials::kCodeBuild;
  std::string registry_credential;  // a secret id (registryCredential.credential)
  std::vector<TypedVariable> variables;
  BuildNetwork network = BuildNetwork::kAuto;
  std::string cluster;  // a swarm cluster: the build runs as a Swarm job there (exec/swarm_job.h)
  bool on_host() const { return image.empty(); }
};

}  // namespace kiln::spec
