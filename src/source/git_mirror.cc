#include "source/git_mirror.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/fd.h"
#include "base/ids.h"
#include "source/git_command.h"
#include "source/git_refs.h"

namespace kiln::source {
namespace fs = std::filesystem;
namespace {

// FNV-1a 64: a stable folder name for a URL, free of any character the URL holds.
std::string UrlHash(const std::string& url) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : url) h = (h ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

// Takes an exclusive flock on path (created if missing), waiting up to timeout_ms. The lock
// lasts as long as the returned fd; the OS drops it if the process dies.
base::Result<base::UniqueFd> LockFile(const fs::path& path, int64_t timeout_ms) {
  base::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return base::IoError("open " + path.string(), errno);
  int64_t deadline = base::MonotonicMillis() + timeout_ms;
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      return base::IoError("flock " + path.string(), errno);
    }
    if (base::MonotonicMillis() >= deadline) {
      return base::Status(base::ErrorKind::kFailed, "timed out waiting for " + path.string());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return fd;
}

// Half-made clones a crashed fetch left beside the mirror. Called with the lock held, so no
// live fetch owns them.
void RemoveStaleTemps(const fs::path& mirror) {
  std::string prefix = mirror.filename().string() + ".tmp-";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(mirror.parent_path(), ec)) {
    if (entry.path().filename().string().starts_with(prefix)) fs::remove_all(entry.path(), ec);
  }
}

bool Exists(const fs::path& path) {
  std::error_code ec;
  return fs::symlink_status(path, ec).type() != fs::file_type::not_found && !ec;
}

// The URL git is given and keeps: without user info (the credential goes through
// GitEnvironment's helper), so no mirror config, error or argv holds a password.
std::string CleanUrl(const FetchOptions& options) { return SplitRemoteUrl(options.url).url; }

std::string GitDir(const fs::path& repo) { return "--git-dir=" + repo.string(); }

// `git log` fields split by NUL, so any byte of a message is data.
base::Result<CommitInfo> ParseCommitFields(const std::string& out) {
  CommitInfo info;
  std::string* fields[] = {&info.commit_id, &info.author_date, &info.author_name};
  size_t at = 0;
  for (std::string* field : fields) {
    size_t nul = out.find('\0', at);
    if (nul == std::string::npos) return base::Internal("unexpected git log output");
    *field = out.substr(at, nul - at);
    at = nul + 1;
  }
  info.commit_message = out.substr(at);
  // git stores messages with a final newline; CodePipeline's CommitMessage (as the forges'
  // APIs give it) has none.
  while (info.commit_message.ends_with('\n')) info.commit_message.pop_back();
  return info;
}

// Clones into a temporary folder and renames it into place, so the mirror's folder exists
// only when complete: a crash leaves a temp (removed by the next fetch), never a half mirror.
base::Status CloneMirror(const FetchOptions& options, const fs::path& mirror) {
  std::string tmp = mirror.string() + ".tmp-XXXXXX";
  if (::mkdtemp(tmp.data()) == nullptr) return base::IoError("mkdtemp " + tmp, errno);
  // --no-hardlinks: a local source's object files are not shared with (or through) us.
  auto cloned = RunGitOk(
      options, "clone",
      {"clone", "--mirror", "--quiet", "--no-hardlinks", "--", CleanUrl(options), tmp}, "");
  base::Status status = cloned.ok() ? base::Status::Ok() : cloned.status();
  if (status.ok() && std::rename(tmp.c_str(), mirror.c_str()) != 0) {
    status = base::IoError("rename " + tmp, errno);
  }
  std::error_code ec;
  if (!status.ok()) fs::remove_all(tmp, ec);
  return status;
}

// Mirrors made before user info was split off keep it in their config: rewritten here.
base::Status CleanRemote(const FetchOptions& options, const fs::path& mirror) {
  std::string url = CleanUrl(options);
  auto current = RunGit(options, {GitDir(mirror), "config", "--get", "remote.origin.url"}, "");
  if (!current.ok()) return current.status();
  if (current->out == url + "\n") return base::Status::Ok();
  auto set = RunGitOk(options, "config", {GitDir(mirror), "config", "remote.origin.url", url}, "");
  return set.ok() ? base::Status::Ok() : set.status();
}

base::Status NeedMirror(const FetchOptions& options, const fs::path& mirror) {
  if (Exists(mirror)) return base::Status::Ok();
  return base::NotFound("no mirror of " + CleanUrl(options) + ": fetch it first");
}

base::Result<std::string> RevParse(const FetchOptions& options, const fs::path& mirror,
                                   const std::string& ref, const std::string& what) {
  // No --quiet: it would also silence "ambiguous", which is the caller's error, not a miss.
  auto out =
      RunGit(options,
             {GitDir(mirror), "rev-parse", "--verify", "--end-of-options", ref + "^{commit}"}, "");
  if (!out.ok()) return out.status();
  if (out->exit_code != 0 && out->err.find(" is ambiguous") != std::string::npos) {
    return base::InvalidInput(what + " is ambiguous: give more hex digits");
  }
  if (out->exit_code != 0 && out->err.find("Needed a single revision") != std::string::npos) {
    return base::NotFound("no " + what + " in " + CleanUrl(options));
  }
  if (out->exit_code != 0) return GitFailure(options, "rev-parse", *out);
  std::string sha = out->out;
  while (sha.ends_with('\n')) sha.pop_back();
  return sha;
}

base::Result<std::string> ResolveBranch(const FetchOptions& options, const fs::path& mirror,
                                        const std::string& branch) {
  if (branch.empty()) return base::InvalidInput("a branch or a revision is needed");
  // The full ref: "main" must not match a tag or a refs/remotes/... of the same name (B-F5).
  return RevParse(options, mirror, "refs/heads/" + branch, "branch \"" + branch + "\"");
}

base::Result<std::string> ResolveRevision(const FetchOptions& options, const fs::path& mirror,
                                          const std::string& revision) {
  auto rev = NormalizeRevision(revision);
  if (!rev.ok()) return rev.status();
  return RevParse(options, mirror, *rev, "commit " + *rev);
}

base::Result<CommitInfo> ReadCommit(const FetchOptions& options, const fs::path& mirror,
                                    const std::string& sha) {
  auto out = RunGitOk(options, "log",
                      {GitDir(mirror), "log", "-1", "--no-show-signature",
                       "--format=format:%H%x00%aI%x00%an%x00%B", sha, "--"},
                      "");
  if (!out.ok()) return out.status();
  return ParseCommitFields(out->out);
}

// Where an export goes and what it holds.
struct ExportTarget {
  fs::path dest;    // absolute, not yet existing
  std::string sha;  // full commit id, present in the mirror
};

base::Status CloneAt(const FetchOptions& options, const fs::path& mirror,
                     const ExportTarget& target, const std::string& branch) {
  std::string repo = target.dest.string();
  // --no-hardlinks: the build owns its clone and may rewrite any file in it; the mirror's
  // objects must not be among them.
  auto cloned = RunGitOk(
      options, "clone",
      {"clone", "--quiet", "--no-checkout", "--no-hardlinks", "--", mirror.string(), repo}, "");
  if (!cloned.ok()) return cloned.status();
  std::vector<std::string> checkout = {"-C", repo, "checkout", "--quiet"};
  if (branch.empty()) {
    checkout.insert(checkout.end(), {"--detach", target.sha, "--"});
  } else {
    checkout.insert(checkout.end(), {"-B", branch, target.sha, "--"});
  }
  auto checked_out = RunGitOk(options, "checkout", checkout, "");
  if (!checked_out.ok()) return checked_out.status();
  // Builds see where the code came from, as in CodeBuild, not our mirror's path.
  auto set_url = RunGitOk(options, "remote set-url",
                          {"-C", repo, "remote", "set-url", "--", "origin", CleanUrl(options)}, "");
  return set_url.ok() ? base::Status::Ok() : set_url.status();
}

// Checks what both exports need before anything is written.
base::Result<ExportTarget> PrepareExport(const FetchOptions& options, const fs::path& mirror,
                                         const std::string& commit, const fs::path& dest) {
  if (auto s = NeedMirror(options, mirror); !s.ok()) return s;
  auto sha = ResolveRevision(options, mirror, commit);
  if (!sha.ok()) return sha.status();
  std::error_code ec;
  fs::path target = fs::absolute(dest, ec);
  if (ec) return base::IoError("absolute " + dest.string(), ec.value());
  if (Exists(target)) return base::InvalidInput(target.string() + " already exists");
  return ExportTarget{.dest = target, .sha = *sha};
}

// git archive, as the forges build their source archives (export-ignore honoured), unpacked
// by GNU tar, which refuses members with "..", strips leading '/' and defers symlinks until
// the end, so nothing is written through one: nothing lands outside dest.
// True if some component of path is empty, "." or "..".
bool HasUnsafeComponent(std::string_view path) {
  for (size_t start = 0;;) {
    size_t slash = path.find('/', start);
    std::string_view part = path.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return true;
    if (slash == std::string_view::npos) return false;
    start = slash + 1;
  }
}

// A forged tree (git accepts one unless fsck is on) can name "../x", or hold a symlink and a
// folder of the same name so that a later file is written through the link. Such a tree is
// refused before anything is extracted, whatever tar would do with it.
base::Status CheckTreeIsSafe(const FetchOptions& options, const fs::path& mirror,
                             const std::string& sha) {
  auto out = RunGit(options, {GitDir(mirror), "ls-tree", "-r", "-t", "-z", "--full-tree", sha}, "");
  if (!out.ok()) return out.status();
  if (out->exit_code != 0) return GitFailure(options, "ls-tree", *out);
  std::set<std::string> links;
  std::vector<std::string> paths;
  for (size_t pos = 0; pos < out->out.size();) {
    size_t end = out->out.find('\0', pos);
    std::string_view entry(out->out.data() + pos,
                           (end == std::string::npos ? out->out.size() : end) - pos);
    pos = end == std::string::npos ? out->out.size() : end + 1;
    size_t tab = entry.find('\t');
    if (tab == std::string_view::npos) continue;
    std::string path(entry.substr(tab + 1));
    if (HasUnsafeComponent(path)) {
      return base::Status(base::ErrorKind::kFailed,
                          "the commit's tree has an unsafe path: " + path);
    }
    if (entry.starts_with("120000 ")) links.insert(path);
    paths.push_back(std::move(path));
  }
  for (const auto& path : paths) {
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      if (links.contains(path.substr(0, slash))) {
        return base::Status(
            base::ErrorKind::kFailed,
            "the commit's tree writes " + path + " through the symlink " + path.substr(0, slash));
      }
    }
  }
  return base::Status::Ok();
}

