// Artifact collection with CodeBuild's rules: files globs, base-directory (may be a glob),
// discard-paths, exclude-paths; nothing may escape the build's source directory.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"
#include "spec/buildspec.h"

namespace kiln::codebuild {

// One file chosen for an artifact: where it is now, and its path inside the artifact.
struct ArtifactFile {
  std::filesystem::path source;  // absolute path on disk, symlinks resolved (inside src_dir)
  std::string relative;          // path inside the artifact ('/'-separated, no "..")
};

// How strict resolution is; artifacts use the defaults.
struct ResolveOptions {
  // Caches and reports: a pattern (or base-directory) matching nothing is not an error.
  bool allow_no_match = false;
};

// Resolves spec (whose patterns already have their $VARIABLES expanded) against src_dir.
// Patterns are relative to src_dir (or to each base-directory match). Absolute patterns and
// base directories are refused: a local build must not read outside its workspace.
// Errors: kInvalidInput for a path that escapes (absolute, "..", a symlink leading outside
// src_dir); kFailed with message "CLIENT_ERROR: no matching artifact
// paths found" when a pattern matches nothing. The result is sorted by relative path and has
// no duplicate relative paths (a clash is kInvalidInput naming both sources).
// Symlinks to directories found by a wildcard are not followed (their files are skipped);
// a dangling symlink is kInvalidInput. Other errors: kIo.
base::Result<std::vector<ArtifactFile>> ResolveArtifactFiles(const spec::ArtifactSpec& spec,
                                                             const std::filesystem::path& src_dir,
                                                             const ResolveOptions& options = {});

// Copies files into out_dir (created if missing), making parent folders. Symlinks are copied
// as the files they point to (already checked to stay inside). Never writes outside out_dir:
// folders are opened one component at a time without following symlinks, and an existing
// file is unlinked first so nothing is written through a symlink or a hard link. File
// permission bits are kept. Errors: kInvalidInput for a bad relative path or a symlink or
// file in the way inside out_dir; kIo otherwise.
base::Status WriteArtifactFiles(const std::vector<ArtifactFile>& files,
                                const std::filesystem::path& out_dir);

}  // namespace kiln::codebuild
