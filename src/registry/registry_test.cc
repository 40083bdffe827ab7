// Credentials (htpasswd, rotation), config.yml, and the aws shim run by the host's /bin/sh.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "exec/process.h"
#include "registry/access.h"
#include "registry/aws_shim.h"
#include "registry/config_file.h"
#include "registry/credentials.h"

namespace kiln::registry {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kiln-registry-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static unsigned Mode(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 07777;
  }
  static std::string Read(const fs::path& p) { return base::ReadFile(p, 1 << 20).value(); }
  fs::path dir_;
};

TEST_F(RegistryTest, HtpasswdHoldsABcryptHashOfThePassword) {
  fs::path file = dir_ / "htpasswd";
  ASSERT_TRUE(WriteHtpasswd(file, "AWS", "s3cret-pw").ok());
  std::string text = Read(file);
  ASSERT_TRUE(text.starts_with("AWS:$2b$05$")) << text;
  ASSERT_TRUE(text.ends_with("\n"));
  std::string hash = text.substr(4, text.size() - 5);
  EXPECT_TRUE(CheckHash("s3cret-pw", hash));
  EXPECT_FALSE(CheckHash("s3cret-pX", hash));
  EXPECT_FALSE(CheckHash("", hash));
  EXPECT_EQ(Mode(file), 0600u);
}

TEST_F(RegistryTest, PasswordIsStablePrivateAndRotatesAfterTwelveHours) {
  Paths paths = PathsUnder(dir_ / "state");
  const int64_t t0 = 2'000'000'000;
  auto first = CurrentPassword(paths, t0);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->size(), 64u);  // 32 random bytes in hex
  EXPECT_EQ(Mode(paths.dir), 0700u);
  EXPECT_EQ(Mode(paths.password()), 0600u);
  EXPECT_EQ(Mode(paths.htpasswd()), 0600u);
  // The stored password is dated by its file; pretend it was written at t0.
  utimbuf at{t0, t0};
  ASSERT_EQ(::utime(paths.password().c_str(), &at), 0);
  EXPECT_EQ(*CurrentPassword(paths, t0 + kPasswordMaxAgeSeconds - 1), *first);
  auto second = CurrentPassword(paths, t0 + kPasswordMaxAgeSeconds);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*second, *first);
  EXPECT_EQ(Read(paths.password()), *second);
  std::string line = Read(paths.htpasswd());
  std::string hash = line.substr(4, line.size() - 5);
  EXPECT_TRUE(CheckHash(*second, hash));
  EXPECT_FALSE(CheckHash(*first, hash));
}

TEST_F(RegistryTest, HtpasswdThatDoesNotMatchIsRewritten) {
  Paths paths = PathsUnder(dir_);
  auto pw = CurrentPassword(paths);
  ASSERT_TRUE(pw.ok());
  ASSERT_TRUE(WriteHtpasswd(paths.htpasswd(), "AWS", "something else").ok());
  EXPECT_EQ(*CurrentPassword(paths), *pw);
  std::string line = Read(paths.htpasswd());
  EXPECT_TRUE(CheckHash(*pw, line.substr(4, line.size() - 5)));
}

TEST_F(RegistryTest, ConfigYaml) {
  Paths paths = PathsUnder("/st");
  std::string yaml = ConfigYaml(paths, "127.0.0.1:5000", "abc123");
  for (const char* want :
       {"  level: warn\n", "    rootdirectory: \"/st/registry/data\"\n",
        "  delete:\n    enabled: true\n", "  addr: \"127.0.0.1:5000\"\n", "  secret: \"abc123\"\n",
        "  htpasswd:\n    realm: kiln\n    path: \"/st/registry/htpasswd\"\n"}) {
    EXPECT_THAT(yaml, HasSubstr(want));
  }
  ASSERT_TRUE(WriteConfig(PathsUnder(dir_), "127.0.0.1:5000").ok());
  EXPECT_EQ(Mode(PathsUnder(dir_).config()), 0600u);
  EXPECT_TRUE(fs::is_directory(PathsUnder(dir_).data()));
}

