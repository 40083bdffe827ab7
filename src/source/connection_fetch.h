// How to fetch a kiln.yml connection's repository: its URL and credentials, resolved.
#pragma once

#include "base/status.h"
#include "source/git_mirror.h"
#include "spec/kiln_config.h"

namespace kiln::source {

// Errors name the connection and the reference that failed, never a secret value.
base::Result<FetchOptions> ConnectionFetchOptions(const spec::KilnConfig& config,
                                                  const spec::Connection& connection);

}  // namespace kiln::source
