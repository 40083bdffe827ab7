#include "source/git_command.h"

#include <cstdlib>
#include <utility>

namespace kiln::source {
namespace {

// Variables a git child keeps from our environment: where programs and ssh keys/agents are,
// and how the network is reached. Everything else (GIT_DIR, GIT_CONFIG_*, ...) is dropped so
// the caller's environment cannot redirect git.
constexpr const char* kPassedThrough[] = {
    "HOME",       "TMPDIR",        "SSH_AUTH_SOCK", "http_proxy",    "https_proxy",
    "HTTP_PROXY", "HTTPS_PROXY",   "no_proxy",      "NO_PROXY",      "all_proxy",
    "ALL_PROXY",  "SSL_CERT_FILE", "SSL_CERT_DIR",  "GIT_SSL_CAINFO"};

using ConfigList = std::vector<std::pair<std::string, std::string>>;

// Settings every run gets, whatever the repository or user config says.
ConfigList FixedConfig() {
  return {
      {"core.hooksPath", "/dev/null"},    // no repository code runs on our side
      {"credential.helper", ""},          // an empty value clears the helper list
      {"protocol.file.allow", "always"},  // local and file:// sources are supported
      {"gc.autoDetach", "false"},         // auto gc stays inside our lock and timeout
      {"advice.detachedHead", "false"},
  };
}

void AddConfig(std::vector<std::string>& env, const ConfigList& config) {
  for (size_t i = 0; i < config.size(); ++i) {
    env.push_back("GIT_CONFIG_KEY_" + std::to_string(i) + "=" + config[i].first);
    env.push_back("GIT_CONFIG_VALUE_" + std::to_string(i) + "=" + config[i].second);
  }
  env.push_back("GIT_CONFIG_COUNT=" + std::to_string(config.size()));
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

void ReplaceAll(std::string& text, const std::string& secret, const std::string& with) {
  if (secret.empty()) return;
  for (size_t at = text.find(secret); at != std::string::npos;
       at = text.find(secret, at + with.size())) {
    text.replace(at, secret.size(), with);
  }
}

// The "user:password@" part of url's authority, or "" when it has no password.
std::string UserInfoWithPassword(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t start = scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
  if (at == std::string::npos || at < start) return "";
  std::string user_info = url.substr(start, at - start + 1);
  return user_info.find(':') == std::string::npos ? "" : user_info;
}

bool IsSsh(const std::string& url) {
  return url.starts_with("ssh://") || url.starts_with("git+ssh://") ||
         url.starts_with("ssh+git://");
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// git decodes %XX in a URL's user info before using it; so do we.
std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    int hi = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
    int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
    if (text[i] == '%' && hi >= 0 && lo >= 0) {
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Prints the credential git asks for ("get"; "store" and "erase" are ignored) from the
// environment. printf, not echo: dash's echo would rewrite backslashes in a password.
constexpr char kCredentialHelper[] =
    "!f() { test \"$1\" = get || exit 0; printf 'username=%s\\npassword=%s\\n' "
    "\"$KILN_GIT_USERNAME\" \"$KILN_GIT_PASSWORD\"; }; f";

// Beyond this, only the end of git's stderr is kept: that is where "fatal: ..." is.
constexpr size_t kMaxDetail = 1000;

// git's stderr as one line of plain text: Status messages are one line, and a server's
// "remote:" lines may carry terminal escapes meant for whoever reads the error.
std::string OneLine(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  size_t end = text.find_last_not_of(' ');
  text.resize(end == std::string::npos ? 0 : end + 1);
  if (text.size() > kMaxDetail) text = "..." + text.substr(text.size() - kMaxDetail);
  return text;
}

}  // namespace

std::vector<std::string> GitEnvironment(const FetchOptions& options) {
  const char* path = std::getenv("PATH");
  std::vector<std::string> env = {
      std::string("PATH=") + (path ? path : "/usr/local/bin:/usr/bin:/bin"),
      "LC_ALL=C",
      "GIT_TERMINAL_PROMPT=0",
      "GIT_ASKPASS=/bin/true",
      "SSH_ASKPASS=/bin/true",
      "GIT_CONFIG_NOSYSTEM=1",
      "GIT_CONFIG_GLOBAL=/dev/null",
      "GIT_SSH_COMMAND=" + SshCommand(options.ssh_key_path),
  };
  for (const char* name : kPassedThrough) {
    if (const char* value = std::getenv(name)) env.push_back(std::string(name) + "=" + value);
  }
  auto config = FixedConfig();
  if (!options.token.empty()) {
    config.emplace_back("http.extraHeader", "Authorization: " + BasicAuthorization(options.token));
  }
  RemoteUrl remote = SplitRemoteUrl(options.url);
  // A line break would add attributes to the credential protocol: such a one is not given.
  bool usable = (remote.username + remote.password).find_first_of("\n", 0) == std::string::npos;
  if (usable && !(remote.username.empty() && remote.password.empty())) {
    config.emplace_back("credential.helper", kCredentialHelper);
    env.push_back("KILN_GIT_USERNAME=" + remote.username);
    env.push_back("KILN_GIT_PASSWORD=" + remote.password);
  }
  AddConfig(env, config);
  return env;
}

std::string BasicAuthorization(const std::string& token) {
  return "Basic " + Base64("x-access-token:" + token);
}

std::string SshCommand(const std::string& key_path) {
  std::string command = "ssh";
  if (!key_path.empty()) {
    std::string quoted = key_path;
    ReplaceAll(quoted, "'", "'\\''");
    command += " -i '" + quoted + "' -o IdentitiesOnly=yes";
  }
  // BatchMode: ssh reads passphrases and host-key answers from /dev/tty, not stdin.
  return command + " -o BatchMode=yes";
}

RemoteUrl SplitRemoteUrl(const std::string& url) {
  RemoteUrl out{.url = url};
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return out;  // a path, or scp-like git@host:path
  size_t start = scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
  if (at == std::string::npos || at < start) return out;
  std::string_view info(url.data() + start, at - start);
  size_t colon = info.find(':');
  out.username = PercentDecode(info.substr(0, colon));
  if (colon != std::string_view::npos) out.password = PercentDecode(info.substr(colon + 1));
  if (IsSsh(url)) {  // ssh://git@host: the user picks the account, the key is the credential
    out.url = url.substr(0, start) + std::string(info.substr(0, colon)) + url.substr(at);
    out.username.clear();
    out.password.clear();
  } else {
    out.url = url.substr(0, start) + url.substr(at + 1);
  }
  return out;
}

std::string ScrubCredentials(std::string text, const FetchOptions& options) {
  if (!options.token.empty()) {
    ReplaceAll(text, BasicAuthorization(options.token), "Basic ***");
    ReplaceAll(text, options.token, "***");
  }
  RemoteUrl remote = SplitRemoteUrl(options.url);
  ReplaceAll(text, remote.password, "***");  // git never sees it; our own messages might
  std::string user_info = UserInfoWithPassword(options.url);
  if (!user_info.empty()) {
    ReplaceAll(text, user_info, user_info.substr(0, user_info.find(':')) + ":***@");
  }
  return text;
}

base::Result<ProcessOutput> RunGit(const FetchOptions& options,
                                   const std::vector<std::string>& args, const std::string& cwd) {
  std::vector<std::string> argv = {"git"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto output = RunProcess(argv, GitEnvironment(options), cwd, {.timeout_ms = options.timeout_ms});
  if (!output.ok()) {
    const base::Status& s = output.status();
    return base::Status(s.kind(), ScrubCredentials(s.message(), options));
  }
  return output;
}

base::Result<ProcessOutput> RunGitOk(const FetchOptions& options, const std::string& what,
                                     const std::vector<std::string>& args, const std::string& cwd) {
  auto output = RunGit(options, args, cwd);
  if (!output.ok()) {
    return base::Status(output.status().kind(), "git " + what + ": " + output.status().message());
  }
  if (output->exit_code != 0) return GitFailure(options, what, *output);
  return output;
}

base::Status GitFailure(const FetchOptions& options, const std::string& what,
                        const ProcessOutput& output) {
  std::string detail = OneLine(ScrubCredentials(output.err, options));
  if (detail.empty()) detail = "exit code " + std::to_string(output.exit_code);
  return {base::ErrorKind::kFailed, "git " + what + ": " + detail};
}

}  // namespace kiln::source
