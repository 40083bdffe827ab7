// The buildspec `cache` section on local disk. Layout under <cache_root>/<project>/:
//   default/            the unkeyed cache, replaced whole on each save
//   keys/<key>/         one immutable folder per saved key
//   tmp/<uuid>/         a save being staged; renamed into place when complete
// Project and key names are percent-encoded into single folder names, so no key can escape.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"
#include "spec/buildspec.h"

namespace kiln::codebuild {

// What a restore did, for the build log.
struct CacheRestore {
  bool hit = false;
  std::string key;  // the key that matched (exact key, or a fallback prefix match)
  size_t files = 0;
};

// Cache with CodeBuild's rules. The key and fallback keys must already be expanded.
// Without a key, one unkeyed cache per project is used. Keyed caches are immutable once saved.
// Several builds may save and restore at once: a save publishes with one rename, so a reader
// sees a whole cache or none. Errors: kInvalidInput for a bad action, an empty or over-long
// key, an absolute or escaping path, or a symlink in src_dir that a restore would write
// through; kIo otherwise. A failed restore is worth a warning, not a failed build.
class LocalCache {
 public:
  LocalCache(std::filesystem::path cache_root, std::string project);

  // Restores cached paths into src_dir: the exact key first, then each fallback key as a
  // prefix of saved keys (newest saved first). Skipped when action is "save".
  base::Result<CacheRestore> Restore(const spec::Cache& cache,
                                     const std::filesystem::path& src_dir);
  // Saves the files matching cache.paths (globs relative to src_dir) under the key. Skipped
  // when action is "restore", when the key already exists, or when nothing matches (an empty
  // save must not pin a key). Returns files saved.
  base::Result<size_t> Save(const spec::Cache& cache, const std::filesystem::path& src_dir);

 private:
  std::filesystem::path root_;
};

}  // namespace kiln::codebuild
