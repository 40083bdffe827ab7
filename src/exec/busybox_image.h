// A tiny image made without any registry: busybox-static and its applet links, imported
// through the Engine API. The engine tests' fixture image and `kiln image bootstrap --busybox`.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "exec/docker_client.h"

namespace kiln::exec {

inline constexpr char kBusyboxPath[] = "/bin/busybox";  // Debian's busybox-static

// What goes into the image besides busybox.
struct BusyboxImageOptions {
  std::string busybox = kBusyboxPath;
  // A static `docker` CLI copied to /usr/local/bin/docker (so privileged builds can run
  // `docker build/push`); empty: none.
  std::string docker_cli;
};

// The image config of every image `kiln image bootstrap` makes, with its shell as Cmd.
std::vector<std::string> ImageChanges(const std::string& shell);

// A rootfs tar: /bin/busybox, /bin/<applet> symlinks to it (from `busybox --list`), /tmp
// (1777), /usr/bin, /usr/local/bin (with the docker CLI if asked), /etc/passwd and /etc/group
// with root, codebuild-user (uid/gid 1000, home /home/codebuild-user) and nobody.
// kNotFound when busybox is missing; kIo when it or the CLI cannot be read.
base::Result<std::string> BusyboxRootfsTar(const BusyboxImageOptions& options = {});

// Imports that rootfs as repo:tag with Cmd ["sh"] and PATH=/usr/local/bin:/usr/bin:/bin.
// Returns the image id (a new one each time: the engine records the import time).
base::Result<std::string> ImportBusyboxImage(const DockerClient& client, const std::string& repo,
                                             const std::string& tag,
                                             const BusyboxImageOptions& options = {});

}  // namespace kiln::exec
