#include "store/artifact_store.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "base/fd.h"
#include "base/hex.h"
#include "base/ids.h"

namespace kiln::store {
namespace fs = std::filesystem;
using base::Result;
using base::Status;
using base::UniqueFd;

namespace {

// 1970 maps to the DOS time 1980-01-01 00:00 in every time zone, so the zip (and its hash)
// does not depend on the packing host's TZ; a 1980 time would.
constexpr time_t kEntryTime = 0;
constexpr size_t kChunk = 64 * 1024;

using WriteArchive = std::unique_ptr<archive, decltype(&archive_write_free)>;
using ReadArchive = std::unique_ptr<archive, decltype(&archive_read_free)>;
using Entry = std::unique_ptr<archive_entry, decltype(&archive_entry_free)>;
using Digest = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

Status Refuse(std::string_view entry, std::string_view why) {
  return base::InvalidInput("refusing artifact entry \"" + std::string(entry) +
                            "\": " + std::string(why));
}

Status ArchiveError(archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return {base::ErrorKind::kIo, what + ": " + (msg ? msg : "unknown libarchive error")};
}

std::vector<std::string_view> SplitSlashes(std::string_view s) {
  std::vector<std::string_view> parts;
  for (size_t start = 0; start <= s.size();) {
    size_t end = std::min(s.find('/', start), s.size());
    parts.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// Splits an entry name into the components of a path below the destination, refusing any
// name that could lead elsewhere (RELIABILITY.md S-4, B-D1, B-D2, B-D6).
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

Status MakeDir(const fs::path& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return base::IoError("mkdir " + path.string(), errno);
  }
  return Status::Ok();
}

Status SyncDir(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) return base::IoError("fsync " + path.string(), errno);
  return Status::Ok();
}

std::string Hex(std::span<const unsigned char> bytes) { return base::HexEncode(bytes); }

// ---- Packing -------------------------------------------------------------------------------

// Where the zip's bytes go: the temp file, and the hash on the way.
struct HashingSink {
  int fd = -1;
  EVP_MD_CTX* digest = nullptr;
  uint64_t bytes = 0;
};

la_ssize_t WriteToSink(archive* a, void* client, const void* buf, size_t size) {
  auto* sink = static_cast<HashingSink*>(client);
  if (!base::WriteAll(sink->fd, buf, size)) {
    archive_set_error(a, errno, "write: %s", std::strerror(errno));
    return -1;
  }
  EVP_DigestUpdate(sink->digest, buf, size);
  sink->bytes += size;
  return static_cast<la_ssize_t>(size);
}

// One zip being written from the files of one tree.
class Packer {
 public:
  Packer(int root_fd, const ArtifactLimits& limits) : root_fd_(root_fd), limits_(limits) {}

  Status Open(HashingSink* sink) {
    if (!zip_) return base::Internal("archive_write_new failed");
    if (archive_write_set_format_zip(zip_.get()) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(zip_.get(), 1) != ARCHIVE_OK ||
        archive_write_open(zip_.get(), sink, nullptr, WriteToSink, nullptr) != ARCHIVE_OK) {
      return ArchiveError(zip_.get(), "open zip");
    }
    return Status::Ok();
  }

  Status Add(const std::string& rel);

  Status Close() {
    if (archive_write_close(zip_.get()) != ARCHIVE_OK) return ArchiveError(zip_.get(), "zip");
    return Status::Ok();
  }

  uint64_t entries() const { return entries_; }

 private:
  Status AddLink(int dir, const std::string& leaf, const std::string& rel, size_t depth);
  Status AddFile(int dir, const std::string& leaf, const std::string& rel);
  Status WriteHeader(const std::string& rel, mode_t type, mode_t perm, int64_t size,
                     const char* link_target);
  Status CopyData(int fd, const std::string& rel, uint64_t size);

