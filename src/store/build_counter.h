// Per-project build numbers (CODEBUILD_BUILD_NUMBER), kept in the state dir.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "base/status.h"

namespace kiln::store {

// Returns the next build number of project (1, 2, ...). Safe across concurrent processes:
// the counter file is locked with flock while it is read and rewritten.
base::Result<int64_t> NextBuildNumber(const std::filesystem::path& state_dir,
                                      const std::string& project);

}  // namespace kiln::store
