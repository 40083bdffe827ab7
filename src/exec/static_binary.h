// Finding host binaries that can be copied into an image as they are: only a static ELF
// executable runs without the host's libraries and loader.
#pragma once

#include <string>

#include "base/status.h"

namespace kiln::exec {

// True when path is an ELF executable with no PT_INTERP program header (no dynamic loader).
// kIo when it cannot be read; kInvalidInput when it is not a 64-bit ELF file.
base::Result<bool> IsStaticElf(const std::string& path);

// The host's `docker` CLI if it is static: /usr/local/bin/docker, else the first `docker` in
// path_env (a PATH value). Empty when there is none, or it is dynamic (Debian's docker.io
// client would need its libraries in the image).
std::string FindStaticDockerCli(const std::string& path_env);

// The first executable named name in the PATH-style list dirs; empty when none.
std::string FindInPath(const std::string& name, const std::string& dirs);

}  // namespace kiln::exec
