// A private temporary directory removed with everything in it, even after a tool such as
// debootstrap failed half-way and left /proc or /sys mounted inside.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::exec {

class ScratchDir {
 public:
  // mkdtemp(parent/prefixXXXXXX), mode 0700. An empty parent means $TMPDIR, else /tmp.
  static base::Result<ScratchDir> Create(const std::string& parent, const std::string& prefix);
  ScratchDir(ScratchDir&& o) noexcept;
  ScratchDir& operator=(ScratchDir&&) = delete;
  ScratchDir(const ScratchDir&) = delete;
  ~ScratchDir();

  const std::string& path() const { return path_; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// The mount points at or under dir (from /proc/self/mountinfo), deepest first.
std::vector<std::string> MountsUnder(const std::string& dir);

}  // namespace kiln::exec
