// Bundles: the process provider's images (DESIGN.md "Deploy"). An imageUri names a
// .tar.gz/.tgz/.tar archive or a directory: a path relative to the deploy input artifact, an
// absolute path, or a file:// URL. Each is kept unpacked, by content hash, under
// <root>/<sha256>/ so any revision can be started again later (rollback, restart).
//
// Thread-safe (unpacks into a temp dir renamed into place); blocking: call it off the loop.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "base/status.h"

namespace kiln::deploy {

// What one bundle may unpack to: a decompression bomb stops at the first entry past a limit.
// kiln.yml's names for them are server.limits.bundle_bytes and server.limits.bundle_entries.
struct BundleLimits {
  uint64_t max_bytes = uint64_t{1} << 30;  // files' sizes added up: 1 GiB
  uint64_t max_entries = 100'000;          // files, folders and links
};

class BundleStore {
 public:
  explicit BundleStore(std::filesystem::path root, BundleLimits limits = {})
      : root_(std::move(root)), limits_(limits) {}

  // Imports the bundle that image_uri names and returns its sha256 (lower-case hex): of the
  // archive file's bytes, or of a directory tree's paths, modes and contents. A relative
  // image_uri is resolved in artifact_dir and must stay inside it. kNotFound if it does not
  // exist; kInvalidInput, naming the bundle and the entry, for an unsafe entry (absolute,
  // "..", a symlink leading out even through other links, an entry written through a
  // symlink, a device) or a bundle over the limits. Archives and directories obey the same
  // rules (deploy/bundle_guard.h).
  base::Result<std::string> Import(const std::string& image_uri,
                                   const std::filesystem::path& artifact_dir) const;

  // Where the bundle with this hash is unpacked.
  std::filesystem::path PathOf(const std::string& sha256) const { return root_ / sha256; }
  bool Has(const std::string& sha256) const;

 private:
  base::Result<std::filesystem::path> Resolve(const std::string& image_uri,
                                              const std::filesystem::path& artifact_dir) const;
  base::Result<std::string> ImportTree(const std::filesystem::path& dir) const;
  base::Result<std::string> ImportArchive(const std::filesystem::path& archive) const;

  std::filesystem::path root_;
  BundleLimits limits_;
};

// Unpacks a tar archive (optionally gzip-compressed) into dest, refusing entries that would
// land outside it and stopping at the limits. Exposed for tests.
base::Status UnpackArchive(const std::filesystem::path& archive, const std::filesystem::path& dest,
                           BundleLimits limits = {});

}  // namespace kiln::deploy
