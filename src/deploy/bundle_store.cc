#include "deploy/bundle_store.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <vector>

#include "base/fd.h"
#include "base/files.h"
#include "base/hex.h"
#include "base/ids.h"
#include "deploy/bundle_guard.h"

namespace kiln::deploy {
namespace {

namespace fs = std::filesystem;
using ReadArchive = std::unique_ptr<archive, decltype(&archive_read_free)>;
using DiskArchive = std::unique_ptr<archive, decltype(&archive_write_free)>;
using Digest = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

class Hasher {
 public:
  Hasher() { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void Add(std::string_view data) { EVP_DigestUpdate(ctx_.get(), data.data(), data.size()); }
  base::Status AddFile(const fs::path& path) {
    base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return base::IoError("open " + path.string(), errno);
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return base::IoError("read " + path.string(), errno);
      if (n == 0) return base::Status::Ok();
      Add(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  std::string Hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &len);
    return base::HexEncode(std::span<const unsigned char>(md, len));
  }

 private:
  Digest ctx_{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
};

// A directory bundle's entries, listed once (links not followed), checked by the same guard
// as an archive's, in sorted order.
struct TreeEntry {
  fs::path relative;
  BundleEntry::Kind kind;
  std::string link;
};

BundleEntry::Kind KindOf(fs::file_status status) {
  if (fs::is_symlink(status)) return BundleEntry::Kind::kSymlink;
  if (fs::is_regular_file(status)) return BundleEntry::Kind::kFile;
  if (fs::is_directory(status)) return BundleEntry::Kind::kDir;
  return BundleEntry::Kind::kOther;
}

base::Result<TreeEntry> ScanEntry(const fs::path& dir, const fs::path& relative) {
  std::error_code ec;
  const fs::path path = dir / relative;
  TreeEntry entry{.relative = relative, .kind = KindOf(fs::symlink_status(path, ec))};
  if (!ec && entry.kind == BundleEntry::Kind::kSymlink) entry.link = fs::read_symlink(path, ec);
  if (ec) return base::IoError("stat " + path.string(), ec.value());
  return entry;
}

uint64_t FileSize(const fs::path& path, BundleEntry::Kind kind) {
  std::error_code ec;
  uint64_t size = kind == BundleEntry::Kind::kFile ? fs::file_size(path, ec) : 0;
  return ec ? 0 : size;
}

base::Result<std::vector<TreeEntry>> ScanTree(const fs::path& dir, BundleLimits limits) {
  std::vector<fs::path> paths;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    paths.push_back(it->path().lexically_relative(dir));
    if (paths.size() > limits.max_entries) break;  // the guard below names the entry
  }
  if (ec) return base::IoError("list " + dir.string(), ec.value());
  std::sort(paths.begin(), paths.end());
  BundleGuard guard(limits);
  std::vector<TreeEntry> entries;
  for (const fs::path& relative : paths) {
    auto entry = ScanEntry(dir, relative);
    if (!entry.ok()) return entry.status();
    auto admitted = guard.Admit({.kind = entry->kind,
                                 .name = relative.string(),
                                 .link = entry->link,
                                 .size = FileSize(dir / relative, entry->kind)});
    if (!admitted.ok()) return admitted.status();
    entries.push_back(std::move(*entry));
  }
  return entries;
}

// A tree's hash: every entry's relative path, kind, exec bit and content, in sorted order.
base::Result<std::string> HashTree(const fs::path& dir, const std::vector<TreeEntry>& entries) {
  Hasher h;
  for (const TreeEntry& entry : entries) {
    const fs::path path = dir / entry.relative;
    h.Add(entry.relative.string() + '\0');
    if (entry.kind == BundleEntry::Kind::kSymlink) {
      h.Add("l" + entry.link + '\0');
    } else if (entry.kind == BundleEntry::Kind::kFile) {
      auto perms = fs::symlink_status(path).permissions();
      h.Add((perms & fs::perms::owner_exec) != fs::perms::none ? "x" : "f");
      if (auto st = h.AddFile(path); !st.ok()) return st;
    } else {
      h.Add("d");
    }
  }
  return h.Hex();
}

// Copies the scanned entries (already checked) into `to`, links as links.
base::Status CopyEntries(const fs::path& from, const std::vector<TreeEntry>& entries,
                         const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  for (size_t i = 0; !ec && i < entries.size(); ++i) {
    const TreeEntry& entry = entries[i];
    const fs::path dst = to / entry.relative;
    if (entry.kind == BundleEntry::Kind::kSymlink) {
      fs::create_symlink(entry.link, dst, ec);
    } else if (entry.kind == BundleEntry::Kind::kDir) {
      fs::create_directory(dst, ec);
    } else {
      fs::copy_file(from / entry.relative, dst, ec);
    }
    if (ec) return base::IoError("copy " + (from / entry.relative).string(), ec.value());
  }
  if (ec) return base::IoError("mkdir " + to.string(), ec.value());
  return base::Status::Ok();
}

base::Status ArchiveError(archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return base::InvalidInput(what + ": " + (msg ? msg : "archive error"));
}

BundleEntry::Kind KindOf(archive_entry* entry) {
  if (archive_entry_hardlink(entry)) return BundleEntry::Kind::kHardlink;
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG:
      return BundleEntry::Kind::kFile;
    case AE_IFDIR:
      return BundleEntry::Kind::kDir;
    case AE_IFLNK:
      return BundleEntry::Kind::kSymlink;
    default:
      return BundleEntry::Kind::kOther;
  }
}

BundleEntry Describe(archive_entry* entry) {
  const char* name = archive_entry_pathname(entry);
  const char* hard = archive_entry_hardlink(entry);
  const char* soft = archive_entry_symlink(entry);
  BundleEntry::Kind kind = KindOf(entry);
  la_int64_t size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
  return {.kind = kind,
          .name = name ? name : "",
          .link = hard ? hard : (soft && kind == BundleEntry::Kind::kSymlink ? soft : ""),
          .size = size > 0 ? uint64_t(size) : 0};
}

// Copies an entry's data; bytes past its declared size (a sparse or unsized entry) are
// charged to the guard as they come, so the size limit holds whatever the header said.
base::Status CopyData(archive* in, archive* out, const std::string& name, uint64_t declared,
                      BundleGuard& guard) {
  const void* buf;
  size_t size;
  la_int64_t offset;
  for (;;) {
    int rc = archive_read_data_block(in, &buf, &size, &offset);
    if (rc == ARCHIVE_EOF) return base::Status::Ok();
    if (rc != ARCHIVE_OK) return ArchiveError(in, name);
    const uint64_t end = uint64_t(std::max<la_int64_t>(offset, 0)) + size;
    if (end > declared) {
      if (auto st = guard.Charge(name, end - declared); !st.ok()) return st;
      declared = end;
    }
    if (archive_write_data_block(out, buf, size, offset) != ARCHIVE_OK)
      return ArchiveError(out, name);
  }
}

base::Status ExtractEntry(archive* in, archive* out, archive_entry* entry, const fs::path& dest,
                          BundleGuard& guard) {
  const BundleEntry described = Describe(entry);
  auto path = guard.Admit(described);
  if (!path.ok()) return path.status();
  const std::string& name = described.name;
  archive_entry_set_pathname(entry, (dest / *path).c_str());
  if (described.kind == BundleEntry::Kind::kHardlink) {
    archive_entry_set_hardlink(entry, (dest / fs::path(described.link).lexically_normal()).c_str());
  }
  if (archive_write_header(out, entry) != ARCHIVE_OK) return ArchiveError(out, name);
  if (auto st = CopyData(in, out, name, described.size, guard); !st.ok()) return st;
  if (archive_write_finish_entry(out) != ARCHIVE_OK) return ArchiveError(out, name);
  return base::Status::Ok();
}

// Unpacks (or copies) source into a fresh temp dir beside final, then renames it into place.
template <typename Fill>
base::Status Install(const fs::path& final_dir, Fill fill) {
  std::error_code ec;
  fs::create_directories(final_dir.parent_path(), ec);
  fs::path tmp = final_dir.parent_path() / (".tmp-" + base::NewUuid());
  base::Status st = fill(tmp);
  // Copies keep the modes they came with: a bundle in the state dir is the user's alone.
  if (st.ok()) st = base::RemoveGroupOtherBits(tmp);
  if (st.ok() && ::rename(tmp.c_str(), final_dir.c_str()) != 0 && errno != ENOTEMPTY &&
      errno != EEXIST) {
    st = base::IoError("rename " + final_dir.string(), errno);
  }
  fs::remove_all(tmp, ec);  // left over when another import won the race
  return st;
}

}  // namespace

base::Status UnpackArchive(const fs::path& path, const fs::path& dest, BundleLimits limits) {
  ReadArchive in(archive_read_new(), &archive_read_free);
  archive_read_support_format_tar(in.get());
  archive_read_support_filter_all(in.get());
  if (archive_read_open_filename(in.get(), path.c_str(), 64 * 1024) != ARCHIVE_OK) {
    return ArchiveError(in.get(), path.string());
  }
  DiskArchive out(archive_write_disk_new(), &archive_write_free);
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) return base::IoError("mkdir " + dest.string(), ec.value());
  BundleGuard guard(limits);
  archive_entry* entry = nullptr;
  for (;;) {
    int rc = archive_read_next_header(in.get(), &entry);
    if (rc == ARCHIVE_EOF) return base::Status::Ok();
    if (rc != ARCHIVE_OK) return ArchiveError(in.get(), path.string());
    if (auto st = ExtractEntry(in.get(), out.get(), entry, dest, guard); !st.ok()) return st;
  }
}

