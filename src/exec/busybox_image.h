// A tiny image made without any registry: busybox-static and its applet links, imported
// through the Engine API. Used by the engine tests and, later, `kiln image bootstrap`.
#pragma once

#include <string>

#include "base/status.h"
#include "exec/docker_client.h"

namespace kiln::exec {

inline constexpr char kBusyboxPath[] = "/bin/busybox";  // Debian's busybox-static

// A rootfs tar: /bin/busybox, /bin/<applet> symlinks to it (from `busybox --list`), /tmp
// (1777), /etc/passwd and /etc/group with root and kiln (uid/gid 1000, home /home/kiln).
// kNotFound when busybox is missing; kIo when it cannot be read.
base::Result<std::string> BusyboxRootfsTar(const std::string& busybox = kBusyboxPath);

// Imports that rootfs as repo:tag with Cmd ["/bin/sh"] and PATH=/bin. Returns the image id.
// Idempotent: the same bytes give the same id.
base::Result<std::string> ImportBusyboxImage(const DockerClient& client, const std::string& repo,
                                             const std::string& tag,
                                             const std::string& busybox = kBusyboxPath);

}  // namespace kiln::exec
