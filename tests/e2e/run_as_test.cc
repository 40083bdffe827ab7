// buildspec run-as on Kiln's host executor, through `kiln --json build`: as root the phase's
// commands run as that user (CodeBuild: a phase's run-as wins over the global one); as
// another user the build fails saying run-as needs root, and nothing runs as the wrong user.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "harness.h"

namespace kiln::e2e {
namespace {
using nlohmann::json;

class RunAsTest : public ::testing::Test {
 protected:
  json Build(const std::string& buildspec) {
    tmp_.Write("src/buildspec.yml", buildspec);
    last_ = RunKiln({"--json", "--state-dir", (tmp_.path() / "state").string(), "build",
                     (tmp_.path() / "src").string()},
                    tmp_.path());
    json doc = json::parse(last_.out, nullptr, false);
    EXPECT_TRUE(doc.is_object()) << last_.out << last_.err;
    return doc.is_object() ? doc : json::object();
  }
  static std::string PhaseStatus(const json& b, const std::string& type) {
    for (const auto& p : b.value("phases", json::array())) {
      if (p["phaseType"] == type) return p.value("phaseStatus", "");
    }
    return "<absent>";
  }

  TempDir tmp_;
  RunResult last_;
};

constexpr char kBuildspec[] =
    "version: 0.2\nrun-as: nobody\nphases:\n"
    "  pre_build:\n    run-as: root\n    commands:\n      - export SEEN=carried\n"
    "      - echo \"pre=$(id -un)\"\n"
    "  build:\n    commands:\n      - echo \"build=$(id -un) seen=$SEEN\"\n"
    "      - export BACK=from-build\n"
    "  post_build:\n    run-as: root\n    commands:\n      - echo \"post=$(id -un) back=$BACK\"\n";

TEST_F(RunAsTest, ThePhasesCommandsRunAsItsUserOnlyWhenKilnIsRoot) {
  json b = Build(kBuildspec);
  std::string log = ReadText(b["logs"]["path"].get<std::string>());
  if (::geteuid() != 0) {
    // Any run-as needs root on the host, even root's own: the phase fails before a command.
    EXPECT_EQ(b["buildStatus"], "FAILED");
    EXPECT_EQ(PhaseStatus(b, "PRE_BUILD"), "FAILED") << log;
    EXPECT_NE(log.find("run-as root needs Kiln to run as root"), std::string::npos) << log;
    EXPECT_EQ(log.find("pre="), std::string::npos) << log;
    return;
  }
  EXPECT_EQ(b["buildStatus"], "SUCCEEDED") << log;
  EXPECT_NE(log.find("pre=root\n"), std::string::npos) << log;
  EXPECT_NE(log.find("build=nobody seen=carried\n"), std::string::npos) << log;
  EXPECT_NE(log.find("post=root back=from-build\n"), std::string::npos) << log;
  EXPECT_NE(log.find("Running the commands of this phase as nobody (run-as)"), std::string::npos)
      << log;
}

TEST_F(RunAsTest, AnUnknownUserFailsThePhaseSayingSo) {
  if (::geteuid() != 0) GTEST_SKIP() << "run-as needs root";
  json b = Build(
      "version: 0.2\nphases:\n  build:\n    run-as: no-such-user-kiln\n    commands:\n"
      "      - echo ran\n");
  std::string log = ReadText(b["logs"]["path"].get<std::string>());
  EXPECT_EQ(b["buildStatus"], "FAILED");
  EXPECT_EQ(PhaseStatus(b, "BUILD"), "FAILED");
  EXPECT_NE(log.find("run-as: there is no user no-such-user-kiln in this build environment"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("\nran\n"), std::string::npos) << log;
}

}  // namespace
}  // namespace kiln::e2e
