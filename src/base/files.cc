#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/fd.h"
#include "base/ids.h"

namespace kiln::base {
namespace fs = std::filesystem;

Result<std::string> ReadFile(const fs::path& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return IoError(path.string(), errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return IoError(path.string(), errno);
  if (S_ISDIR(st.st_mode)) return InvalidInput(path.string() + ": is a directory");
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return InvalidInput(path.string() + ": file is " + std::to_string(st.st_size) +
                        " bytes, over the limit of " + std::to_string(max_bytes));
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError(path.string(), errno);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) return InvalidInput(path.string() + ": file over the size limit");
  }
  return out;
}

Status WriteFileAtomic(const fs::path& path, std::string_view data, Durability durability) {
  fs::path tmp = path;
  tmp += ".tmp-" + NewUuid();
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return IoError(tmp.string(), errno);
  if (!WriteAll(fd.get(), data.data(), data.size()) ||
      (durability == Durability::kSync && ::fsync(fd.get()) != 0)) {
    int err = errno;
    ::unlink(tmp.c_str());
    return IoError(tmp.string(), err);
  }
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return IoError(path.string(), err);
  }
  return Status::Ok();
}

Status CopyTree(const fs::path& from, const fs::path& to, const std::vector<fs::path>& exclude) {
  std::error_code ec;
  std::vector<fs::path> skip;
  for (const auto& e : exclude) skip.push_back(fs::weakly_canonical(e, ec));
  fs::create_directories(to, ec);
  if (ec) return Status(ErrorKind::kIo, "create " + to.string() + ": " + ec.message());
  auto it = fs::recursive_directory_iterator(from, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& src = it->path();
    if (std::find(skip.begin(), skip.end(), src) != skip.end()) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    fs::path dst = to / fs::relative(src, from);
    if (it->is_symlink()) {
      fs::copy_symlink(src, dst, ec);
    } else if (it->is_directory()) {
      fs::create_directory(dst, ec);
    } else {
      fs::copy_file(src, dst, ec);
    }
    if (ec) return Status(ErrorKind::kIo, "copy " + src.string() + ": " + ec.message());
  }
  if (ec) return Status(ErrorKind::kIo, "copy " + from.string() + ": " + ec.message());
  return Status::Ok();
}

namespace {

Status RestrictOne(const fs::path& path, fs::file_status status) {
  if (fs::is_symlink(status)) return Status::Ok();
  auto mode = static_cast<mode_t>(status.permissions());
  if ((mode & 077) == 0) return Status::Ok();
  // NOFOLLOW: if the entry became a link since it was listed, the link's target is not ours to
  // change (the call then fails with EOPNOTSUPP, which is no harm).
  if (::fchmodat(AT_FDCWD, path.c_str(), mode & 07700, AT_SYMLINK_NOFOLLOW) != 0 &&
      errno != EOPNOTSUPP && errno != ENOENT) {
    return IoError("chmod " + path.string(), errno);
  }
  return Status::Ok();
}

}  // namespace

Status RemoveGroupOtherBits(const fs::path& root,
                            const std::function<bool(const fs::path&)>& skip_contents) {
  std::error_code ec;
  if (Status s = RestrictOne(root, fs::symlink_status(root, ec)); !s.ok() || ec) {
    return ec ? IoError(root.string(), ec.value()) : s;
  }
  auto it = fs::recursive_directory_iterator(root, ec);  // never follows directory links
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    fs::file_status status = it->symlink_status(ec);
    if (ec) break;
    if (Status s = RestrictOne(it->path(), status); !s.ok()) return s;
    if (fs::is_directory(status) && skip_contents && skip_contents(it->path())) {
      it.disable_recursion_pending();
    }
  }
  return ec ? IoError(root.string(), ec.value()) : Status::Ok();
}

bool IsInside(const fs::path& root, const fs::path& path) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(root, ec);
  if (ec) return false;
  fs::path p = fs::weakly_canonical(path, ec);
  if (ec) return false;
  auto [ri, pi] = std::mismatch(r.begin(), r.end(), p.begin(), p.end());
  return ri == r.end();
}

}  // namespace kiln::base
