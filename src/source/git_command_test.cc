#include "source/git_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <sstream>

#include "base/test_tree.h"

namespace kiln::source {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(BasicAuthorization, IsBase64OfTheGitHubTokenUser) {
  EXPECT_EQ(BasicAuthorization("abc"), "Basic eC1hY2Nlc3MtdG9rZW46YWJj");
  EXPECT_EQ(BasicAuthorization("abcd"), "Basic eC1hY2Nlc3MtdG9rZW46YWJjZA==");
  EXPECT_EQ(BasicAuthorization("ab"), "Basic eC1hY2Nlc3MtdG9rZW46YWI=");
}

TEST(GitEnvironment, IsMinimalNonInteractiveAndCarriesTheTokenHeader) {
  ::setenv("GIT_DIR", "/elsewhere", 1);
  auto env = GitEnvironment({.url = "https://h/x", .token = "abc"});
  ::unsetenv("GIT_DIR");
  EXPECT_THAT(env, Contains("LC_ALL=C"));
  EXPECT_THAT(env, Contains("GIT_TERMINAL_PROMPT=0"));
  EXPECT_THAT(env, Contains("GIT_CONFIG_GLOBAL=/dev/null"));
  EXPECT_THAT(env, Contains("GIT_CONFIG_NOSYSTEM=1"));
  EXPECT_THAT(env, Contains("GIT_SSH_COMMAND=ssh -o BatchMode=yes"));
  EXPECT_THAT(env, Contains(StartsWith("GIT_CONFIG_VALUE_")));
  EXPECT_THAT(env, Not(Contains(StartsWith("GIT_DIR="))));
  EXPECT_THAT(env, Contains(HasSubstr("=Authorization: Basic eC1hY2Nlc3MtdG9rZW46YWJj")));
  EXPECT_THAT(GitEnvironment({.url = "https://h/x"}), Not(Contains(HasSubstr("Authorization"))));
}

// Every setting git sees comes from us (GIT_CONFIG_*), none from the user's or system files.
TEST(RunGit, GitSeesOnlyOurConfigurationAndTheToken) {
  FetchOptions options{.url = "https://h/x", .token = "abc"};
  auto header = RunGit(options, {"config", "--get", "http.extraHeader"}, "/");
  ASSERT_TRUE(header.ok()) << header.status().message();
  EXPECT_EQ(header->out, "Authorization: Basic eC1hY2Nlc3MtdG9rZW46YWJj\n");
  auto all = RunGit(options, {"config", "--list", "--show-origin"}, "/");
  ASSERT_TRUE(all.ok());
  std::istringstream lines(all->out);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_THAT(line, StartsWith("command line:"));
  }
}

TEST(SshCommand, QuotesTheKeyPathForTheShellGitUses) {
  EXPECT_EQ(SshCommand(""), "ssh -o BatchMode=yes");
  base::TestTree tree;
  std::string key = (tree / "it's $(touch pwned) key").string();
  std::string command = SshCommand(key);
  EXPECT_THAT(command, StartsWith("ssh -i '"));
  // Run the same words through sh as git would, with printf in place of ssh.
  auto out = RunProcess({"sh", "-c", "printf '%s\\n' " + command.substr(4)},
                        {std::string("PATH=") + std::getenv("PATH")}, tree.path().string(), {});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->out, "-i\n" + key + "\n-o\nIdentitiesOnly=yes\n-o\nBatchMode=yes\n");
  EXPECT_FALSE(std::filesystem::exists(tree / "pwned"));
}

TEST(SplitRemoteUrl, MovesTheUserInfoOutOfTheUrl) {
  RemoteUrl r = SplitRemoteUrl("https://u:p%40ss@h/x.git");
  EXPECT_EQ(r.url, "https://h/x.git");
  EXPECT_EQ(r.username, "u");
  EXPECT_EQ(r.password, "p@ss");  // decoded, as git would
  r = SplitRemoteUrl("https://ghp_t0ken@h:443/x.git");
  EXPECT_EQ(r.url, "https://h:443/x.git");
  EXPECT_EQ(r.username, "ghp_t0ken");
  EXPECT_EQ(r.password, "");
  EXPECT_EQ(SplitRemoteUrl("file://u:p@/srv/x").url, "file:///srv/x");
  EXPECT_EQ(SplitRemoteUrl("https://h/a:b@c").url, "https://h/a:b@c");
  r = SplitRemoteUrl("ssh://git:pw@h/x.git");  // the ssh user stays: it names the account
  EXPECT_EQ(r.url, "ssh://git@h/x.git");
  EXPECT_EQ(r.password, "");
  EXPECT_EQ(SplitRemoteUrl("git@h:x.git").url, "git@h:x.git");
  EXPECT_EQ(SplitRemoteUrl("/srv/x").url, "/srv/x");
}

