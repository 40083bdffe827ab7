// docker-registry's config.yml for the registry Kiln runs (Debian's docker-registry 2.8).
#pragma once

#include <string>

#include "base/status.h"
#include "registry/credentials.h"

namespace kiln::registry {

// The config text: filesystem storage under paths.data() with deletes enabled, http.addr =
// listen, the given http.secret, htpasswd auth (realm kiln), warn-level logs. docker-registry
// logs to stderr only: the process is started with it going to paths.log().
std::string ConfigYaml(const Paths& paths, const std::string& listen, const std::string& secret);

// Writes it (0600) with a fresh random http.secret; creates paths.data().
base::Status WriteConfig(const Paths& paths, const std::string& listen);

}  // namespace kiln::registry
