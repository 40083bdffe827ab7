// Checks that make branch names and commit ids safe to hand to git as data.
// Names that reach us in webhooks can be anything git accepts (RELIABILITY.md S-6, B-F):
// `$(id)`, `zzz";echo${IFS}"hello";#` are valid branches and must work literally; names that
// would read as options (`-x`, `--upload-pack=...`) are refused outright.
#pragma once

#include <string>

#include "base/status.h"
#include "source/git_mirror.h"

namespace kiln::source {

// kInvalidInput unless branch is a name git accepts as refs/heads/<branch> (checked by
// `git check-ref-format`, so our rules are exactly git's) and does not start with '-'.
base::Status CheckBranchName(const FetchOptions& options, const std::string& branch);

// The revision in lower case if it is 4 to 64 hex digits (an abbreviated or full SHA-1 or
// SHA-256 id), else kInvalidInput.
base::Result<std::string> NormalizeRevision(const std::string& revision);

}  // namespace kiln::source