base::Status ExtractTree(const FetchOptions& options, const fs::path& mirror,
                         const ExportTarget& target) {
  if (auto st = CheckTreeIsSafe(options, mirror, target.sha); !st.ok()) return st;
  std::error_code ec;
  if (!fs::create_directory(target.dest, ec)) {
    return base::IoError("create " + target.dest.string(), ec.value());
  }
  auto out = RunPiped({"git", GitDir(mirror), "archive", "--format=tar", target.sha},
                      {"tar", "-x", "-f", "/dev/fd/3", "-C", target.dest.string(),
                       "--no-same-owner", "--no-overwrite-dir"},
                      GitEnvironment(options), "", {.timeout_ms = options.timeout_ms});
  if (!out.ok()) return out.status();
  if (out->exit_code != 0) return GitFailure(options, "archive", *out);
  return base::Status::Ok();
}

}  // namespace

GitMirror::GitMirror(fs::path mirrors_root) : root_(std::move(mirrors_root)) {
  std::error_code ec;
  fs::path absolute = fs::absolute(root_, ec);
  if (!ec) root_ = absolute;  // git runs in other folders; relative paths would move
}

// Named after the URL without user info: the folder name must not derive from a password.
fs::path GitMirror::MirrorPath(const std::string& url) const {
  return root_ / (UrlHash(SplitRemoteUrl(url).url) + ".git");
}

