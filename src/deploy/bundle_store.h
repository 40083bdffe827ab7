// Bundles: the process provider's images (DESIGN.md "Deploy"). An imageUri names a
// .tar.gz/.tgz/.tar archive or a directory: a path relative to the deploy input artifact, an
// absolute path, or a file:// URL. Each is kept unpacked, by content hash, under
// <root>/<sha256>/ so any revision can be started again later (rollback, restart).
//
// Thread-safe (unpacks into a temp dir renamed into place); blocking: call it off the loop.
#pragma once

#include <filesystem>
#include <string>

#include "base/status.h"

namespace kiln::deploy {

class BundleStore {
 public:
  explicit BundleStore(std::filesystem::path root) : root_(std::move(root)) {}

  // Imports the bundle that image_uri names and returns its sha256 (lower-case hex): of the
  // archive file's bytes, or of a directory tree's paths, modes and contents. A relative
  // image_uri is resolved in artifact_dir and must stay inside it. kNotFound if it does not
  // exist; kInvalidInput for an unsafe archive entry (absolute, "..", a link leading out,
  // a device) or an unsupported file type.
  base::Result<std::string> Import(const std::string& image_uri,
                                   const std::filesystem::path& artifact_dir) const;

  // Where the bundle with this hash is unpacked.
  std::filesystem::path PathOf(const std::string& sha256) const { return root_ / sha256; }
  bool Has(const std::string& sha256) const;

 private:
  base::Result<std::filesystem::path> Resolve(const std::string& image_uri,
                                              const std::filesystem::path& artifact_dir) const;
  std::filesystem::path root_;
};

// Unpacks a tar archive (optionally gzip-compressed) into dest, refusing entries that would
// land outside it. Exposed for tests.
base::Status UnpackArchive(const std::filesystem::path& archive, const std::filesystem::path& dest);

}  // namespace kiln::deploy
