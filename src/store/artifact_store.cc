// ArtifactStore: Put and Get by hash, each zip moved into the store by a temp file and a rename.
#include "store/artifact_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "base/fd.h"
#include "base/ids.h"
#include "store/artifact_zip.h"

namespace kiln::store {
namespace fs = std::filesystem;
using base::Result;
using base::Status;
using base::UniqueFd;

namespace {

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
  auto files = artifact_zip::ListTree(dir, limits_.max_entries);
  if (!files.ok()) return files.status();

  std::error_code ec;
  fs::create_directories(root_, ec);
  if (Status s = MakeDir(root_ / "tmp"); !s.ok()) return s;
  TempFile temp(root_ / "tmp" / (base::NewUuid() + ".zip"));
  UniqueFd out(::open(temp.path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!out.valid()) return base::IoError("create " + temp.path().string(), errno);
  auto packed = artifact_zip::PackTree(dir_fd.get(), files.value(), out.get(), limits_);
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
  Status s = artifact_zip::UnpackAll(zip.get(), dest_fd.get(), limits_);
  if (!s.ok() && created) fs::remove_all(dest, ec);  // partial output of a refused artifact
  return s;
}

}  // namespace kiln::store
