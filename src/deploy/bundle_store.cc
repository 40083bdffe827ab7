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
#include "base/ids.h"

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
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) out += {kHex[md[i] >> 4], kHex[md[i] & 15]};
    return out;
  }

 private:
  Digest ctx_{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
};

// A tree's hash: every entry's relative path, kind, exec bit and content, in sorted order.
base::Result<std::string> HashTree(const fs::path& dir) {
  std::vector<fs::path> entries;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    entries.push_back(it->path());
  }
  if (ec) return base::IoError("list " + dir.string(), ec.value());
  std::sort(entries.begin(), entries.end());
  Hasher h;
  for (const fs::path& p : entries) {
    auto status = fs::symlink_status(p);
    h.Add(p.lexically_relative(dir).string() + '\0');
    if (fs::is_symlink(status)) {
      h.Add("l" + fs::read_symlink(p).string() + '\0');
    } else if (fs::is_regular_file(status)) {
      bool exec = (status.permissions() & fs::perms::owner_exec) != fs::perms::none;
      h.Add(exec ? "x" : "f");
      if (auto st = h.AddFile(p); !st.ok()) return st;
    } else {
      h.Add("d");
    }
  }
  return h.Hex();
}

// A name inside the archive that stays inside the destination: relative, no "..".
bool IsSafeName(std::string_view name) {
  if (name.empty() || name.front() == '/') return false;
  fs::path p(name);
  return std::none_of(p.begin(), p.end(), [](const fs::path& c) { return c == ".."; });
}

bool IsSafeLink(std::string_view entry_name, std::string_view target) {
  if (target.empty() || target.front() == '/') return false;
  fs::path resolved = (fs::path(entry_name).parent_path() / target).lexically_normal();
  return !resolved.empty() && *resolved.begin() != "..";
}

base::Status CheckEntry(archive_entry* entry) {
  const char* name = archive_entry_pathname(entry);
  std::string what = name ? name : "";
  if (!IsSafeName(what)) return base::InvalidInput("bundle entry escapes the bundle: " + what);
  mode_t type = archive_entry_filetype(entry);
  if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
    return base::InvalidInput("bundle entry is not a file, folder or link: " + what);
  }
  const char* link = archive_entry_symlink(entry);
  if (type == AE_IFLNK && !IsSafeLink(what, link ? link : "")) {
    return base::InvalidInput("bundle link leads outside the bundle: " + what);
  }
  const char* hard = archive_entry_hardlink(entry);
  if (hard && !IsSafeName(hard)) return base::InvalidInput("bundle hard link escapes: " + what);
  return base::Status::Ok();
}

base::Status ArchiveError(archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return base::InvalidInput(what + ": " + (msg ? msg : "archive error"));
}

base::Status CopyData(archive* in, archive* out, const std::string& name) {
  const void* buf;
  size_t size;
  la_int64_t offset;
  for (;;) {
    int rc = archive_read_data_block(in, &buf, &size, &offset);
    if (rc == ARCHIVE_EOF) return base::Status::Ok();
    if (rc != ARCHIVE_OK) return ArchiveError(in, name);
    if (archive_write_data_block(out, buf, size, offset) != ARCHIVE_OK)
      return ArchiveError(out, name);
  }
}

base::Status ExtractEntry(archive* in, archive* out, archive_entry* entry, const fs::path& dest) {
  if (auto st = CheckEntry(entry); !st.ok()) return st;
  std::string name = archive_entry_pathname(entry);
  archive_entry_set_pathname(entry, (dest / name).c_str());
  if (const char* hard = archive_entry_hardlink(entry)) {
    archive_entry_set_hardlink(entry, (dest / hard).c_str());
  }
  if (archive_write_header(out, entry) != ARCHIVE_OK) return ArchiveError(out, name);
  if (auto st = CopyData(in, out, name); !st.ok()) return st;
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
  if (st.ok() && ::rename(tmp.c_str(), final_dir.c_str()) != 0 && errno != ENOTEMPTY &&
      errno != EEXIST) {
    st = base::IoError("rename " + final_dir.string(), errno);
  }
  fs::remove_all(tmp, ec);  // left over when another import won the race
  return st;
}

}  // namespace

base::Status UnpackArchive(const fs::path& path, const fs::path& dest) {
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
  archive_entry* entry = nullptr;
  for (;;) {
    int rc = archive_read_next_header(in.get(), &entry);
    if (rc == ARCHIVE_EOF) return base::Status::Ok();
    if (rc != ARCHIVE_OK) return ArchiveError(in.get(), path.string());
    if (auto st = ExtractEntry(in.get(), out.get(), entry, dest); !st.ok()) return st;
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
  bool is_dir = fs::is_directory(*path);
  std::string hex;
  if (is_dir) {
    auto h = HashTree(*path);
    if (!h.ok()) return h.status();
    hex = *h;
  } else {
    Hasher h;
    if (auto st = h.AddFile(*path); !st.ok()) return st;
    hex = h.Hex();
  }
  if (Has(hex)) return hex;
  base::Status st = Install(PathOf(hex), [&](const fs::path& tmp) {
    base::Status filled = is_dir ? base::CopyTree(*path, tmp) : UnpackArchive(*path, tmp);
    // Copies keep the modes they came with: a bundle in the state dir is the user's alone.
    return filled.ok() ? base::RemoveGroupOtherBits(tmp) : filled;
  });
  if (!st.ok()) return base::Status(st.kind(), "bundle " + uri + ": " + st.message());
  return hex;
}

bool BundleStore::Has(const std::string& sha256) const {
  std::error_code ec;
  return fs::is_directory(PathOf(sha256), ec);
}

}  // namespace kiln::deploy