  int root_fd_;
  const ArtifactLimits& limits_;
  WriteArchive zip_{archive_write_new(), &archive_write_free};
  uint64_t entries_ = 0;
  uint64_t bytes_ = 0;
};

Status Packer::Add(const std::string& rel) {
  auto parts = SplitEntryName(rel);
  if (!parts.ok()) return parts.status();
  std::span<const std::string> all(parts.value());
  auto dir = OpenDirBeneath(root_fd_, all.first(all.size() - 1), /*create=*/false);
  if (!dir.ok()) return Refuse(rel, dir.status().message());
  const std::string& leaf = all.back();
  struct stat st;
  if (::fstatat(dir->get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return base::IoError(rel, errno);
  }
  if (S_ISLNK(st.st_mode)) return AddLink(dir->get(), leaf, rel, all.size() - 1);
  if (S_ISREG(st.st_mode)) return AddFile(dir->get(), leaf, rel);
  return Status::Ok();  // sockets, fifos, devices: not artifact content
}

Status Packer::AddLink(int dir, const std::string& leaf, const std::string& rel, size_t depth) {
  char target[PATH_MAX + 1];
  ssize_t n = ::readlinkat(dir, leaf.c_str(), target, PATH_MAX);
  if (n < 0) return base::IoError("readlink " + rel, errno);
  target[n] = '\0';
  if (!LinkStaysInside(depth, {target, static_cast<size_t>(n)})) {
    return base::InvalidInput("symlink " + rel + " -> " + target +
                              " leads outside the artifact folder; only relative links that "
                              "stay inside it can be packed");
  }
  return WriteHeader(rel, AE_IFLNK, 0777, 0, target);
}

Status Packer::AddFile(int dir, const std::string& leaf, const std::string& rel) {
  UniqueFd fd(::openat(dir, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return base::IoError(rel, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return base::IoError(rel, errno);
  if (!S_ISREG(st.st_mode)) return base::InvalidInput(rel + " changed while being packed");
  auto size = static_cast<uint64_t>(st.st_size);
  if (size > limits_.max_bytes - std::min(bytes_, limits_.max_bytes)) {
    return base::InvalidInput("artifact is over the limit of " + std::to_string(limits_.max_bytes) +
                              " bytes at " + rel);
  }
  bytes_ += size;
  mode_t perm = (st.st_mode & 0111) ? 0755 : 0644;
  Status s = WriteHeader(rel, AE_IFREG, perm, st.st_size, nullptr);
  return s.ok() ? CopyData(fd.get(), rel, size) : s;
}

Status Packer::WriteHeader(const std::string& rel, mode_t type, mode_t perm, int64_t size,
                           const char* link_target) {
  if (++entries_ > limits_.max_entries) {
    return base::InvalidInput("artifact has over " + std::to_string(limits_.max_entries) +
                              " entries");
  }
  Entry entry(archive_entry_new(), &archive_entry_free);
  archive_entry_set_pathname(entry.get(), rel.c_str());
  archive_entry_set_filetype(entry.get(), type);
  archive_entry_set_perm(entry.get(), perm);
  archive_entry_set_size(entry.get(), size);
  archive_entry_set_mtime(entry.get(), kEntryTime, 0);
  archive_entry_set_uid(entry.get(), 0);
  archive_entry_set_gid(entry.get(), 0);
  if (link_target) archive_entry_set_symlink(entry.get(), link_target);
  if (archive_write_header(zip_.get(), entry.get()) != ARCHIVE_OK) {
    return ArchiveError(zip_.get(), "zip entry " + rel);
  }
  return Status::Ok();
}

// Copies exactly size bytes, as announced in the entry header.
Status Packer::CopyData(int fd, const std::string& rel, uint64_t size) {
  std::vector<char> buf(kChunk);
  while (size > 0) {
    ssize_t n = ::read(fd, buf.data(), std::min<uint64_t>(size, buf.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return base::IoError(rel, errno);
    if (n == 0) return base::InvalidInput(rel + " shrank while being packed");
    if (archive_write_data(zip_.get(), buf.data(), static_cast<size_t>(n)) != n) {
      return ArchiveError(zip_.get(), "zip entry " + rel);
    }
    size -= static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

// Every non-folder below dir, as relative generic paths in byte order: the zip's entry order.
Result<std::vector<std::string>> ListTree(const fs::path& dir, uint64_t max_entries) {
  std::vector<std::string> out;
  std::error_code ec;
  auto it = fs::recursive_directory_iterator(dir, ec);  // does not follow folder links
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->symlink_status(ec).type() == fs::file_type::directory) continue;
    if (out.size() >= max_entries) {
      return base::InvalidInput(dir.string() + " has over " + std::to_string(max_entries) +
                                " entries");
    }
    out.push_back(it->path().lexically_relative(dir).generic_string());
  }
  if (ec) return Status(base::ErrorKind::kIo, "list " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// Removes the temp file unless it was moved into the store.
class TempFile {
 public:
  explicit TempFile(fs::path path) : path_(std::move(path)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const fs::path& path() const { return path_; }
  void Forget() { path_.clear(); }

 private:
  fs::path path_;
};

// Writes the zip of these files below root to out; the result has all but the path.
Result<StoredArtifact> PackTree(int root, const std::vector<std::string>& files, int out,
                                const ArtifactLimits& limits) {
  Digest digest(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!digest || EVP_DigestInit_ex(digest.get(), EVP_sha256(), nullptr) != 1) {
    return base::Internal("cannot start a SHA-256 digest");
  }
  HashingSink sink{.fd = out, .digest = digest.get()};
  Packer packer(root, limits);
  if (Status s = packer.Open(&sink); !s.ok()) return s;
  for (const std::string& rel : files) {
    if (Status s = packer.Add(rel); !s.ok()) return s;
  }
  if (Status s = packer.Close(); !s.ok()) return s;
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int hash_len = 0;
  if (EVP_DigestFinal_ex(digest.get(), hash, &hash_len) != 1) {
    return base::Internal("cannot finish a SHA-256 digest");
  }
  return StoredArtifact{
      .sha256 = Hex({hash, hash_len}), .size = sink.bytes, .files = packer.entries()};
}

// Same hash, same bytes: an artifact already stored is kept and the temp file dropped.
Status MoveIntoStore(TempFile& temp, const fs::path& path) {
  if (Status s = MakeDir(path.parent_path()); !s.ok()) return s;
  if (::access(path.c_str(), F_OK) == 0) return Status::Ok();
  if (::rename(temp.path().c_str(), path.c_str()) != 0) {
    return base::IoError("store " + path.string(), errno);
  }
  temp.Forget();
  return SyncDir(path.parent_path());
}

// ---- Unpacking -----------------------------------------------------------------------------

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

}  // namespace

bool IsSha256Hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

ArtifactStore::ArtifactStore(fs::path root) : ArtifactStore(std::move(root), ArtifactLimits{}) {}

ArtifactStore::ArtifactStore(fs::path root, ArtifactLimits limits)
    : root_(std::move(root)), limits_(limits) {}

fs::path ArtifactStore::PathOf(const std::string& sha256) const {
  return root_ / sha256.substr(0, 2) / (sha256 + ".zip");
}

Result<StoredArtifact> ArtifactStore::Put(const fs::path& dir) {
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) {
    if (errno == ENOENT) return base::NotFound("artifact folder " + dir.string() + " not found");
    return base::IoError(dir.string(), errno);
  }
  auto files = ListTree(dir, limits_.max_entries);
  if (!files.ok()) return files.status();

  std::error_code ec;
  fs::create_directories(root_, ec);
  if (Status s = MakeDir(root_ / "tmp"); !s.ok()) return s;
  TempFile temp(root_ / "tmp" / (base::NewUuid() + ".zip"));
  UniqueFd out(::open(temp.path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!out.valid()) return base::IoError("create " + temp.path().string(), errno);
  auto packed = PackTree(dir_fd.get(), files.value(), out.get(), limits_);
  if (!packed.ok()) return packed.status();
  if (::fsync(out.get()) != 0) return base::IoError("fsync " + temp.path().string(), errno);
  packed->path = PathOf(packed->sha256);
  if (Status s = MoveIntoStore(temp, packed->path); !s.ok()) return s;
  return packed;
}

Status ArtifactStore::Get(const std::string& sha256, const fs::path& dest) const {
  if (!IsSha256Hex(sha256)) {
    return base::InvalidInput("artifact hash \"" + sha256 + "\" is not 64 lower-case hex digits");
  }
  UniqueFd zip(::open(PathOf(sha256).c_str(), O_RDONLY | O_CLOEXEC));
  if (!zip.valid()) {
    if (errno == ENOENT) return base::NotFound("artifact " + sha256 + " not found");
    return base::IoError(PathOf(sha256).string(), errno);
  }
  std::error_code ec;
  bool created = !fs::exists(fs::symlink_status(dest, ec));
  fs::create_directories(dest, ec);
  if (ec) return Status(base::ErrorKind::kIo, "create " + dest.string() + ": " + ec.message());
  UniqueFd dest_fd(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dest_fd.valid()) return base::IoError(dest.string(), errno);
  Status s = UnpackAll(zip.get(), dest_fd.get(), limits_);
  if (!s.ok() && created) fs::remove_all(dest, ec);  // partial output of a refused artifact
  return s;
}

}  // namespace kiln::store
