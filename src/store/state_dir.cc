#include "store/state_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/fd.h"
#include "base/files.h"

namespace kiln::store {
namespace fs = std::filesystem;
namespace {

// Written after a complete pass; its absence means files of an older Kiln may remain.
constexpr char kMarker[] = ".modes-private";

// Folders whose contents belong to a build or a task: workspaces/<x>, server-builds/<x>,
// executions/<x> (pipeline work dirs) and services/<service>/tasks/<x>.
bool IsWorkspace(const fs::path& dir, const fs::path& root) {
  std::vector<std::string> parts;
  for (const auto& part : dir.lexically_relative(root)) parts.push_back(part.string());
  if (parts.size() == 2) {
    return parts[0] == "workspaces" || parts[0] == "server-builds" || parts[0] == "executions";
  }
  return parts.size() == 4 && parts[0] == "services" && parts[2] == "tasks";
}

base::Status WriteMarker(const fs::path& dir) {
  base::UniqueFd fd(::open((dir / kMarker).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  return fd.valid() ? base::Status::Ok() : base::IoError((dir / kMarker).string(), errno);
}

}  // namespace

base::Status SecureStateDir(const fs::path& dir, ModeCheck check) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return base::IoError("create " + dir.string(), ec.value());
  if (check == ModeCheck::kOnce && fs::exists(dir / kMarker, ec)) return base::Status::Ok();
  fs::path root = fs::absolute(dir, ec);
  if (ec) return base::IoError(dir.string(), ec.value());
  auto skip = [&root](const fs::path& p) { return IsWorkspace(p, root); };
  if (auto st = base::RemoveGroupOtherBits(root, skip); !st.ok()) return st;
  return WriteMarker(root);
}

}  // namespace kiln::store
