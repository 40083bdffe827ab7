#include "cli/local_registry.h"

#include <algorithm>
#include <cstdio>

#include "registry/credentials.h"

namespace kiln::cli {

bool EnsureLocalRegistry(const spec::KilnConfig& config, const std::filesystem::path& state_dir,
                         bool needed, const char* who,
                         std::unique_ptr<registry::BuildRegistry>* own) {
  if (!needed || config.registry.listen.empty()) return true;
  auto started =
      registry::BuildRegistry::Ensure(registry::PathsUnder(state_dir), config.registry.listen);
  if (!started.ok()) {
    std::fprintf(stderr, "kiln %s: registry: %s\n", who, started.status().message().c_str());
    return false;
  }
  *own = std::move(*started);
  return true;
}

bool AnyContainerProject(const spec::KilnConfig& config) {
  return std::any_of(config.projects.begin(), config.projects.end(),
                     [](const spec::Project& p) { return !p.environment.on_host(); });
}

}  // namespace kiln::cli
