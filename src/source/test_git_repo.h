// Test helper: a real git repository that tests commit to, with their own git environment
// (fixed author and dates, no user or system config). Tests only.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "source/git_process.h"

namespace kiln::source {

// The environment of the tests' own git commands: nothing from the user's config.
inline std::vector<std::string> TestGitEnvironment(const std::filesystem::path& home) {
  const char* path = std::getenv("PATH");
  return {std::string("PATH=") + (path ? path : "/usr/bin:/bin"),
          "HOME=" + home.string(),
          "LC_ALL=C",
          "GIT_CONFIG_NOSYSTEM=1",
          "GIT_CONFIG_GLOBAL=/dev/null",
          "GIT_AUTHOR_NAME=Ada \"O'Hara\" $(touch pwned) `id`",
          "GIT_AUTHOR_EMAIL=ada@example.com",
          "GIT_AUTHOR_DATE=2024-03-05T10:11:12+01:00",
          "GIT_COMMITTER_NAME=Kiln Test",
          "GIT_COMMITTER_EMAIL=test@example.com",
          "GIT_COMMITTER_DATE=2024-03-05T10:11:12+01:00"};
}

class TestGitRepo {
 public:
  // Creates an empty repository at dir whose first branch is initial_branch.
  TestGitRepo(std::filesystem::path dir, const std::string& initial_branch) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    Git({"init", "--quiet", "--initial-branch=" + initial_branch});
  }

  const std::filesystem::path& dir() const { return dir_; }

  // Runs `git args` in the repository; throws on failure. Returns stdout without the final
  // newline.
  std::string Git(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"git"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto out = RunProcess(argv, TestGitEnvironment(dir_.parent_path()), dir_.string(), {});
    if (!out.ok() || out->exit_code != 0) {
      throw std::runtime_error("test git failed: " +
                               (out.ok() ? out->err : out.status().message()));
    }
    std::string text = out->out;
    if (text.ends_with('\n')) text.pop_back();
    return text;
  }

  void Write(const std::string& rel, const std::string& content, bool executable = false) const {
    std::filesystem::path p = dir_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    if (executable) {
      std::filesystem::permissions(p, std::filesystem::perms::owner_exec,
                                   std::filesystem::perm_options::add);
    }
  }

  // Commits everything with message kept byte for byte. Returns the new commit's sha.
  std::string CommitAll(const std::string& message) const {
    std::filesystem::path file = dir_.parent_path() / "commit-message";
    std::ofstream(file, std::ios::binary) << message;
    Git({"add", "--all"});
    Git({"commit", "--quiet", "--cleanup=verbatim", "--file=" + file.string()});
    return Git({"rev-parse", "HEAD"});
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace kiln::source
