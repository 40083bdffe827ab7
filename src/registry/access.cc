#include "registry/access.h"

#include "registry/credentials.h"

namespace kiln::registry {

base::Result<std::optional<Access>> ResolveAccess(const spec::KilnConfig& config,
                                                  const std::filesystem::path& state_dir) {
  const spec::Registry& r = config.registry;
  if (!r.listen.empty()) {
    auto password = CurrentPassword(PathsUnder(state_dir));
    if (!password.ok()) return password.status();
    return std::optional<Access>(Access{r.listen, kUsername, std::move(*password)});
  }
  if (r.url.empty()) return std::optional<Access>();
  spec::ResolvedValue password = spec::ResolveValue(r.password, config);
  if (!password.ok) return base::InvalidInput("registry.password: " + password.error);
  return std::optional<Access>(Access{r.url, r.username, std::move(password.value)});
}

}  // namespace kiln::registry
