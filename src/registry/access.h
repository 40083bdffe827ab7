// How a build reaches the registry of kiln.yml's `registry:`: its address and login. The one
// place that decides it, for every kind of build (kiln build, the API, pipeline actions).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "base/status.h"
#include "spec/kiln_config.h"

namespace kiln::registry {

struct Access {
  std::string address;   // HOST:PORT, as image names start with it
  std::string username;  // "AWS" for the registry Kiln runs
  std::string password;  // a secret: every output masks it
};

// nullopt when kiln.yml has no registry. `listen`: the address, user AWS and the current
// password under <state_dir>/registry (rotated if due; the registry need not be running).
// `url`: the configured username and the password resolved through its ValueRef.
base::Result<std::optional<Access>> ResolveAccess(const spec::KilnConfig& config,
                                                  const std::filesystem::path& state_dir);

}  // namespace kiln::registry
