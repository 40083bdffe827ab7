#include "server/local_token.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/fd.h"
#include "base/files.h"
#include "base/hex.h"
#include "base/json_text.h"

namespace kiln::server {
namespace fs = std::filesystem;

namespace {

constexpr size_t kTokenBytes = 32;

bool IsHexToken(const std::string& text) {
  if (text.size() != kTokenBytes * 2) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

base::Result<std::string> NewToken() {
  unsigned char raw[kTokenBytes];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    return base::Internal("cannot make a random token (OpenSSL RAND_bytes failed)");
  }
  return base::HexEncode(raw);
}

// Writes data to path with mode 0600 from the start (never readable by others, whatever the
// umask), through a temp file renamed over path.
base::Status WritePrivate(const fs::path& path, const std::string& data) {
  fs::path tmp = path;
  tmp += ".tmp";
  ::unlink(tmp.c_str());
  base::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return base::IoError("create " + tmp.string(), errno);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return base::IoError("write " + tmp.string(), errno);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return base::IoError("fsync " + tmp.string(), errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return base::IoError("rename " + tmp.string(), errno);
  }
  return base::Status::Ok();
}

}  // namespace

base::Result<std::string> LoadOrCreateLocalToken(const fs::path& state_dir) {
  fs::path path = state_dir / kLocalTokenFile;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return base::IoError("stat " + path.string(), errno);
    return RotateLocalToken(state_dir);
  }
  if (!S_ISREG(st.st_mode)) return base::InvalidInput(path.string() + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    return base::InvalidInput(path.string() + " may be read by others (mode " +
                              std::to_string(st.st_mode & 0777) +
                              "): remove it; kiln serve makes a new one");
  }
  auto text = base::ReadFile(path, 1024);
  if (!text.ok()) return text.status();
  std::string token = *text;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (!IsHexToken(token)) {
    return base::InvalidInput(path.string() +
                              " does not hold a token made by kiln serve: remove "
                              "it; kiln serve makes a new one");
  }
  return token;
}

base::Result<std::string> RotateLocalToken(const fs::path& state_dir) {
  auto token = NewToken();
  if (!token.ok()) return token;
  if (auto st = WritePrivate(state_dir / kLocalTokenFile, *token + "\n"); !st.ok()) return st;
  return token;
}

base::Status WriteServerInfo(const fs::path& state_dir, const std::string& address) {
  nlohmann::json info{{"url", "http://" + address}, {"pid", static_cast<int64_t>(::getpid())}};
  return WritePrivate(state_dir / kServerInfoFile, base::JsonText(info) + "\n");
}

}  // namespace kiln::server
