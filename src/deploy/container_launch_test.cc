// LaunchFor's networks as the engine gets them (the create body), and a bridge task's load
// balancer target read back from a recorded inspect. The test engines run with --bridge=none,
// so bridge mode is proven here and its refusal on such an engine in the engine test.
#include <gtest/gtest.h>

#include <algorithm>

#include "deploy/container_runtime.h"
#include "exec/docker_wire.h"

namespace kiln::deploy {
namespace {

using Json = nlohmann::json;

TaskSpec Task(const std::string& network_mode) {
  Json d = Json::parse(R"({"family": "web", "containerDefinitions": [
      {"name": "side", "image": "kiln/side", "essential": false},
      {"name": "web", "image": "kiln/web",
       "portMappings": [{"containerPort": 8080, "hostPort": 0},
                        {"containerPort": 9090, "hostPort": 19090, "protocol": "udp"}]}]})");
  if (!network_mode.empty()) d["networkMode"] = network_mode;
  auto task = ParseTaskDefinition(d);
  EXPECT_TRUE(task.ok()) << task.status().message();
  return *task;
}

// The create body of the task's container `index`.
Json Body(const TaskSpec& task, size_t index) {
  TaskStart start{.row = {.id = "0123456789abcdef0123456789abcdef", .service = "web", .port = 3121},
                  .task = &task};
  exec::TaskLaunch launch = LaunchFor(start, "state1");
  auto spec = exec::TaskContainerSpec(launch, index, 0);
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return spec.ok() ? exec::ContainerCreateBody(*spec) : Json();
}

bool HasEnv(const Json& body, const std::string& entry) {
  const Json& env = body["Env"];
  return std::find(env.begin(), env.end(), entry) != env.end();
}

TEST(ContainerLaunchTest, BridgeTaskPublishesItsPortMappingsOnLoopback) {
  Json web = Body(Task("bridge"), 1);
  EXPECT_EQ(web["HostConfig"]["NetworkMode"], "bridge");
  EXPECT_EQ(web["HostConfig"]["PortBindings"],
            Json::parse(R"({"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
                            "9090/udp": [{"HostIp": "127.0.0.1", "HostPort": "19090"}]})"));
  EXPECT_EQ(web["ExposedPorts"], Json::parse(R"({"8080/tcp": {}, "9090/udp": {}})"));
  EXPECT_TRUE(HasEnv(web, "PORT=8080")) << web["Env"];  // its own port, in its own namespace
  Json side = Body(Task("bridge"), 0);
  EXPECT_EQ(side["HostConfig"]["NetworkMode"], "bridge");
  EXPECT_FALSE(side["HostConfig"].contains("PortBindings"));
}

TEST(ContainerLaunchTest, HostIsTheDefaultAndPublishesNothing) {
  for (std::string mode : {"", "host"}) {
    Json web = Body(Task(mode), 1);
    EXPECT_EQ(web["HostConfig"]["NetworkMode"], "host") << mode;
    EXPECT_FALSE(web["HostConfig"].contains("PortBindings")) << mode;
    EXPECT_FALSE(web.contains("ExposedPorts")) << mode;
    EXPECT_TRUE(HasEnv(web, "PORT=3121")) << web["Env"];  // Kiln's port on the host
  }
  EXPECT_FALSE(BridgeTargetOf(Task("host")));
  EXPECT_FALSE(BridgeTargetOf(Task("")));
}

// `docker inspect` of a bridge container started with -p 127.0.0.1::8080 (trimmed).
constexpr char kInspect[] = R"({"Id": "c0ffee", "Name": "/kiln-web-0123456789ab-web",
  "State": {"Status": "running", "Pid": 42, "StartedAt": "2026-12-07T19:12:22.072185926Z"},
  "Config": {"Labels": {"kiln.task": "0123456789abcdef0123456789abcdef"}},
  "NetworkSettings": {"Bridge": "", "Ports": {
    "8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32768"}],
    "9090/udp": [{"HostIp": "127.0.0.1", "HostPort": "19090"}],
    "7000/tcp": null}}})";

TEST(ContainerLaunchTest, TheTargetIsThePortTheEnginePublished) {
  auto target = BridgeTargetOf(Task("bridge"));
  ASSERT_TRUE(target);
  EXPECT_EQ(target->container, "web");  // the essential one
  EXPECT_EQ(target->port_key, "8080/tcp");
  auto info = exec::ParseContainerInfo(kInspect);
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(PublishedPort(*target, *info), 32768);
  auto unpublished = exec::ParseContainerInfo(R"({"Id": "c", "NetworkSettings": {"Ports": {}}})");
  ASSERT_TRUE(unpublished.ok());
  EXPECT_EQ(PublishedPort(*target, *unpublished), 0);
}

}  // namespace
}  // namespace kiln::deploy
