// The zip side of ArtifactStore: packing a tree (artifact_pack.cc), unpacking a zip
// (artifact_unpack.cc) and the entry checks both share (artifact_entry.cc). Internal to
// src/store; namespace artifact_zip keeps its names to itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.h"
#include "base/status.h"
#include "store/artifact_store.h"

struct archive;  // libarchive's handle

namespace kiln::store::artifact_zip {

// Read and copy buffer size, and libarchive's block size when reading a zip.
inline constexpr size_t kChunk = 64 * 1024;

// kInvalidInput naming the entry and why it is refused.
base::Status Refuse(std::string_view entry, std::string_view why);
// kIo with libarchive's last error on a.
base::Status ArchiveError(archive* a, const std::string& what);

// Splits an entry name into the components of a path below the destination, refusing any
// name that could lead elsewhere (RELIABILITY.md S-4, B-D1, B-D2, B-D6).
base::Result<std::vector<std::string>> SplitEntryName(std::string_view name);

// A link at this folder depth below the tree's root stays inside the tree when its target is
// relative and every ".." comes first and climbs no higher than the root.
bool LinkStaysInside(size_t depth, std::string_view target);

// Walks dirs below root one component at a time (creating them if asked), never through a
// symlink (RELIABILITY.md S-4, B-D12).
base::Result<base::UniqueFd> OpenDirBeneath(int root, std::span<const std::string> dirs,
                                            bool create);

// Every non-folder below dir, as relative generic paths in byte order: the zip's entry order.
base::Result<std::vector<std::string>> ListTree(const std::filesystem::path& dir,
                                                uint64_t max_entries);

// Writes the zip of these files below root to out; the result has all but the path.
base::Result<StoredArtifact> PackTree(int root, const std::vector<std::string>& files, int out,
                                      const ArtifactLimits& limits);

// Unpacks the zip read from zip_fd into the folder dest, within limits.
base::Status UnpackAll(int zip_fd, int dest, const ArtifactLimits& limits);

}  // namespace kiln::store::artifact_zip
