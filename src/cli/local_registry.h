// The registry of kiln.yml's `registry.listen` for commands that run builds here (kiln build,
// kiln pipeline run/retry): the one answering there (kiln serve's, same state dir) is used;
// otherwise one is started for the command and stopped when it ends.
#pragma once

#include <filesystem>
#include <memory>

#include "registry/registry_process.h"
#include "spec/kiln_config.h"

namespace kiln::cli {

// Ensures the registry when config has `registry.listen` and `needed`; *own keeps one this
// command started (null otherwise). Prints "kiln WHO: registry: <why>" and returns false
// when none can be had.
bool EnsureLocalRegistry(const spec::KilnConfig& config, const std::filesystem::path& state_dir,
                         bool needed, const char* who,
                         std::unique_ptr<registry::BuildRegistry>* own);

// True when some project of config builds in a container (and so may use the registry).
bool AnyContainerProject(const spec::KilnConfig& config);

}  // namespace kiln::cli
