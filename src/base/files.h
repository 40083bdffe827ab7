// Small file-system helpers over std::filesystem with Status errors.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::base {

// Reads a whole file, refusing files over max_bytes with a clear message.
Result<std::string> ReadFile(const std::filesystem::path& path, size_t max_bytes);
// Writes data to path atomically (temp file in the same folder, fsync, rename). kNoSync
// leaves out the fsync: readers still see the old file or the whole new one, but a crash of
// the machine may lose the write (for scratch files, and copies of what a database holds).
enum class Durability { kSync, kNoSync };
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data,
                       Durability durability = Durability::kSync);
// Copies the tree at from into to (which must not exist), keeping symlinks as links and
// leaving out the paths in exclude (e.g. a state dir inside the tree).
Status CopyTree(const std::filesystem::path& from, const std::filesystem::path& to,
                const std::vector<std::filesystem::path>& exclude = {});
// Removes the group and other permission bits of root and of everything under it, never
// following a symlink (links are left as they are). When skip_contents(dir) is true, dir itself
// is fixed but what it holds is left alone. Stops at the first error.
Status RemoveGroupOtherBits(
    const std::filesystem::path& root,
    const std::function<bool(const std::filesystem::path&)>& skip_contents = {});
// True if path, after resolving every symlink, lies inside root (also resolved).
bool IsInside(const std::filesystem::path& root, const std::filesystem::path& path);

}  // namespace kiln::base
