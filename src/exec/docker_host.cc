#include "exec/docker_host.h"

#include <charconv>
#include <cstdlib>

namespace kiln::exec {

namespace {

constexpr size_t kMaxSocketPath = 107;  // sizeof(sockaddr_un::sun_path) - 1

bool ParseInt(std::string_view text, int* out) {
  if (text.empty() || text.size() > 4) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

base::Result<DockerEndpoint> ParseDockerHost(std::string_view value) {
  if (value.empty()) value = kDefaultDockerHost;
  const std::string shown = "DOCKER_HOST '" + std::string(value) + "'";
  for (std::string_view scheme : {"tcp://", "ssh://", "npipe://", "http://", "https://"}) {
    if (value.starts_with(scheme)) {
      return base::Unsupported(shown + ": Kiln speaks only to a local engine (unix://PATH)");
    }
  }
  if (!value.starts_with("unix://")) {
    return base::InvalidInput(shown + ": expected unix:///absolute/path");
  }
  std::string_view path = value.substr(7);
  if (!path.starts_with('/')) return base::InvalidInput(shown + ": the path must be absolute");
  if (path.size() > kMaxSocketPath) return base::InvalidInput(shown + ": the path is too long");
  if (path.find('\0') != std::string_view::npos) return base::InvalidInput(shown + ": NUL byte");
  return DockerEndpoint{.socket_path = std::string(path)};
}

base::Result<DockerEndpoint> DockerEndpointFromEnvironment() {
  const char* value = std::getenv("DOCKER_HOST");
  return ParseDockerHost(value ? value : "");
}

std::string ApiVersion::Text() const { return std::to_string(major) + "." + std::to_string(minor); }

base::Result<ApiVersion> ParseApiVersion(std::string_view text) {
  size_t dot = text.find('.');
  ApiVersion v;
  if (dot == std::string_view::npos || !ParseInt(text.substr(0, dot), &v.major) ||
      !ParseInt(text.substr(dot + 1), &v.minor)) {
    return base::Status(base::ErrorKind::kFailed,
                        "docker: malformed API version '" + std::string(text.substr(0, 32)) + "'");
  }
  return v;
}

base::Result<ApiVersion> NegotiateApiVersion(ApiVersion server_max, ApiVersion server_min) {
  ApiVersion chosen = std::min(server_max, kNewestTestedApi);
  if (chosen < server_min) {
    return base::Unsupported("docker: the engine requires API " + server_min.Text() +
                             " or newer; Kiln speaks up to " + chosen.Text());
  }
  return chosen;
}

}  // namespace kiln::exec
