// Where the Docker engine listens and which Engine API version Kiln speaks to it. Pure: no I/O
// beyond reading DOCKER_HOST.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace kiln::exec {

// The engine's unix socket. Kiln speaks only to a local engine (tcp:// and ssh:// are refused:
// they would need TLS and credentials Kiln does not manage yet).
struct DockerEndpoint {
  std::string socket_path;  // absolute
};

inline constexpr char kDefaultDockerHost[] = "unix:///var/run/docker.sock";

// Parses a DOCKER_HOST value: "unix:///abs/path" (an empty value means the default). Errors:
// kInvalidInput for a relative path, an over-long path (sun_path holds 107 bytes) or garbage;
// kUnsupported for tcp://, ssh:// and npipe://.
base::Result<DockerEndpoint> ParseDockerHost(std::string_view value);

// DOCKER_HOST from the environment, or the default when unset.
base::Result<DockerEndpoint> DockerEndpointFromEnvironment();

// An Engine API version "MAJOR.MINOR", ordered numerically (1.9 < 1.41).
struct ApiVersion {
  int major = 0;
  int minor = 0;
  std::string Text() const;  // "1.41"
  auto operator<=>(const ApiVersion&) const = default;
};

// What the engine is (GET /version).
struct EngineVersion {
  std::string version;  // "20.10.24+dfsg1"
  ApiVersion api_max;   // ApiVersion
  ApiVersion api_min;   // MinAPIVersion
  std::string os, arch, kernel;
};

// The newest version Kiln was tested against (DOCKER-ENGINE.md: Docker 20.10, API 1.41).
inline constexpr ApiVersion kNewestTestedApi{1, 41};

// Parses "1.41"; kFailed for anything else (the text comes from the engine).
base::Result<ApiVersion> ParseApiVersion(std::string_view text);

// The version to use: min(server max, kNewestTestedApi). kUnsupported when that is below the
// server's minimum (Docker 29 requires at least 1.44): Kiln then cannot speak to this engine.
base::Result<ApiVersion> NegotiateApiVersion(ApiVersion server_max, ApiVersion server_min);

}  // namespace kiln::exec
