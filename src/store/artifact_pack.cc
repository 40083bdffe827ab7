// Packing: a tree's files written as a deterministic zip, hashed with SHA-256 on the way.
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
#include <vector>

#include "base/fd.h"
#include "base/hex.h"
#include "store/artifact_zip.h"

namespace kiln::store::artifact_zip {
namespace fs = std::filesystem;
using base::Result;
using base::Status;
using base::UniqueFd;

namespace {

// 1970 maps to the DOS time 1980-01-01 00:00 in every time zone, so the zip (and its hash)
// does not depend on the packing host's TZ; a 1980 time would.
constexpr time_t kEntryTime = 0;

using WriteArchive = std::unique_ptr<archive, decltype(&archive_write_free)>;
using Entry = std::unique_ptr<archive_entry, decltype(&archive_entry_free)>;
using Digest = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

std::string Hex(std::span<const unsigned char> bytes) { return base::HexEncode(bytes); }

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

}  // namespace

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

}  // namespace kiln::store::artifact_zip
