// The state directory's permissions: everything Kiln keeps there (kiln.db, records, logs,
// artifacts, git mirrors, bundles) is the user's alone, 0700 folders and 0600 files (DESIGN.md
// "Security"). New files get that from the process umask (077, set by `kiln` at start); this
// fixes what an older Kiln left behind.
#pragma once

#include <filesystem>

#include "base/status.h"

namespace kiln::store {

enum class ModeCheck {
  kOnce,    // skipped once a pass has completed in this state dir (the CLI, on every command)
  kAlways,  // walks the whole dir (`kiln serve` at start)
};

// Creates dir (0700) if missing and removes group/other bits from it and everything under
// it, without following symlinks. What build workspaces and service tasks hold is left as the
// build or the task made it (their folders are fixed): they ran with their own umask and sit
// inside the 0700 dir anyway. kIo naming the first entry that could not be changed.
base::Status SecureStateDir(const std::filesystem::path& dir, ModeCheck check);

}  // namespace kiln::store
