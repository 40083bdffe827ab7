// `kiln image bootstrap`'s command line: usage errors exit 2 before any work, and the
// prerequisites of --standard are named. (The images themselves: exec's engine tests; the
// debootstrap run takes minutes and the network, so no test runs it.)
#include <gtest/gtest.h>
#include <unistd.h>

#include "harness.h"

namespace kiln::e2e {
namespace {

// An engine address that cannot answer: no test here may reach a real engine.
const std::vector<std::string> kNoEngine = {"DOCKER_HOST=unix:///nonexistent/kiln-test.sock"};

TEST(ImageBootstrap, BadArgumentsAreUsageErrors) {
  TempDir t;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"image"}, "A subcommand is required"},
      {{"image", "bootstrap", "--no-such-flag"}, "--no-such-flag"},
      {{"image", "bootstrap", "--suite", "../etc"}, "--suite '../etc': expected a Debian suite"},
      {{"image", "bootstrap", "--suite", ""}, "--suite '': expected a Debian suite"},
      {{"image", "bootstrap", "--tag-prefix", "Kiln"}, "--tag-prefix 'Kiln': expected"},
      {{"image", "bootstrap", "--tag-prefix", "a//b"}, "--tag-prefix 'a//b': expected"},
      {{"image", "bootstrap", "--standard", "--mirror", "ftp://x/debian"},
       "--mirror 'ftp://x/debian': expected an http://, https:// or file:/ URL"},
      {{"image", "bootstrap", "--mirror", "http://x/a b"}, "--mirror 'http://x/a b'"},
  };
  for (const auto& c : cases) {
    auto r = RunKiln(c.args, t.path(), kNoEngine);
    EXPECT_EQ(r.exit_code, 2) << c.args.back() << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST(ImageBootstrap, NoEngineFailsWithItsAddress) {
  TempDir t;
  auto r = RunKiln({"image", "bootstrap", "--busybox"}, t.path(), kNoEngine);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/kiln-test.sock"), std::string::npos) << r.err;
}

TEST(ImageBootstrap, StandardSaysItNeedsRootBeforeAnyWork) {
  if (::geteuid() != 0) {
    auto r = RunKiln({"image", "bootstrap", "--standard"}, TempDir().path(), kNoEngine);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("must run as root"), std::string::npos) << r.err;
    return;
  }
  // As root: run it as nobody (the binary and a scratch dir it may read are world-readable).
  if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "no setpriv to drop root";
  auto r = RunProcess({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                       KilnBinary(), "image", "bootstrap", "--standard"},
                      "/", kNoEngine);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("kiln image bootstrap --standard must run as root"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.out, "");
  // Without flags both images are made: the error says the busybox one needs no root.
  auto both = RunProcess({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          KilnBinary(), "image", "bootstrap"},
                         "/", kNoEngine);
  EXPECT_EQ(both.exit_code, 1) << both.err;
  EXPECT_NE(both.err.find("must run as root"), std::string::npos) << both.err;
  EXPECT_NE(both.err.find("--busybox needs neither"), std::string::npos) << both.err;
}

}  // namespace
}  // namespace kiln::e2e
