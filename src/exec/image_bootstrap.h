// `kiln image bootstrap`: the build images Kiln makes without any registry, loaded into an
// engine. <prefix>/busybox:1 from busybox-static (seconds, no network); <prefix>/standard:1 from
// Debian with debootstrap (minutes, the Debian mirror, root).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "exec/docker_client.h"

namespace kiln::exec {

struct BootstrapOptions {
  std::string tag_prefix = "kiln";  // images <prefix>/busybox:1, <prefix>/standard:1
  std::string suite = "bookworm";
  std::string mirror;       // empty: the host's apt mirror (DetectDebianMirror), else Debian's
  std::string work_parent;  // where the temporary rootfs goes (removed after)
  std::string busybox = "/bin/busybox";
  std::string docker_cli;  // a static docker CLI for /usr/local/bin/docker; empty: none
  std::function<void(const std::string&)> progress = [](const std::string&) {};
};

// "" when the options are usable, else what is wrong with them (a usage error).
std::string CheckBootstrapOptions(const BootstrapOptions& options);

struct BootstrappedImage {
  std::string ref;  // "kiln/busybox:1"
  std::string id;   // "sha256:…"
  int64_t size = 0;
};

base::Result<BootstrappedImage> BootstrapBusybox(const DockerClient& client,
                                                 const BootstrapOptions& options);

// What --standard needs before any work: root (debootstrap chroots and makes devices) and
// debootstrap on this host. Returns debootstrap's path; kFailed with the fix otherwise.
base::Result<std::string> StandardPrerequisites();

// debootstrap --variant=minbase (its output streamed to this process's stdout/stderr), the
// docker CLI, codebuild-user (uid 1000), then an import with PATH and Cmd ["bash"].
base::Result<BootstrappedImage> BootstrapStandard(const DockerClient& client,
                                                  const BootstrapOptions& options,
                                                  const std::string& debootstrap);

}  // namespace kiln::exec
