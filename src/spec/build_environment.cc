#include "spec/build_environment.h"

#include <algorithm>

namespace kiln::spec {
namespace {

constexpr uint64_t kGiB = 1024ull * 1024 * 1024;

struct ComputeRow {
  ComputeType type;
  std::string_view name;
  ComputeLimits limits;
};

// CodeBuild's LINUX_CONTAINER sizes (AWS-CONTAINERS.md 1.2).
constexpr ComputeRow kCompute[] = {
    {ComputeType::kSmall, "BUILD_GENERAL1_SMALL", {2, 3 * kGiB}},
    {ComputeType::kMedium, "BUILD_GENERAL1_MEDIUM", {4, 7 * kGiB}},
    {ComputeType::kLarge, "BUILD_GENERAL1_LARGE", {8, 15 * kGiB}},
    {ComputeType::kXLarge, "BUILD_GENERAL1_XLARGE", {36, 70 * kGiB}},
    {ComputeType::k2XLarge, "BUILD_GENERAL1_2XLARGE", {72, 145 * kGiB}},
};

}  // namespace

std::string_view ComputeTypeName(ComputeType type) {
  for (const auto& row : kCompute) {
    if (row.type == type) return row.name;
  }
  return "BUILD_GENERAL1_SMALL";
}

std::optional<ComputeType> ParseComputeType(std::string_view name) {
  for (const auto& row : kCompute) {
    if (row.name == name) return row.type;
  }
  return std::nullopt;
}

ComputeLimits LimitsOf(ComputeType type) {
  for (const auto& row : kCompute) {
    if (row.type == type) return row.limits;
  }
  return kCompute[0].limits;
}

std::string_view BuildNetworkName(BuildNetwork network) {
  switch (network) {
    case BuildNetwork::kHost:
      return "host";
    case BuildNetwork::kBridge:
      return "bridge";
    case BuildNetwork::kNone:
      return "none";
    case BuildNetwork::kAuto:
      break;
  }
  return "auto";
}

std::string_view VariableTypeName(VariableType type) {
  switch (type) {
    case VariableType::kParameterStore:
      return "PARAMETER_STORE";
    case VariableType::kSecretsManager:
      return "SECRETS_MANAGER";
    case VariableType::kPlaintext:
      break;
  }
  return "PLAINTEXT";
}

std::string_view CacheModeName(CacheMode mode) {
  switch (mode) {
    case CacheMode::kSource:
      return "LOCAL_SOURCE_CACHE";
    case CacheMode::kDockerLayer:
      return "LOCAL_DOCKER_LAYER_CACHE";
    case CacheMode::kCustom:
      break;
  }
  return "LOCAL_CUSTOM_CACHE";
}

std::optional<CacheMode> ParseCacheMode(std::string_view name) {
  for (CacheMode mode : {CacheMode::kSource, CacheMode::kDockerLayer, CacheMode::kCustom}) {
    if (CacheModeName(mode) == name) return mode;
  }
  return std::nullopt;
}

bool IsImageReference(std::string_view ref) {
  if (ref.empty() || ref.size() > 512 || ref.find("://") != std::string_view::npos) return false;
  return std::none_of(ref.begin(), ref.end(), [](char c) {
    return c <= ' ' || c == '"' || c == '\'' || c == '\\' || static_cast<unsigned char>(c) > 126;
  });
}

}  // namespace kiln::spec
