// One git invocation as GitMirror makes it: argv only, a minimal environment that makes git
// non-interactive and independent of the user's config, credentials only in the environment,
// and error text with every credential removed.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "source/git_mirror.h"
#include "source/git_process.h"

namespace kiln::source {

// The whole environment of a git child for options: PATH, HOME and proxy/CA/agent variables
// from ours; LC_ALL=C; prompts off (GIT_TERMINAL_PROMPT=0, askpass /bin/true, ssh BatchMode);
// system and global git config ignored; our settings (hooks off, token header) given as
// GIT_CONFIG_KEY_n/GIT_CONFIG_VALUE_n, which `ps` does not show, unlike `-c` arguments.
// A user:password@ in options.url is given as KILN_GIT_USERNAME / KILN_GIT_PASSWORD to a
// credential helper that prints them: the helper's text (visible in /proc as sh's argument)
// names the variables only, and nothing git writes to disk holds them.
std::vector<std::string> GitEnvironment(const FetchOptions& options);

// "Basic <base64(x-access-token:token)>": the header GitHub and most forges accept for a token.
std::string BasicAuthorization(const std::string& token);

// GIT_SSH_COMMAND's value. git hands it to sh, so the key path is single-quoted.
std::string SshCommand(const std::string& key_path);

// A remote URL split for git: git is given (and keeps in a mirror's config) only `url`; the
// credential that was in its user info reaches git through GitEnvironment's credential helper.
struct RemoteUrl {
  std::string url;       // without user info; ssh URLs keep their user (not a credential)
  std::string username;  // percent-decoded; https://TOKEN@host gives the token here
  std::string password;  // percent-decoded
};
RemoteUrl SplitRemoteUrl(const std::string& url);

// text with the token (raw and as the header sends it) and any URL password masked.
std::string ScrubCredentials(std::string text, const FetchOptions& options);

// Runs `git <args>` in cwd (empty: ours) with options.timeout_ms. Returns the output whatever
// the exit code; errors only when git could not run or timed out (message scrubbed).
base::Result<ProcessOutput> RunGit(const FetchOptions& options,
                                   const std::vector<std::string>& args, const std::string& cwd);

// RunGit, with a non-zero exit turned into kFailed "git <what>: <stderr>" (scrubbed, one line).
base::Result<ProcessOutput> RunGitOk(const FetchOptions& options, const std::string& what,
                                     const std::vector<std::string>& args, const std::string& cwd);

// The kFailed status for a git run that exited non-zero.
base::Status GitFailure(const FetchOptions& options, const std::string& what,
                        const ProcessOutput& output);

}  // namespace kiln::source