TEST_F(RegistryTest, AccessForUrlResolvesThePasswordReference) {
  spec::KilnConfig config;
  EXPECT_FALSE(ResolveAccess(config, dir_)->has_value());
  config.registry.url = "reg.example:5000";
  config.registry.username = "ci";
  config.registry.password = {spec::ValueRef::Kind::kEnv, "KILN_TEST_REG_PW"};
  ::setenv("KILN_TEST_REG_PW", "from-env", 1);
  auto access = ResolveAccess(config, dir_);
  ASSERT_TRUE(access.ok() && access->has_value());
  EXPECT_EQ((*access)->username, "ci");
  EXPECT_EQ((*access)->password, "from-env");
  ::unsetenv("KILN_TEST_REG_PW");
  EXPECT_FALSE(ResolveAccess(config, dir_).ok());
  config.registry = {.listen = "127.0.0.1:5000"};
  access = ResolveAccess(config, dir_);
  ASSERT_TRUE(access.ok() && access->has_value());
  EXPECT_EQ((*access)->username, "AWS");
  EXPECT_EQ((*access)->password, Read(PathsUnder(dir_).password()));
}

// Runs the shim with /bin/sh; stdout and stderr joined, then the exit code.
struct Ran {
  std::string out;
  int code;
};
Ran RunShim(const fs::path& dir, const std::string& args) {
  auto r =
      exec::Capture({"/bin/sh", "-c", "\"$0\" " + args + " 2>&1", (dir / "bin/aws").string()}, "");
  return r.ok() ? Ran{r->out, r->exit_code} : Ran{"", -1};
}

TEST_F(RegistryTest, ShimAnswersLoginAndIdentityAndRefusesTheRest) {
  ASSERT_TRUE(WriteShimDir(dir_ / "shim", Access{"127.0.0.1:5000", "AWS", "pw-1234"}).ok());
  EXPECT_EQ(Mode(dir_ / "shim"), 0700u);
  EXPECT_EQ(Mode(dir_ / "shim/bin/aws"), 0700u);
  EXPECT_EQ(Mode(dir_ / "shim/registry/password"), 0600u);
  Ran login = RunShim(dir_ / "shim", "ecr get-login-password --region us-east-1");
  EXPECT_EQ(login.code, 0);
  EXPECT_EQ(login.out, "pw-1234\n");
  EXPECT_EQ(RunShim(dir_ / "shim", "--region=eu-west-1 ecr get-login-password").out, "pw-1234\n");
  Ran who = RunShim(dir_ / "shim", "sts get-caller-identity");
  ASSERT_EQ(who.code, 0);
  auto json = nlohmann::json::parse(who.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << who.out;
  EXPECT_EQ(json["Account"], "000000000000");
  EXPECT_EQ(json["Arn"], "arn:aws:sts::000000000000:assumed-role/kiln/build");
  EXPECT_TRUE(json["UserId"].is_string());
  EXPECT_EQ(RunShim(dir_ / "shim", "sts get-caller-identity --query Account --output text").out,
            "000000000000\n");
  Ran s3 = RunShim(dir_ / "shim", "s3 cp x y");
  EXPECT_EQ(s3.code, 253);
  EXPECT_EQ(s3.out, "kiln: `aws s3 cp` is not provided here\n");
  EXPECT_THAT(RunShim(dir_ / "shim", "--version").out, HasSubstr("Kiln's aws stand-in"));
}

TEST_F(RegistryTest, ShimWithoutRegistrySaysSo) {
  ASSERT_TRUE(WriteShimDir(dir_ / "shim", std::nullopt).ok());
  Ran login = RunShim(dir_ / "shim", "ecr get-login-password");
  EXPECT_NE(login.code, 0);
  EXPECT_EQ(login.out, "kiln: no registry is configured in kiln.yml (registry:)\n");
}

TEST_F(RegistryTest, ShimTakesTheAccountFromTheEnvironment) {
  ASSERT_TRUE(WriteShimDir(dir_ / "shim", std::nullopt).ok());
  auto r = exec::Capture({"/bin/sh", "-c",
                          "AWS_ACCOUNT_ID=123456789012 \"$0\" sts "
                          "get-caller-identity",
                          (dir_ / "shim/bin/aws").string()},
                         "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(nlohmann::json::parse(r->out)["Account"], "123456789012");
}

}  // namespace
}  // namespace kiln::registry