base::Result<fs::path> BundleStore::Resolve(const std::string& uri,
                                            const fs::path& artifact_dir) const {
  std::string text = uri.starts_with("file://") ? uri.substr(7) : uri;
  fs::path path(text);
  if (text.empty()) return base::InvalidInput("empty imageUri");
  if (path.is_relative()) {
    if (artifact_dir.empty()) {
      return base::InvalidInput("imageUri '" + uri +
                                "' is relative, and the deploy has no input artifact");
    }
    path = artifact_dir / path;
    if (fs::exists(path) && !base::IsInside(artifact_dir, path)) {
      return base::InvalidInput("imageUri '" + uri + "' leads outside the input artifact");
    }
  }
  if (!fs::exists(path))
    return base::NotFound("bundle not found: " + uri + " (" + path.string() + ")");
  return path;
}

base::Result<std::string> BundleStore::Import(const std::string& uri,
                                              const fs::path& artifact_dir) const {
  auto path = Resolve(uri, artifact_dir);
  if (!path.ok()) return path.status();
  auto hex = fs::is_directory(*path) ? ImportTree(*path) : ImportArchive(*path);
  if (!hex.ok()) {
    return base::Status(hex.status().kind(), "bundle '" + uri + "': " + hex.status().message());
  }
  return hex;
}

// Checked in full before anything is hashed or copied.
base::Result<std::string> BundleStore::ImportTree(const fs::path& dir) const {
  auto entries = ScanTree(dir, limits_);
  if (!entries.ok()) return entries.status();
  auto hex = HashTree(dir, *entries);
  if (!hex.ok() || Has(*hex)) return hex;
  base::Status st =
      Install(PathOf(*hex), [&](const fs::path& tmp) { return CopyEntries(dir, *entries, tmp); });
  if (!st.ok()) return st;
  return hex;
}

base::Result<std::string> BundleStore::ImportArchive(const fs::path& archive) const {
  Hasher h;
  if (auto st = h.AddFile(archive); !st.ok()) return st;
  std::string hex = h.Hex();
  if (Has(hex)) return hex;
  base::Status st = Install(
      PathOf(hex), [&](const fs::path& tmp) { return UnpackArchive(archive, tmp, limits_); });
  if (!st.ok()) return st;
  return hex;
}

bool BundleStore::Has(const std::string& sha256) const {
  std::error_code ec;
  return fs::is_directory(PathOf(sha256), ec);
}

}  // namespace kiln::deploy
