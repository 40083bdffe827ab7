// Pipeline artifacts, stored content-addressed as zip files (as CodePipeline stores them in
// S3): <root>/<first 2 hex>/<sha256 hex>.zip. Identical content is stored once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kiln::store {

// Caps against zip bombs and trees too large to handle (RELIABILITY.md B-D7, B-D13). Put
// refuses a tree over them too, so whatever Put stores, Get can unpack.
struct ArtifactLimits {
  uint64_t max_bytes = uint64_t{10} << 30;  // file bytes of all entries together (10 GiB)
  uint64_t max_entries = 1'000'000;         // entries, folders included
};

// True for exactly 64 lower-case hex digits, the only hash form the store accepts.
bool IsSha256Hex(std::string_view s);

struct StoredArtifact {
  std::string sha256;          // of the zip file's bytes, lower-case hex
  std::filesystem::path path;  // the zip in the store
  uint64_t size = 0;           // bytes of the zip
  uint64_t files = 0;          // entries packed
};

// Thread-safe: every write goes to a temp file renamed into place.
class ArtifactStore {
 public:
  explicit ArtifactStore(std::filesystem::path root);
  ArtifactStore(std::filesystem::path root, ArtifactLimits limits);

  // Packs every regular file and symlink under dir (recursively; symlinks stored as links,
  // and only when they point inside dir) into a zip with deterministic order and timestamps
  // (so the same tree gives the same hash), then stores it by hash. Entries keep only the
  // exec bit (0755/0644) and a fixed time. kNotFound if dir is missing; kInvalidInput for a
  // symlink that could lead outside dir (absolute, climbing above dir, or with ".." after a
  // name, as in "a/..") or a tree over the limits.
  // Other file types (sockets, fifos, devices) are left out.
  base::Result<StoredArtifact> Put(const std::filesystem::path& dir);

  // Unpacks the artifact with this hash into dest (created if missing). Refuses entries that
  // would land outside dest: absolute names, "..", symlinks leading outside, an entry written
  // through a symlink unpacked earlier (zip-slip). kNotFound for an unknown hash.
  // kInvalidInput for a malformed hash, an unsafe entry or an artifact over the limits; then,
  // if Get created dest, dest is removed again. Never writes through a symlink already in dest:
  // a file entry replaces such a link, an entry under it is refused.
  base::Status Get(const std::string& sha256, const std::filesystem::path& dest) const;

  // Where an artifact with this hash lives (whether or not it exists). sha256 must pass
  // IsSha256Hex, or the path means nothing.
  std::filesystem::path PathOf(const std::string& sha256) const;

 private:
  std::filesystem::path root_;
  ArtifactLimits limits_;
};

}  // namespace kiln::store
