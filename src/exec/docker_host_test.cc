#include "exec/docker_host.h"

#include <gtest/gtest.h>

namespace kiln::exec {
namespace {

TEST(DockerHostTest, ParsesUnixSocketsAndTheDefault) {
  auto e = ParseDockerHost("unix:///tmp/x/docker.sock");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->socket_path, "/tmp/x/docker.sock");
  auto d = ParseDockerHost("");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->socket_path, "/var/run/docker.sock");
}

TEST(DockerHostTest, RefusesRemoteAndMalformedHosts) {
  EXPECT_EQ(ParseDockerHost("tcp://1.2.3.4:2375").status().kind(), base::ErrorKind::kUnsupported);
  EXPECT_EQ(ParseDockerHost("ssh://me@host").status().kind(), base::ErrorKind::kUnsupported);
  EXPECT_EQ(ParseDockerHost("unix://relative.sock").status().kind(),
            base::ErrorKind::kInvalidInput);
  EXPECT_EQ(ParseDockerHost("/var/run/docker.sock").status().kind(),
            base::ErrorKind::kInvalidInput);
  EXPECT_EQ(ParseDockerHost("unix:///" + std::string(200, 'a')).status().kind(),
            base::ErrorKind::kInvalidInput);
}

TEST(DockerHostTest, ReadsDockerHostFromTheEnvironment) {
  ::setenv("DOCKER_HOST", "unix:///run/other.sock", 1);
  auto e = DockerEndpointFromEnvironment();
  ::unsetenv("DOCKER_HOST");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->socket_path, "/run/other.sock");
}

TEST(ApiVersionTest, ParsesAndOrdersNumerically) {
  auto v = ParseApiVersion("1.41");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->Text(), "1.41");
  EXPECT_LT(*ParseApiVersion("1.9"), *ParseApiVersion("1.41"));
  for (const char* bad : {"", "1", "1.", ".4", "1.4x", "a.b", "1.41.2", "99999.1"}) {
    EXPECT_FALSE(ParseApiVersion(bad).ok()) << bad;
  }
}

TEST(ApiVersionTest, NegotiatesTheLowerOfBothAndRefusesTooOldForTheEngine) {
  EXPECT_EQ(NegotiateApiVersion({1, 41}, {1, 12})->Text(), "1.41");
  EXPECT_EQ(NegotiateApiVersion({1, 52}, {1, 24})->Text(), "1.41");
  EXPECT_EQ(NegotiateApiVersion({1, 40}, {1, 12})->Text(), "1.40");
  auto docker29 = NegotiateApiVersion({1, 52}, {1, 44});
  ASSERT_FALSE(docker29.ok());
  EXPECT_EQ(docker29.status().kind(), base::ErrorKind::kUnsupported);
  EXPECT_NE(docker29.status().message().find("requires API 1.44"), std::string::npos);
}

}  // namespace
}  // namespace kiln::exec