// git asks the helper for the credential of the URL's user info; the helper's text names
// environment variables only.
TEST(GitEnvironment, UserInfoReachesGitThroughTheCredentialHelperOnly) {
  FetchOptions options{.url = "https://alice:s3cr%24t%5Cx@example.com/acme/x.git"};
  auto env = GitEnvironment(options);
  EXPECT_THAT(env, Contains("KILN_GIT_PASSWORD=s3cr$t\\x"));
  for (const std::string& e : env) {
    if (e.starts_with("GIT_CONFIG_VALUE_")) {
      EXPECT_THAT(e, Not(HasSubstr("s3cr")));
    }
  }
  base::TestTree tree;
  std::string input = "protocol=https\nhost=example.com\npath=acme/x.git\n\n";
  std::string file = (tree / "request").string();
  tree.Write("request", input);
  auto out =
      RunProcess({"sh", "-c", "git credential fill < \"$0\"", file}, env, tree.path().string(), {});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->exit_code, 0) << out->err;
  EXPECT_THAT(out->out, HasSubstr("username=alice\n"));
  EXPECT_THAT(out->out, HasSubstr("password=s3cr$t\\x\n"));
  EXPECT_THAT(GitEnvironment({.url = "https://example.com/x"}),
              Not(Contains(StartsWith("KILN_GIT_PASSWORD="))));
}

TEST(ScrubCredentials, MasksTheTokenItsHeaderAndUrlPasswords) {
  FetchOptions options{.url = "https://u:p4ss@h/x", .token = "tok3n"};
  std::string text = "fatal: tok3n " + BasicAuthorization("tok3n") + " https://u:p4ss@h/x";
  std::string scrubbed = ScrubCredentials(text, options);
  EXPECT_THAT(scrubbed, Not(HasSubstr("tok3n")));
  EXPECT_THAT(scrubbed, Not(HasSubstr("p4ss")));
  EXPECT_THAT(scrubbed, Not(HasSubstr(BasicAuthorization("tok3n").substr(6))));
  EXPECT_EQ(scrubbed, "fatal: *** Basic *** https://u:***@h/x");
}

TEST(GitFailure, IsOnePlainLineEndingWithGitsLastWords) {
  ProcessOutput output{.exit_code = 128,
                       .err = "remote: \x1b]8;;http://evil\x07hi\x1b[2J\n" +
                              std::string(5000, 'x') + "\nfatal: the end\n"};
  base::Status status = GitFailure({.url = "/x"}, "fetch", output);
  EXPECT_EQ(status.kind(), base::ErrorKind::kFailed);
  EXPECT_THAT(status.message(), StartsWith("git fetch: ..."));
  EXPECT_THAT(status.message(), testing::EndsWith("fatal: the end"));
  EXPECT_LT(status.message().size(), 1100u);
  EXPECT_EQ(
      GitFailure({.url = "/x"}, "fetch", {.exit_code = 1, .err = "a\x1b[2Jb\r\nc\n"}).message(),
      "git fetch: a [2Jb  c");
  EXPECT_EQ(GitFailure({.url = "/x"}, "fetch", {.exit_code = 2}).message(),
            "git fetch: exit code 2");
}

TEST(RunGitOk, FailureCarriesGitsStderrOnOneLine) {
  auto out = RunGitOk({.url = "/x", .token = "tok3n"}, "rev-parse",
                      {"--git-dir=/nonexistent-tok3n", "rev-parse", "HEAD"}, "/");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().kind(), base::ErrorKind::kFailed);
  EXPECT_THAT(out.status().message(), StartsWith("git rev-parse: "));
  EXPECT_THAT(out.status().message(), Not(HasSubstr("tok3n")));
  EXPECT_THAT(out.status().message(), Not(HasSubstr("\n")));
}

}  // namespace
}  // namespace kiln::source
