// Shared by packing and unpacking: safe entry names and links, folders opened beneath a root.
#include <archive.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "store/artifact_zip.h"

namespace kiln::store::artifact_zip {
using base::Result;
using base::Status;
using base::UniqueFd;

namespace {

std::vector<std::string_view> SplitSlashes(std::string_view s) {
  std::vector<std::string_view> parts;
  for (size_t start = 0; start <= s.size();) {
    size_t end = std::min(s.find('/', start), s.size());
    parts.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// Opens the folder name inside parent (creating it first if asked) without following a link.
Result<UniqueFd> OpenSubdir(int parent, const std::string& name, bool create) {
  if (create && ::mkdirat(parent, name.c_str(), 0755) != 0 && errno != EEXIST) {
    return base::IoError("mkdir " + name, errno);
  }
  UniqueFd fd(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.valid()) return fd;
  if (errno == ELOOP || errno == ENOTDIR) {
    return base::InvalidInput("\"" + name + "\" is a symlink or not a folder");
  }
  return base::IoError(name, errno);
}

}  // namespace

Status Refuse(std::string_view entry, std::string_view why) {
  return base::InvalidInput("refusing artifact entry \"" + std::string(entry) +
                            "\": " + std::string(why));
}

Status ArchiveError(archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return {base::ErrorKind::kIo, what + ": " + (msg ? msg : "unknown libarchive error")};
}

Result<std::vector<std::string>> SplitEntryName(std::string_view name) {
  if (name.empty()) return Refuse(name, "empty name");
  if (name.front() == '/') return Refuse(name, "absolute path");
  if (name.find('\\') != std::string_view::npos) return Refuse(name, "backslash in name");
  std::vector<std::string> parts;
  for (std::string_view part : SplitSlashes(name)) {
    if (part == "..") return Refuse(name, "\"..\" component");
    if (!part.empty() && part != ".") parts.emplace_back(part);
  }
  if (parts.empty()) return Refuse(name, "names no file");
  return parts;
}

// A link at this folder depth below the tree's root stays inside the tree when its target is
// relative and every ".." comes first and climbs no higher than the root. Later components only
// descend, through links that pass the same test, so the chain cannot climb out either.
// ("a/.." is refused: if a is a link to ".", it would climb one level more than it reads.)
bool LinkStaysInside(size_t depth, std::string_view target) {
  if (target.empty() || target.front() == '/' || target.find('\\') != std::string_view::npos) {
    return false;
  }
  size_t ups = 0;
  bool descended = false;
  for (std::string_view part : SplitSlashes(target)) {
    if (part == "..") {
      if (descended || ++ups > depth) return false;
    } else if (!part.empty() && part != ".") {
      descended = true;
    }
  }
  return true;
}

// Walks dirs below root one component at a time, never through a symlink, so a link swapped in
// on the way is caught rather than followed (RELIABILITY.md S-4, B-D12).
Result<UniqueFd> OpenDirBeneath(int root, std::span<const std::string> dirs, bool create) {
  UniqueFd dir(::fcntl(root, F_DUPFD_CLOEXEC, 0));
  if (!dir.valid()) return base::IoError("dup", errno);
  for (const std::string& name : dirs) {
    auto next = OpenSubdir(dir.get(), name, create);
    if (!next.ok()) return next.status();
    dir = std::move(next).value();
  }
  return dir;
}

}  // namespace kiln::store::artifact_zip