// Before user info was split off, a mirror was named after the whole URL: such a mirror is
// moved to its new name (called with the new name's lock held).
void GitMirror::AdoptLegacyMirror(const std::string& url, const fs::path& mirror) const {
  fs::path legacy = root_ / (UrlHash(url) + ".git");
  if (legacy == mirror || Exists(mirror) || !Exists(legacy)) return;
  auto lock = LockFile(legacy.string() + ".lock", 0);
  if (!lock.ok()) return;  // a fetch of the old kind is running: clone afresh instead
  std::error_code ec;
  fs::rename(legacy, mirror, ec);
  fs::remove(legacy.string() + ".lock", ec);
}

base::Status GitMirror::Fetch(const FetchOptions& options) {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) return base::IoError("create " + root_.string(), ec.value());
  fs::path mirror = MirrorPath(options.url);
  auto lock = LockFile(mirror.string() + ".lock", options.timeout_ms);
  if (!lock.ok()) return lock.status();
  RemoveStaleTemps(mirror);
  AdoptLegacyMirror(options.url, mirror);
  if (Exists(mirror)) {
    if (auto st = CleanRemote(options, mirror); !st.ok()) return st;
    auto fetched =
        RunGitOk(options, "fetch", {GitDir(mirror), "fetch", "--prune", "--quiet", "origin"}, "");
    return fetched.ok() ? base::Status::Ok() : fetched.status();
  }
  return CloneMirror(options, mirror);
}

