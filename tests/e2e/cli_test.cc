// The CLI contract: version, help, usage errors, exit codes, and `kiln validate` over the
// shared conformance buildspecs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness.h"

namespace kiln::e2e {
namespace {
namespace fs = std::filesystem;

TEST(Cli, VersionAndHelp) {
  TempDir t;
  auto v = RunKiln({"version"}, t.path());
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out, "kiln 0.1.0\n");
  auto j = RunKiln({"version", "--json"}, t.path());
  EXPECT_EQ(nlohmann::json::parse(j.out)["version"], "0.1.0");
  auto h = RunKiln({"build", "--help"}, t.path());
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("--params-file"), std::string::npos);
  EXPECT_NE(RunKiln({"--help"}, t.path()).out.find("validate"), std::string::npos);
}

TEST(Cli, UsageErrorsExitTwo) {
  TempDir t;
  EXPECT_EQ(RunKiln({}, t.path()).exit_code, 2);
  EXPECT_EQ(RunKiln({"frobnicate"}, t.path()).exit_code, 2);
  EXPECT_EQ(RunKiln({"build", "--no-such-flag"}, t.path()).exit_code, 2);
  auto missing = RunKiln({"build", "does-not-exist"}, t.path());
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("'does-not-exist' is not a directory"), std::string::npos);
  t.Write("b/buildspec.yml", "version: 0.2\nphases: {build: {commands: [x]}}\n");
  EXPECT_EQ(RunKiln({"build", "b", "--timeout", "soon"}, t.path()).exit_code, 2);
  EXPECT_EQ(RunKiln({"build", "b", "-e", "NOEQUALS"}, t.path()).exit_code, 2);
}

std::vector<fs::path> Files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Validate, EveryConformanceBuildspecIsValid) {
  if (auto why = ConformanceMissing()) GTEST_SKIP() << *why;
  TempDir t;
  auto files = Files(ConformanceDir() / "buildspecs");
  ASSERT_GE(files.size(), 25u);
  for (const auto& f : files) {
    auto r = RunKiln({"validate", f.string()}, t.path());
    EXPECT_EQ(r.exit_code, 0) << f << "\n" << r.err;
    EXPECT_NE(r.out.find(": ok (buildspec 0.2"), std::string::npos) << r.out;
  }
}

TEST(Validate, EveryInvalidConformanceBuildspecIsRefusedWithALocatedLine) {
  if (auto why = ConformanceMissing()) GTEST_SKIP() << *why;
  TempDir t;
  auto files = Files(ConformanceDir() / "buildspecs" / "invalid");
  ASSERT_EQ(files.size(), 7u);
  for (const auto& f : files) {
    auto r = RunKiln({"validate", f.string()}, t.path());
    EXPECT_EQ(r.exit_code, 2) << f;
    EXPECT_NE(r.err.find(f.string() + ":"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n') >= 1, true);
  }
  auto version = RunKiln(
      {"validate", (ConformanceDir() /
                    "buildspecs/invalid/aws-samples__aws-serverless-samfarm__api_buildspec.yml")
                       .string()},
      t.path());
  EXPECT_NE(version.err.find("unsupported buildspec version 0.0"), std::string::npos)
      << version.err;
}

TEST(Validate, YamlBombIsRefusedQuickly) {
  TempDir t;
  std::string bomb = "version: 0.2\na: &a [x, x, x, x, x, x, x, x, x]\n";
  std::string prev = "a";
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 9; ++i) bomb += (i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = std::string(1, c);
  }
  auto f = t.Write("bomb.yml", bomb);
  auto start = std::chrono::steady_clock::now();
  auto r = RunKiln({"validate", f.string()}, t.path());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_LT(ms, 1000) << "refusing a YAML bomb took " << ms << " ms";
}

}  // namespace
}  // namespace kiln::e2e
