// `kiln image bootstrap --busybox` on the fixture's engine: the image's config, and a
// container from it that sees the users, the applets and (where the host has one) the
// static docker CLI.
#include <gtest/gtest.h>

#include <algorithm>

#include "exec/docker_test_engine.h"
#include "exec/image_bootstrap.h"
#include "exec/static_binary.h"

namespace kiln::exec {
namespace {

class ImageBootstrapTest : public testing::EngineSuite {
 protected:
  const DockerClient& client() { return *client_; }

  // Runs cmd in a fresh container of image (host network: no namespace cost); stdout+stderr.
  std::string RunIn(const std::string& image, std::vector<std::string> cmd, int* code) {
    auto id = client().CreateContainer(
        {.image = image, .cmd = std::move(cmd), .network_mode = NetworkMode::kHost});
    EXPECT_TRUE(id.ok()) << id.status().message();
    if (!id.ok()) return "";
    auto attach = client().Attach(*id);
    auto wait = client().Wait(*id, WaitCondition::kNextExit);
    std::string out;
    if (attach.ok() && wait.ok() && client().Start(*id).ok()) {
      EXPECT_TRUE(attach->ReadAll([&](const FramePiece& p) { out.append(p.data); }).ok());
      auto c = wait->Get();
      *code = c.ok() ? *c : -1;
    }
    EXPECT_TRUE(client().Remove(*id, true).ok());
    return out;
  }
};

TEST_F(ImageBootstrapTest, BusyboxImageHasItsConfigUsersAppletsAndDockerCli) {
  BootstrapOptions options{.tag_prefix = "kiln-test"};
  options.docker_cli = FindStaticDockerCli("/usr/local/bin:/usr/bin:/bin");
  auto image = BootstrapBusybox(client(), options);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->ref, "kiln-test/busybox:1");
  EXPECT_TRUE(image->id.starts_with("sha256:")) << image->id;
  auto info = client().InspectImage("kiln-test/busybox:1");
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->id, image->id);
  EXPECT_EQ(info->cmd, std::vector<std::string>{"sh"});
  EXPECT_NE(std::find(info->env.begin(), info->env.end(), "PATH=/usr/local/bin:/usr/bin:/bin"),
            info->env.end());
  int code = -1;
  std::string out = RunIn(image->ref,
                          {"sh", "-c",
                           "cat /etc/passwd; ls /usr/local/bin; stat -c '%a %n' /tmp; su -s "
                           "/bin/sh nobody -c 'id -un'"},
                          &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("root:x:0:0:"), std::string::npos) << out;
  EXPECT_NE(out.find("codebuild-user:x:1000:1000:"), std::string::npos) << out;
  EXPECT_NE(out.find("1777 /tmp\n"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\nnobody\n")) << out;
  if (options.docker_cli.empty()) {
    EXPECT_EQ(out.find("docker\n"), std::string::npos) << out;
  } else {
    EXPECT_NE(out.find("\ndocker\n"), std::string::npos) << out;
    std::string version = RunIn(image->ref, {"docker", "--version"}, &code);
    EXPECT_EQ(code, 0) << version;
    EXPECT_TRUE(version.starts_with("Docker version ")) << version;
  }
  EXPECT_TRUE(client().RemoveImage(image->ref, true).ok());
}

// The engine stamps each import with its time, so a second run makes a new image: the tag
// must follow it.
TEST_F(ImageBootstrapTest, RunningAgainMovesTheTagToTheNewImage) {
  BootstrapOptions options{.tag_prefix = "kiln-test2"};
  auto first = BootstrapBusybox(client(), options);
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto second = BootstrapBusybox(client(), options);
  ASSERT_TRUE(second.ok()) << second.status().message();
  auto info = client().InspectImage("kiln-test2/busybox:1");
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->id, second->id);
  EXPECT_GT(second->size, 500 * 1024);
  EXPECT_TRUE(client().RemoveImage(second->ref, true).ok());
  if (first->id != second->id) {
    EXPECT_TRUE(client().RemoveImage(first->id, true).ok());
  }
}

}  // namespace
}  // namespace kiln::exec
