// Unpacking: a zip's entries written beneath a folder, refusing zip-slip and zip bombs.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "base/fd.h"
#include "store/artifact_zip.h"

namespace kiln::store::artifact_zip {
using base::Status;
using base::UniqueFd;

namespace {

using ReadArchive = std::unique_ptr<archive, decltype(&archive_read_free)>;

// What an artifact may still unpack to before it counts as a zip bomb.
struct Budget {
  const ArtifactLimits& limits;
  uint64_t bytes = 0;
  uint64_t entries = 0;

  Status TakeEntry() {
    if (++entries > limits.max_entries) {
      return base::InvalidInput("artifact has over " + std::to_string(limits.max_entries) +
                                " entries (zip bomb?)");
    }
    return Status::Ok();
  }
  Status TakeBytes(uint64_t n) {
    bytes += n;
    if (bytes > limits.max_bytes) {
      return base::InvalidInput("artifact unpacks to over " + std::to_string(limits.max_bytes) +
                                " bytes (zip bomb?)");
    }
    return Status::Ok();
  }
};

// Removes whatever is at leaf (a file or a link, never followed) so a new entry replaces it
// instead of being written through it. A folder in the way fails with EISDIR.
Status ClearLeaf(int dir, const std::string& leaf, std::string_view name) {
  if (::unlinkat(dir, leaf.c_str(), 0) != 0 && errno != ENOENT) {
    return Refuse(name, std::string("cannot replace what is there: ") + std::strerror(errno));
  }
  return Status::Ok();
}

Status WriteFileData(archive* zip, int fd, std::string_view name, Budget& budget) {
  std::vector<char> buf(kChunk);
  for (;;) {
    la_ssize_t n = archive_read_data(zip, buf.data(), buf.size());
    if (n == 0) return Status::Ok();
    if (n < 0) return ArchiveError(zip, "read entry " + std::string(name));
    if (Status s = budget.TakeBytes(static_cast<uint64_t>(n)); !s.ok()) return s;
    if (!base::WriteAll(fd, buf.data(), static_cast<size_t>(n))) {
      return base::IoError("write " + std::string(name), errno);
    }
  }
}

Status UnpackFile(archive* zip, archive_entry* entry, int dir, const std::string& leaf,
                  Budget& budget) {
  const char* name = archive_entry_pathname(entry);
  if (Status s = ClearLeaf(dir, leaf, name); !s.ok()) return s;
  // O_EXCL|O_NOFOLLOW: a link planted since ClearLeaf makes this fail instead of being followed.
  UniqueFd fd(
      ::openat(dir, leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return base::IoError("create " + std::string(name), errno);
  if (Status s = WriteFileData(zip, fd.get(), name, budget); !s.ok()) return s;
  mode_t perm = (archive_entry_perm(entry) & 0111) ? 0755 : 0644;
  if (::fchmod(fd.get(), perm) != 0) return base::IoError("chmod " + std::string(name), errno);
  return Status::Ok();
}

Status UnpackLink(archive_entry* entry, int dir, const std::string& leaf, size_t depth) {
  const char* name = archive_entry_pathname(entry);
  const char* target = archive_entry_symlink(entry);
  if (target == nullptr || !LinkStaysInside(depth, target)) {
    return Refuse(name, std::string("symlink to \"") + (target ? target : "") +
                            "\" leads outside the destination");
  }
  if (Status s = ClearLeaf(dir, leaf, name); !s.ok()) return s;
  if (::symlinkat(target, dir, leaf.c_str()) != 0) {
    return base::IoError("symlink " + std::string(name), errno);
  }
  return Status::Ok();
}

Status UnpackEntry(archive* zip, archive_entry* entry, int dest, Budget& budget) {
  if (Status s = budget.TakeEntry(); !s.ok()) return s;
  const char* name = archive_entry_pathname(entry);
  if (name == nullptr) return Refuse("?", "name is not readable");
  if (archive_entry_hardlink(entry) != nullptr) return Refuse(name, "hard link");
  auto parts = SplitEntryName(name);
  if (!parts.ok()) return parts.status();
  std::span<const std::string> all(parts.value());
  mode_t type = archive_entry_filetype(entry);
  bool is_dir = type == AE_IFDIR;
  auto dir = OpenDirBeneath(dest, is_dir ? all : all.first(all.size() - 1), /*create=*/true);
  if (!dir.ok()) return Refuse(name, dir.status().message());
  if (is_dir) return Status::Ok();
  if (type == AE_IFREG) return UnpackFile(zip, entry, dir->get(), all.back(), budget);
  if (type == AE_IFLNK) return UnpackLink(entry, dir->get(), all.back(), all.size() - 1);
  return Refuse(name, "not a file, folder or symlink");
}

}  // namespace

Status UnpackAll(int zip_fd, int dest, const ArtifactLimits& limits) {
  ReadArchive zip(archive_read_new(), &archive_read_free);
  if (!zip) return base::Internal("archive_read_new failed");
  if (archive_read_support_format_zip(zip.get()) != ARCHIVE_OK ||
      archive_read_open_fd(zip.get(), zip_fd, kChunk) != ARCHIVE_OK) {
    return ArchiveError(zip.get(), "open zip");
  }
  Budget budget{.limits = limits};
  archive_entry* entry = nullptr;
  for (;;) {
    int r = archive_read_next_header(zip.get(), &entry);
    if (r == ARCHIVE_EOF) return Status::Ok();
    if (r != ARCHIVE_OK) return ArchiveError(zip.get(), "read zip");
    if (Status s = UnpackEntry(zip.get(), entry, dest, budget); !s.ok()) return s;
  }
}

}  // namespace kiln::store::artifact_zip
