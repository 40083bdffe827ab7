#include "source/git_refs.h"

#include <algorithm>
#include <cctype>

#include "source/git_command.h"

namespace kiln::source {
namespace {

// Beyond this a name is not a branch anyone pushed by hand; argv stays small.
constexpr size_t kMaxBranchBytes = 4096;

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// What we refuse before asking git: things check-ref-format cannot see or would not refuse.
const char* RefuseBeforeGit(const std::string& branch) {
  if (branch.empty()) return "is empty";
  if (branch.size() > kMaxBranchBytes) return "is too long";
  // argv is NUL-terminated: git would check a shorter name than the one we were given.
  if (branch.find('\0') != std::string::npos) return "contains NUL";
  if (branch.front() == '-') return "starts with '-'";
  return nullptr;
}

// s cut to max bytes with control characters shown as '?': error messages are one line.
std::string Printable(const std::string& s, size_t max) {
  std::string out = s.substr(0, max);
  for (char& c : out) {
    if (std::iscntrl(static_cast<unsigned char>(c))) c = '?';
  }
  return out;
}

}  // namespace

base::Status CheckBranchName(const FetchOptions& options, const std::string& branch) {
  std::string shown = "branch name \"" + Printable(branch, 200) + "\" ";
  if (const char* why = RefuseBeforeGit(branch)) return base::InvalidInput(shown + why);
  // The full refs/heads/ form, not --branch: --branch would expand @{-N} from a repository's
  // reflog, and a full ref is what we resolve.
  auto checked = RunGit(options, {"check-ref-format", "refs/heads/" + branch}, "/");
  if (!checked.ok()) return checked.status();
  if (checked->exit_code != 0) return base::InvalidInput(shown + "is not a valid git branch");
  return base::Status::Ok();
}

base::Result<std::string> NormalizeRevision(const std::string& revision) {
  bool hex = std::all_of(revision.begin(), revision.end(), IsHex);
  if (!hex || revision.size() < 4 || revision.size() > 64) {
    return base::InvalidInput("revision \"" + Printable(revision, 80) +
                              "\" is not a commit id (4 to 64 hex digits)");
  }
  std::string lower = revision;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

}  // namespace kiln::source
