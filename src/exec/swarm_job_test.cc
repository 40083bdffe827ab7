// The Swarm job a build runs as (SwarmJobSpec) and its JSON: the driver's container as a plain
// container build has it, one task run once, pinned to this node.
#include "exec/swarm_job.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "exec/swarm_wire.h"

namespace kiln::exec {
namespace {

using Json = nlohmann::json;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::StartsWith;

SwarmJobOptions Options() {
  return {
      .container = {.image = "sha256:abc",
                    .name = "kiln-build-1234",
                    .workspace_dir = "/state/ws/src",
                    .workspace_path = "/codebuild/output/src1234/src",
                    .env = {"PATH=/kiln/bin:/bin"},
                    .network_mode = NetworkMode::kHost,
                    .nano_cpus = 2'000'000'000,
                    .memory_bytes = 3LL << 30,
                    .extra_binds = {{.source = "/run/e.sock", .target = "/var/run/docker.sock"}},
                    .labels = {{"kiln.build", "p:1234"}, {"kiln.state", "abcd"}}},
      .node_id = "node42"};
}

DriverLaunch Launch() {
  return {.shell = "sh",
          .script = "/state/b/shell/driver.sh",
          .scratch_dir = "/state/b/shell",
          .cwd = "/codebuild/output/src1234/src",
          .env = {"A=1", "CODEBUILD_SRC_DIR=/elsewhere"}};
}

TEST(SwarmJobSpecTest, OneTaskRunOnceOnThisNodeWithTheContainerBuildsShape) {
  SwarmServiceSpec s = SwarmJobSpec(Options(), Launch());
  EXPECT_EQ(s.name, "kiln-build-1234");
  EXPECT_EQ(s.mode, SwarmServiceMode::kReplicatedJob);
  EXPECT_EQ(s.max_concurrent, 1);
  EXPECT_EQ(s.total_completions, 1);
  EXPECT_EQ(s.restart_policy.condition, SwarmRestartCondition::kNone);
  EXPECT_THAT(s.constraints, ElementsAre("node.id==node42"));
  EXPECT_TRUE(s.init);
  EXPECT_EQ(s.user, "0:0");
  EXPECT_EQ(s.working_dir, "/codebuild/output/src1234/src");
  EXPECT_EQ(s.network, SwarmNetwork::kHost);
  EXPECT_EQ(s.resources.nano_cpus_limit, 2'000'000'000);
  EXPECT_EQ(s.resources.memory_bytes_limit, 3LL << 30);
  EXPECT_EQ(s.labels.at("kiln.state"), "abcd");
  EXPECT_THAT(s.env, ElementsAre("PATH=/kiln/bin:/bin", "A=1",
                                 "CODEBUILD_SRC_DIR=/codebuild/output/src1234/src"));
  ASSERT_EQ(s.command.size(), 3u);
  EXPECT_EQ(s.command[0], "sh");
  EXPECT_THAT(s.command[2], StartsWith("{ read -r _ <'/state/b/shell/life';"));
  EXPECT_THAT(s.args, ElementsAre("kiln-driver"));
  ASSERT_EQ(s.binds.size(), 3u);
  EXPECT_EQ(s.binds[0].source, "/state/ws/src");
  EXPECT_EQ(s.binds[0].target, "/codebuild/output/src1234/src");
  EXPECT_EQ(s.binds[1].source, "/state/b/shell");
  EXPECT_EQ(s.binds[1].target, "/state/b/shell");
  EXPECT_EQ(s.binds[2].target, "/var/run/docker.sock");
  EXPECT_TRUE(ValidateServiceSpec(s).ok());
}

TEST(SwarmJobSpecTest, NoNetworkButHostMeansNoAttachmentAndANameIsMadeWhenNoneIsGiven) {
  SwarmJobOptions o = Options();
  o.container.network_mode = NetworkMode::kNone;
  o.container.name.clear();
  o.node_id.clear();
  SwarmServiceSpec s = SwarmJobSpec(o, Launch());
  EXPECT_EQ(s.network, SwarmNetwork::kNone);
  EXPECT_THAT(s.name, StartsWith("kiln-job-"));
  EXPECT_TRUE(s.constraints.empty());
}

TEST(SwarmJobSpecTest, TheJsonCarriesMountsUserDirPlacementAndNoUpdateConfig) {
  Json j = ServiceSpecJson(SwarmJobSpec(Options(), Launch()));
  const Json& c = j["TaskTemplate"]["ContainerSpec"];
  EXPECT_EQ(c["User"], "0:0");
  EXPECT_EQ(c["Dir"], "/codebuild/output/src1234/src");
  EXPECT_EQ(c["Init"], true);
  EXPECT_EQ(c["Labels"]["kiln.build"], "p:1234");
  ASSERT_EQ(c["Mounts"].size(), 3u);
  EXPECT_EQ(c["Mounts"][1], (Json{{"Type", "bind"},
                                  {"Source", "/state/b/shell"},
                                  {"Target", "/state/b/shell"},
                                  {"ReadOnly", false}}));
  EXPECT_EQ(j["TaskTemplate"]["Placement"]["Constraints"], Json::array({"node.id==node42"}));
  EXPECT_EQ(j["TaskTemplate"]["RestartPolicy"]["Condition"], "none");
  EXPECT_EQ(j["TaskTemplate"]["Resources"]["Limits"]["NanoCPUs"], 2'000'000'000);
  EXPECT_EQ(j["Mode"]["ReplicatedJob"]["TotalCompletions"], 1);
  EXPECT_EQ(j["Mode"]["ReplicatedJob"]["MaxConcurrent"], 1);
  EXPECT_FALSE(j.contains("UpdateConfig"));
  EXPECT_THAT(j["TaskTemplate"]["Networks"], Contains(Json{{"Target", "host"}}));
}

TEST(SwarmJobSpecTest, ServiceFiltersAndIdLists) {
  EXPECT_EQ(ServiceLabelFilterJson({{"kiln.state", "abcd"}, {"kiln.build", ""}}),
            R"({"label":["kiln.build","kiln.state=abcd"]})");
  auto ids = ParseServiceIdList(R"([{"ID":"s1","Spec":{}},{"ID":"s2"}])");
  ASSERT_TRUE(ids.ok());
  EXPECT_THAT(*ids, ElementsAre("s1", "s2"));
  EXPECT_FALSE(ParseServiceIdList(R"([{"Spec":{}}])").ok());
  EXPECT_FALSE(ParseServiceIdList(R"({"ID":"s1"})").ok());
}

}  // namespace
}  // namespace kiln::exec
