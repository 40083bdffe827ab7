// projects.NAME.environment.cluster: a build runs as a Swarm job on a swarm cluster only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "spec/kiln_config.h"
#include "spec/test_util.h"

namespace kiln::spec {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kClusters[] =
    "clusters:\n  farm: {provider: swarm, engine: 'unix:///run/farm.sock'}\n"
    "  one: {provider: docker}\n  local: {provider: process}\n";

std::string WithCluster(const std::string& name) {
  return std::string(kClusters) + "projects:\n  app:\n    environment:\n      image: x\n" +
         "      cluster: " + name + "\n";
}

TEST(BuildClusterTest, ASwarmClusterIsTakenWithItsEngine) {
  ParsedConfig parsed = ParseKilnConfig(WithCluster("farm"), "kiln.yml");
  ASSERT_THAT(parsed.diagnostics, IsEmpty()) << Describe(parsed.diagnostics);
  EXPECT_EQ(parsed.config->projects[0].environment.cluster, "farm");
  EXPECT_EQ(parsed.config->FindCluster("farm")->engine, "unix:///run/farm.sock");
}

TEST(BuildClusterTest, AnUnknownOrNonSwarmClusterIsRefusedWhereItIsNamed) {
  EXPECT_THAT(KilnConfigErrors(WithCluster("nowhere")),
              ElementsAre("9:16: projects.app.environment.cluster names cluster 'nowhere', which "
                          "clusters does not define"));
  EXPECT_THAT(KilnConfigErrors(WithCluster("one")),
              ElementsAre("9:16: projects.app.environment.cluster names cluster 'one', whose "
                          "provider is docker: builds run as jobs on swarm clusters only"));
  EXPECT_THAT(KilnConfigErrors(WithCluster("local")),
              ElementsAre(::testing::HasSubstr("whose provider is process")));
}

}  // namespace
}  // namespace kiln::spec
