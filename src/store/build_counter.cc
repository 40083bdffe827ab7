#include "store/build_counter.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "base/fd.h"

namespace kiln::store {
namespace fs = std::filesystem;

base::Result<int64_t> NextBuildNumber(const fs::path& state_dir, const std::string& project) {
  fs::path dir = state_dir / "counters";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return base::IoError(dir.string(), ec.value());
  fs::path file = dir / (project + ".build-number");
  base::UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return base::IoError(file.string(), errno);
  if (::flock(fd.get(), LOCK_EX) != 0) return base::IoError(file.string(), errno);
  char buf[32] = {};
  ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
  if (n < 0) return base::IoError(file.string(), errno);
  int64_t current = 0;
  std::from_chars(buf, buf + n, current);
  std::string next = std::to_string(current + 1) + "\n";
  if (::pwrite(fd.get(), next.data(), next.size(), 0) != static_cast<ssize_t>(next.size()) ||
      ::ftruncate(fd.get(), static_cast<off_t>(next.size())) != 0) {
    return base::IoError(file.string(), errno);
  }
  return current + 1;
}

}  // namespace kiln::store
