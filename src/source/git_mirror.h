// Git sources through the real `git` CLI: one bare mirror per repository under the state dir
// (fetched, never re-cloned), from which a wanted branch or commit is exported.
// Branch names, refs and commit messages are data, never shell: git is run with an argv
// (no shell), refs are validated with `git check-ref-format`, and "--" ends options.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "base/status.h"

namespace kiln::source {

// CodePipeline's source action output variables (CodeStarSourceConnection).
struct CommitInfo {
  std::string commit_id;       // full sha
  std::string commit_message;  // full message
  std::string branch_name;
  std::string author_date;  // ISO 8601 (strict), as git prints %aI
  std::string author_name;
  std::string full_repository_name;  // e.g. "acme/cruddur" from the URL, else the path's name
};

struct FetchOptions {
  std::string url;           // https, ssh, file://, or a local path
  std::string token;         // optional: https auth (never logged; given to git through
                             // an environment-only credential helper / header)
  std::string ssh_key_path;  // optional: GIT_SSH_COMMAND with this identity
  int64_t timeout_ms = 10 * 60 * 1000;
};

class GitMirror {
 public:
  // mirrors_root: <state>/git. The mirror's folder is derived from a hash of the URL.
  explicit GitMirror(std::filesystem::path mirrors_root);

  // Creates the bare mirror on first use (git clone --mirror / init --bare + fetch), else
  // fetches into it. A user:password@ in the URL is never given to git in the URL: the
  // mirror's config holds the URL without it (an older mirror's config is rewritten). Concurrent
  // fetches of one mirror from several processes are serialised with a lock file (flock). Errors
  // carry git's stderr (with any credential removed).
  base::Status Fetch(const FetchOptions& options);

  // Resolves a branch name (refs/heads/<branch>) or a commit sha (full or abbreviated, must
  // exist in the mirror) to its commit and metadata. kNotFound for an unknown branch/commit;
  // kInvalidInput for a ref that git refuses (check-ref-format) or that starts with '-'.
  base::Result<CommitInfo> Resolve(const FetchOptions& options, const std::string& branch,
                                   const std::string& revision = "");

  // Writes the commit's tree (no .git) into dest, which must not exist: CODE_ZIP's content.
  base::Status ExportTree(const FetchOptions& options, const std::string& commit,
                          const std::filesystem::path& dest);

  // Makes dest a clone (with .git, HEAD detached at commit, branch set when given):
  // CODEBUILD_CLONE_REF's content. Cloned from the mirror with --shared-free local objects.
  base::Status ExportClone(const FetchOptions& options, const std::string& commit,
                           const std::string& branch, const std::filesystem::path& dest);

  // The mirror's folder for url (named after the url without its user info).
  std::filesystem::path MirrorPath(const std::string& url) const;

 private:
  void AdoptLegacyMirror(const std::string& url, const std::filesystem::path& mirror) const;
  std::filesystem::path root_;
};

// "owner/repo" from https://host/owner/repo(.git), git@host:owner/repo(.git), else the last
// path component without .git.
std::string RepositoryNameFromUrl(const std::string& url);

}  // namespace kiln::source
