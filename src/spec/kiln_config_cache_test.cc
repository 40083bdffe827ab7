// projects.NAME.cache: CodeBuild's cache type and LOCAL modes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "spec/kiln_config.h"
#include "spec/test_util.h"

namespace kiln::spec {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string Project(const std::string& body) {
  return "projects:\n  app:\n    environment: {image: x, privilegedMode: true}\n" + body;
}

ParsedConfig Parse(const std::string& text) { return ParseKilnConfig(text, "kiln.yml"); }

ProjectCache CacheOf(const std::string& text) {
  ParsedConfig parsed = Parse(text);
  EXPECT_THAT(parsed.diagnostics, IsEmpty()) << Describe(parsed.diagnostics);
  if (!parsed.config || parsed.config->projects.empty()) return {};
  return parsed.config->projects[0].cache;
}

TEST(ProjectCacheTest, WithoutCacheTheBuildspecsPathsAreUsed) {
  ProjectCache cache = CacheOf(Project(""));
  EXPECT_TRUE(cache.has(CacheMode::kCustom));
  EXPECT_FALSE(cache.has(CacheMode::kDockerLayer));
  EXPECT_FALSE(cache.has(CacheMode::kSource));
}

TEST(ProjectCacheTest, LocalModesAreReadAndOnlyThoseApply) {
  ProjectCache cache = CacheOf(
      Project("    cache: {type: LOCAL, modes: [LOCAL_DOCKER_LAYER_CACHE, LOCAL_SOURCE_CACHE]}\n"));
  EXPECT_TRUE(cache.has(CacheMode::kDockerLayer));
  EXPECT_TRUE(cache.has(CacheMode::kSource));
  EXPECT_FALSE(cache.has(CacheMode::kCustom));
}

TEST(ProjectCacheTest, NoCacheTurnsEveryModeOff) {
  ProjectCache cache = CacheOf(Project("    cache: {type: NO_CACHE}\n"));
  EXPECT_EQ(cache.type, CacheType::kNoCache);
  EXPECT_FALSE(cache.has(CacheMode::kCustom));
}

TEST(ProjectCacheTest, BadCachesAreRefusedWhereTheyAreWritten) {
  EXPECT_THAT(KilnConfigErrors(Project("    cache: {type: S3}\n")),
              ElementsAre("4:19: projects.app.cache.type S3 needs Amazon S3, which Kiln does not "
                          "reach: use LOCAL"));
  EXPECT_THAT(KilnConfigErrors(Project("    cache: {type: LOCAL, modes: [LOCAL_LAYERS]}\n")),
              ElementsAre("4:34: projects.app.cache.modes[0] must be LOCAL_SOURCE_CACHE, "
                          "LOCAL_DOCKER_LAYER_CACHE or LOCAL_CUSTOM_CACHE"));
  EXPECT_THAT(
      KilnConfigErrors(Project("    cache: {type: NO_CACHE, modes: [LOCAL_SOURCE_CACHE]}\n")),
      ElementsAre("4:29: projects.app.cache.modes needs type LOCAL"));
  EXPECT_THAT(KilnConfigErrors(Project("    cache: {modes: [LOCAL_SOURCE_CACHE]}\n")),
              ElementsAre("4:5: projects.app.cache has no 'type', which is required"));
}

TEST(ProjectCacheTest, TheDockerLayerCacheNeedsPrivilegedMode) {
  EXPECT_THAT(
      KilnConfigErrors("projects:\n  app:\n    environment: {image: x}\n"
                       "    cache:\n      type: LOCAL\n      modes: [LOCAL_DOCKER_LAYER_CACHE]\n"),
      ElementsAre("6:7: projects.app.cache.modes LOCAL_DOCKER_LAYER_CACHE needs "
                  "environment.privilegedMode: true"));
}

}  // namespace
}  // namespace kiln::spec
