#include "exec/scratch_dir.h"

#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kiln::exec {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    bool octal = s[i] == '\\' && i + 3 < s.size();
    if (octal && std::isdigit(s[i + 1]) && std::isdigit(s[i + 2]) && std::isdigit(s[i + 3])) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> MountsUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, target;
    if (!(fields >> id >> parent >> dev >> root >> target)) continue;
    target = Unescape(target);
    if (target == dir || target.starts_with(dir + "/")) out.push_back(target);
  }
  std::sort(out.begin(), out.end(), std::greater<>());  // children sort after their parents
  return out;
}

base::Result<ScratchDir> ScratchDir::Create(const std::string& parent, const std::string& prefix) {
  std::string base = parent;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp && *tmp ? tmp : "/tmp";
  }
  std::string pattern = base + "/" + prefix + "XXXXXX";
  if (!::mkdtemp(pattern.data())) return base::IoError("mkdtemp " + pattern, errno);
  // Mount points in /proc/self/mountinfo are canonical: so must the path be that is matched.
  std::error_code ec;
  auto canonical = std::filesystem::canonical(pattern, ec);
  return ScratchDir(ec ? pattern : canonical.string());
}

ScratchDir::ScratchDir(ScratchDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  for (const auto& m : MountsUnder(path_)) ::umount2(m.c_str(), MNT_DETACH);
  // Removing through a mount still there would delete the host's files under it: leave it.
  if (!MountsUnder(path_).empty()) {
    std::fprintf(stderr, "kiln: left %s in place: something is still mounted under it\n",
                 path_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec)
    std::fprintf(stderr, "kiln: could not remove %s: %s\n", path_.c_str(), ec.message().c_str());
}

}  // namespace kiln::exec
