// The project's cache type and LOCAL modes decide whether a buildspec's cache.paths are used.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "codebuild/engine.h"
#include "spec/buildspec.h"

namespace kiln::codebuild {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSpec[] = R"Y(version: 0.2
phases:
  build:
    commands:
      - 'if [ -f deps/d.txt ]; then echo "hit $(cat deps/d.txt)"; else mkdir -p deps; echo v1 > deps/d.txt; fi'
cache:
  paths: ['deps/**/*']
)Y";

class CacheModesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kiln-cachemodes-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fs::create_directories(dir_ / "src");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string BuildLog(const spec::ProjectCache& cache) {
    auto parsed = spec::ParseBuildspec(kSpec, "buildspec.yml");
    EXPECT_TRUE(parsed.spec.has_value());
    BuildRequest r{.project = "p",
                   .source_dir = dir_ / "src",
                   .buildspec = *parsed.spec,
                   .state_dir = dir_ / "state"};
    r.cache = cache;
    BuildRecord rec = RunBuild(r);
    EXPECT_EQ(rec.status, BuildStatus::kSucceeded);
    std::ifstream in(rec.log_path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  fs::path dir_;
};

TEST_F(CacheModesTest, TheDefaultLocalCustomCacheCarriesPathsToTheNextBuild) {
  EXPECT_THAT(BuildLog({}), Not(HasSubstr("hit v1")));
  EXPECT_THAT(BuildLog({}), HasSubstr("hit v1"));
}

TEST_F(CacheModesTest, NoCacheIgnoresTheBuildspecsPathsAndSaysSo) {
  spec::ProjectCache none{.type = spec::CacheType::kNoCache};
  EXPECT_THAT(BuildLog(none), HasSubstr("the project's cache type is NO_CACHE"));
  EXPECT_THAT(BuildLog(none), Not(HasSubstr("hit v1")));
}

TEST_F(CacheModesTest, LocalWithoutTheCustomModeIgnoresThePaths) {
  spec::ProjectCache layers{.modes = static_cast<unsigned>(spec::CacheMode::kSource)};
  std::string first = BuildLog(layers);
  EXPECT_THAT(first, HasSubstr("has no LOCAL_CUSTOM_CACHE mode"));
  EXPECT_THAT(first, HasSubstr("LOCAL_SOURCE_CACHE: sources come from Kiln's git mirror"));
  EXPECT_THAT(BuildLog(layers), Not(HasSubstr("hit v1")));
}

}  // namespace
}  // namespace kiln::codebuild
