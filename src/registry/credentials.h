// The login credentials of the registry Kiln runs (ECR's stand-in): user AWS and a random
// password kept under <state>/registry/, given to docker-registry as a bcrypt htpasswd file.
// Like an ECR authorization token, the password lasts 12 hours: asked for after that, it is
// replaced, and the registry (which re-reads htpasswd when it changes) takes the new one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kiln::registry {

inline constexpr char kUsername[] = "AWS";
inline constexpr int64_t kPasswordMaxAgeSeconds = 12 * 60 * 60;

// Where the registry's files live: <state>/registry/ (0700; files 0600).
struct Paths {
  std::filesystem::path dir;
  std::filesystem::path password() const { return dir / "password"; }
  std::filesystem::path htpasswd() const { return dir / "htpasswd"; }
  std::filesystem::path config() const { return dir / "config.yml"; }
  std::filesystem::path data() const { return dir / "data"; }
  std::filesystem::path log() const { return dir / "registry.log"; }
  std::filesystem::path lock() const { return dir / "lock"; }
  std::filesystem::path pid() const { return dir / "registry.pid"; }  // "<pid> <tree token>"
};
Paths PathsUnder(const std::filesystem::path& state_dir);

// n bytes from the OS RNG (getrandom), as lowercase hex.
base::Result<std::string> RandomHex(size_t n);

// bcrypt ($2b$, cost 5) of password, as htpasswd holds it.
base::Result<std::string> BcryptHash(const std::string& password);
// True if password matches hash (any crypt(3) hash libxcrypt knows).
bool CheckHash(const std::string& password, const std::string& hash);

// Writes data to path through a temp file and a rename, mode 0600: a reader (docker-registry,
// a build) sees the old file or the whole new one.
base::Status WritePrivateFile(const std::filesystem::path& path, std::string_view data);

// Writes "user:bcrypt\n" to path atomically.
base::Status WriteHtpasswd(const std::filesystem::path& path, const std::string& user,
                           const std::string& password);

// The current login password for user AWS: the stored one, or a new one when there is none or
// it is older than max_age_seconds at now_seconds (Unix time). Also makes htpasswd match it,
// so a crash between the two writes heals at the next call. Serialised across processes
// (kiln serve and kiln build share the state dir) by a lock file.
base::Result<std::string> CurrentPassword(const Paths& paths, int64_t now_seconds,
                                          int64_t max_age_seconds = kPasswordMaxAgeSeconds);
// The same at the current time.
base::Result<std::string> CurrentPassword(const Paths& paths);

// Creates dir (and its parents) and makes it 0700.
base::Status MakePrivateDir(const std::filesystem::path& dir);

}  // namespace kiln::registry
