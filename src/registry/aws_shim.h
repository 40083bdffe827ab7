// The `aws` command inside build containers: a POSIX sh script (busybox sh, dash, bash) that
// answers what a build needs to push to the registry as it would to ECR
// (`aws ecr get-login-password | docker login --username AWS --password-stdin $REGISTRY`),
// and says plainly that the rest of the AWS CLI is not there.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "base/status.h"
#include "registry/access.h"

namespace kiln::registry {

// Where the shim's folder is mounted (read-only) in the container, and the folder of `aws`,
// which goes first in the container's PATH.
inline constexpr char kShimMount[] = "/kiln";
inline constexpr char kShimBin[] = "/kiln/bin";

// The script. It finds the password at ../registry/password from its own path, so the same
// text works mounted at /kiln/bin/aws and run from a host folder in tests.
std::string AwsShimScript();

// Creates dir (0700) holding bin/aws (0700) and, with access, registry/password (0600, no
// newline). Without access, `aws ecr get-login-password` says no registry is configured.
base::Status WriteShimDir(const std::filesystem::path& dir, const std::optional<Access>& access);

}  // namespace kiln::registry
