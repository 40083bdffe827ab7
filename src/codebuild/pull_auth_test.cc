// Which credentials a build's image pull sends (PullAuthFor).
#include <gtest/gtest.h>

#include "codebuild/container_executor.h"

namespace kiln::codebuild {
namespace {

const registry::Access kRegistry{
    .address = "127.0.0.1:5000", .username = "AWS", .password = "p4ss"};

spec::BuildEnvironment Image(const std::string& image) {
  spec::BuildEnvironment e;
  e.image = image;
  return e;
}

TEST(PullAuthFor, AnImageInKilnsRegistryGetsItsLogin) {
  auto auth = PullAuthFor(Image("127.0.0.1:5000/backend-flask:latest"), kRegistry, {});
  ASSERT_TRUE(auth.ok());
  ASSERT_TRUE(auth->has_value());
  EXPECT_EQ((*auth)->username, "AWS");
  EXPECT_EQ((*auth)->password, "p4ss");
  EXPECT_EQ((*auth)->server_address, "127.0.0.1:5000");
}

TEST(PullAuthFor, OtherImagesSendNothing) {
  for (const char* image : {"kiln/busybox:1", "busybox", "127.0.0.1:5001/x:1", "localhost/x"}) {
    auto auth = PullAuthFor(Image(image), kRegistry, {});
    ASSERT_TRUE(auth.ok()) << image;
    EXPECT_FALSE(auth->has_value()) << image;
  }
  auto none = PullAuthFor(Image("127.0.0.1:5000/x"), std::nullopt, {});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(PullAuthFor, ServiceRoleUsesTheSecretRegistryCredentialNames) {
  spec::BuildEnvironment e = Image("registry.example.com:5000/team/builder:3");
  e.pull_credentials = spec::ImagePullCredentials::kServiceRole;
  e.registry_credential = "builder-login";
  auto auth = PullAuthFor(e, kRegistry, {{"builder-login", R"({"username":"ci","password":"s"})"}});
  ASSERT_TRUE(auth.ok()) << auth.status().message();
  ASSERT_TRUE(auth->has_value());
  EXPECT_EQ((*auth)->username, "ci");
  EXPECT_EQ((*auth)->password, "s");
  EXPECT_EQ((*auth)->server_address, "registry.example.com:5000");
}

TEST(PullAuthFor, AMissingOrMalformedSecretIsAnErrorNamingIt) {
  spec::BuildEnvironment e = Image("registry.example.com/x");
  e.pull_credentials = spec::ImagePullCredentials::kServiceRole;
  e.registry_credential = "login";
  auto missing = PullAuthFor(e, std::nullopt, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "registryCredential names secret 'login', which kiln.yml's secrets do not have");
  auto bad = PullAuthFor(e, std::nullopt, {{"login", "ci:s"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "secret 'login' (registryCredential) must be JSON {\"username\", \"password\"}");
  // The password never shows in the error.
  auto no_user = PullAuthFor(e, std::nullopt, {{"login", R"({"password":"hunter2"})"}});
  ASSERT_FALSE(no_user.ok());
  EXPECT_EQ(no_user.status().message().find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace kiln::codebuild