base::Result<CommitInfo> GitMirror::Resolve(const FetchOptions& options, const std::string& branch,
                                            const std::string& revision) {
  fs::path mirror = MirrorPath(options.url);
  if (auto s = NeedMirror(options, mirror); !s.ok()) return s;
  if (!branch.empty()) {
    if (auto s = CheckBranchName(options, branch); !s.ok()) return s;
  }
  auto sha = revision.empty() ? ResolveBranch(options, mirror, branch)
                              : ResolveRevision(options, mirror, revision);
  if (!sha.ok()) return sha.status();
  auto info = ReadCommit(options, mirror, *sha);
  if (!info.ok()) return info;
  info->branch_name = branch;
  info->full_repository_name = RepositoryNameFromUrl(options.url);
  return info;
}

base::Status GitMirror::ExportTree(const FetchOptions& options, const std::string& commit,
                                   const fs::path& dest) {
  fs::path mirror = MirrorPath(options.url);
  auto target = PrepareExport(options, mirror, commit, dest);
  if (!target.ok()) return target.status();
  base::Status status = ExtractTree(options, mirror, *target);
  std::error_code ec;
  if (!status.ok()) fs::remove_all(target->dest, ec);
  return status;
}

base::Status GitMirror::ExportClone(const FetchOptions& options, const std::string& commit,
                                    const std::string& branch, const fs::path& dest) {
  if (!branch.empty()) {
    if (auto s = CheckBranchName(options, branch); !s.ok()) return s;
  }
  fs::path mirror = MirrorPath(options.url);
  auto target = PrepareExport(options, mirror, commit, dest);
  if (!target.ok()) return target.status();
  base::Status status = CloneAt(options, mirror, *target, branch);
  std::error_code ec;
  if (!status.ok()) fs::remove_all(target->dest, ec);
  return status;
}

}  // namespace kiln::source
