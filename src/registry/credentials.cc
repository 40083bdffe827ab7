#include "registry/credentials.h"

#include <crypt.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <memory>
#include <optional>
#include <vector>

#include "base/fd.h"
#include "base/files.h"
#include "base/hex.h"

namespace kiln::registry {
namespace fs = std::filesystem;
namespace {

constexpr int kBcryptCost = 5;  // docker-registry checks every request: keep it cheap
constexpr size_t kPasswordBytes = 32;

// Reads the stored password and its age; nullopt when there is none.
struct Stored {
  std::string password;
  int64_t mtime = 0;
};
std::optional<Stored> ReadStored(const Paths& paths) {
  struct stat st {};
  if (::stat(paths.password().c_str(), &st) != 0) return std::nullopt;
  auto text = base::ReadFile(paths.password(), 4096);
  if (!text.ok() || text->size() < kPasswordBytes) return std::nullopt;
  return Stored{*text, static_cast<int64_t>(st.st_mtim.tv_sec)};
}

// True if htpasswd already holds user AWS with a hash of password.
bool HtpasswdMatches(const Paths& paths, const std::string& password) {
  auto text = base::ReadFile(paths.htpasswd(), 4096);
  std::string prefix = std::string(kUsername) + ":";
  if (!text.ok() || !text->starts_with(prefix)) return false;
  std::string hash = text->substr(prefix.size());
  if (size_t nl = hash.find('\n'); nl != std::string::npos) hash.resize(nl);
  return CheckHash(password, hash);
}

// Holds an exclusive flock on the lock file while alive.
class FileLock {
 public:
  explicit FileLock(const fs::path& path)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    while (fd_.valid() && ::flock(fd_.get(), LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  bool ok() const { return fd_.valid(); }

 private:
  base::UniqueFd fd_;  // closing it releases the lock
};

}  // namespace

Paths PathsUnder(const fs::path& state_dir) { return Paths{state_dir / "registry"}; }

base::Result<std::string> RandomHex(size_t n) {
  std::vector<unsigned char> bytes(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::getrandom(bytes.data() + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return base::IoError("getrandom", errno);
    got += static_cast<size_t>(r);
  }
  return base::HexEncode(std::span<const unsigned char>(bytes));
}

base::Result<std::string> BcryptHash(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  // A null rbytes makes libxcrypt take the salt's randomness from the OS.
  if (!::crypt_gensalt_rn("$2b$", kBcryptCost, nullptr, 0, salt, sizeof salt)) {
    return base::IoError("crypt_gensalt_rn", errno);
  }
  auto data = std::make_unique<crypt_data>();
  const char* hash = ::crypt_r(password.c_str(), salt, data.get());
  if (!hash || hash[0] == '*') return base::Internal("bcrypt failed");
  return std::string(hash);
}

bool CheckHash(const std::string& password, const std::string& hash) {
  if (hash.empty()) return false;
  auto data = std::make_unique<crypt_data>();
  const char* out = ::crypt_r(password.c_str(), hash.c_str(), data.get());
  return out && out[0] != '*' && hash == out;
}

base::Status WritePrivateFile(const fs::path& path, std::string_view data) {
  fs::path tmp = path;
  tmp += ".tmp" + std::to_string(::getpid());
  base::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return base::IoError("create " + tmp.string(), errno);
  if (!base::WriteAll(fd.get(), data.data(), data.size()) || ::fsync(fd.get()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return base::IoError("write " + tmp.string(), err);
  }
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return base::IoError("rename " + tmp.string(), err);
  }
  return base::Status::Ok();
}

base::Status WriteHtpasswd(const fs::path& path, const std::string& user,
                           const std::string& password) {
  auto hash = BcryptHash(password);
  if (!hash.ok()) return hash.status();
  return WritePrivateFile(path, user + ":" + *hash + "\n");
}

base::Status MakePrivateDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return base::IoError("create " + dir.string(), ec.value());
  if (::chmod(dir.c_str(), 0700) != 0) return base::IoError("chmod " + dir.string(), errno);
  return base::Status::Ok();
}

base::Result<std::string> CurrentPassword(const Paths& paths, int64_t now_seconds,
                                          int64_t max_age_seconds) {
  if (auto st = MakePrivateDir(paths.dir); !st.ok()) return st;
  FileLock lock(paths.lock());
  if (!lock.ok()) return base::IoError("open " + paths.lock().string(), errno);
  std::optional<Stored> stored = ReadStored(paths);
  if (!stored || now_seconds - stored->mtime >= max_age_seconds || now_seconds < stored->mtime) {
    auto fresh = RandomHex(kPasswordBytes);
    if (!fresh.ok()) return fresh.status();
    // htpasswd first: a build never gets a password the registry does not know yet.
    if (auto st = WriteHtpasswd(paths.htpasswd(), kUsername, *fresh); !st.ok()) return st;
    if (auto st = WritePrivateFile(paths.password(), *fresh); !st.ok()) return st;
    return std::move(*fresh);
  }
  if (!HtpasswdMatches(paths, stored->password)) {
    if (auto st = WriteHtpasswd(paths.htpasswd(), kUsername, stored->password); !st.ok()) return st;
  }
  return std::move(stored->password);
}

base::Result<std::string> CurrentPassword(const Paths& paths) {
  return CurrentPassword(paths, static_cast<int64_t>(std::time(nullptr)));
}

}  // namespace kiln::registry
