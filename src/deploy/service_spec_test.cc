// The typed task definition: every field, its default, and what the process provider refuses.
#include "deploy/service_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "deploy/service_manager.h"
#include "deploy/task_launch.h"
#include "spec/kiln_config.h"

namespace kiln::deploy {
namespace {

using Json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::Pair;
using Condition = ContainerDependency::Condition;

TaskSpec Parse(const std::string& text) {
  auto task = ParseTaskDefinition(Json::parse(text));
  EXPECT_TRUE(task.ok()) << task.status().message();
  return task.ok() ? std::move(*task) : TaskSpec{};
}

TEST(ServiceSpecTest, ContainerDefaultsAreEcsDefaults) {
  TaskSpec task = Parse(R"({"containerDefinitions": [{"name": "web"}]})");
  ASSERT_EQ(task.containers.size(), 1u);
  const ContainerSpec& c = task.containers[0];
  EXPECT_TRUE(c.essential);
  EXPECT_TRUE(c.port_mappings.empty());
  EXPECT_EQ(c.cpu, std::nullopt);
  EXPECT_EQ(c.memory_mib, std::nullopt);
  EXPECT_EQ(c.memory_reservation_mib, std::nullopt);
  EXPECT_EQ(c.stop_timeout_ms, std::nullopt);
  EXPECT_TRUE(c.depends_on.empty());
  EXPECT_EQ(c.log_configuration, std::nullopt);
  EXPECT_EQ(c.user, "");
  EXPECT_EQ(c.working_directory, "");
  EXPECT_EQ(c.health_check, std::nullopt);
  EXPECT_EQ(task.network_mode, NetworkMode::kUnset);
  EXPECT_EQ(task.cpu, std::nullopt);
  EXPECT_EQ(task.memory_mib, std::nullopt);
  EXPECT_EQ(task.family, "");
}

TEST(ServiceSpecTest, EveryContainerFieldIsTyped) {
  TaskSpec task = Parse(R"({"containerDefinitions": [{"name": "web", "image": "web:1",
    "essential": false, "entryPoint": ["/bin/sh", "-c"], "command": ["exec web"],
    "environment": [{"name": "A", "value": "1"}],
    "secrets": [{"name": "DB", "valueFrom": "arn:aws:ssm:r:1:parameter/app/db"}],
    "portMappings": [{"containerPort": 4567, "hostPort": 0, "protocol": "udp", "name": "p"},
                     {"containerPort": 80}],
    "healthCheck": {"command": ["CMD", "/check"], "interval": 10, "timeout": 3, "retries": 2,
                    "startPeriod": 20},
    "cpu": 512, "memory": 300, "memoryReservation": 128, "stopTimeout": 45,
    "dependsOn": [{"containerName": "db", "condition": "HEALTHY"},
                  {"containerName": "init", "condition": "SUCCESS"}],
    "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "g"}},
    "workingDirectory": "/srv", "user": "1000:1000"}]})");
  const ContainerSpec& c = task.containers.at(0);
  EXPECT_EQ(c.image, "web:1");
  EXPECT_FALSE(c.essential);
  EXPECT_THAT(c.entry_point, ElementsAre("/bin/sh", "-c"));
  EXPECT_THAT(c.command, ElementsAre("exec web"));
  EXPECT_THAT(c.environment, ElementsAre(Pair("A", "1")));
  EXPECT_THAT(c.secrets, ElementsAre(Pair("DB", "arn:aws:ssm:r:1:parameter/app/db")));
  ASSERT_EQ(c.port_mappings.size(), 2u);
  EXPECT_EQ(c.port_mappings[0].container_port, 4567);
  EXPECT_EQ(c.port_mappings[0].host_port, 0);
  EXPECT_EQ(c.port_mappings[0].protocol, "udp");
  EXPECT_EQ(c.port_mappings[0].name, "p");
  EXPECT_EQ(c.port_mappings[1].protocol, "tcp");  // ECS's default
  EXPECT_EQ(c.health_check->interval_ms, 10'000);
  EXPECT_EQ(c.health_check->timeout_ms, 3'000);
  EXPECT_EQ(c.health_check->retries, 2);
  EXPECT_EQ(c.health_check->start_period_ms, 20'000);
  EXPECT_EQ(c.cpu, 512);
  EXPECT_EQ(c.memory_mib, 300);
  EXPECT_EQ(c.memory_reservation_mib, 128);
  EXPECT_EQ(c.stop_timeout_ms, 45'000);
  ASSERT_EQ(c.depends_on.size(), 2u);
  EXPECT_EQ(c.depends_on[0].container_name, "db");
  EXPECT_EQ(c.depends_on[0].condition, Condition::kHealthy);
  EXPECT_EQ(c.depends_on[1].condition, Condition::kSuccess);
  EXPECT_EQ(c.log_configuration->log_driver, "awslogs");
  EXPECT_THAT(c.log_configuration->options, ElementsAre(Pair("awslogs-group", "g")));
  EXPECT_EQ(c.working_directory, "/srv");
  EXPECT_EQ(c.user, "1000:1000");
}

TEST(ServiceSpecTest, TaskLevelFieldsAsEcsWritesThem) {
  TaskSpec task = Parse(R"({"family": "backend-flask", "networkMode": "awsvpc",
    "cpu": "0.5 vCPU", "memory": "1 GB", "requiresCompatibilities": ["FARGATE"],
    "executionRoleArn": "arn:aws:iam::1:role/E", "taskRoleArn": "arn:aws:iam::1:role/T",
    "containerDefinitions": [{"name": "web"}]})");
  EXPECT_EQ(task.family, "backend-flask");
  EXPECT_EQ(task.network_mode, NetworkMode::kAwsvpc);
  EXPECT_EQ(task.cpu, 512);
  EXPECT_EQ(task.memory_mib, 1024);
  EXPECT_THAT(task.requires_compatibilities, ElementsAre("FARGATE"));
  EXPECT_EQ(task.execution_role_arn, "arn:aws:iam::1:role/E");
  EXPECT_EQ(task.task_role_arn, "arn:aws:iam::1:role/T");
  EXPECT_EQ(Parse(R"({"cpu": 256, "memory": "512", "networkMode": "host",
                      "containerDefinitions": [{"name": "w"}]})")
                .memory_mib,
            512);
  for (auto [mode, want] :
       {std::pair{"bridge", NetworkMode::kBridge}, std::pair{"host", NetworkMode::kHost},
        std::pair{"none", NetworkMode::kNone}}) {
    Json task_json = {{"networkMode", mode}, {"containerDefinitions", {{{"name", "w"}}}}};
    EXPECT_EQ(ParseTaskDefinition(task_json)->network_mode, want) << mode;
  }
}

TEST(ServiceSpecTest, MalformedValuesAreInvalidInput) {
  for (const char* text : {R"({"containerDefinitions": []})",
                           R"({"networkMode": "nat", "containerDefinitions": [{"name": "w"}]})",
                           R"({"cpu": "lots", "containerDefinitions": [{"name": "w"}]})",
                           R"({"containerDefinitions": [{"name": "w",
            "dependsOn": [{"containerName": "x", "condition": "READY"}]}]})"}) {
    auto task = ParseTaskDefinition(Json::parse(text));
    ASSERT_FALSE(task.ok()) << text;
    EXPECT_EQ(task.status().kind(), base::ErrorKind::kInvalidInput) << text;
  }
}

TEST(ServiceSpecTest, SeveralContainersAndTheMainOne) {
  TaskSpec task = Parse(R"({"containerDefinitions": [
    {"name": "init", "essential": false, "command": ["true"]},
    {"name": "web", "command": ["web"]}, {"name": "log", "command": ["log"]}]})");
  ASSERT_EQ(task.containers.size(), 3u);
  EXPECT_EQ(task.main().name, "web");  // the first essential one
  ASSERT_NE(task.Find("log"), nullptr);
  EXPECT_EQ(task.Find("log")->command[0], "log");
  EXPECT_EQ(task.Find("db"), nullptr);
}

TEST(ServiceSpecTest, TheProcessProviderRunsOneContainerWithACommand) {
  TaskSpec two = Parse(R"({"containerDefinitions": [{"name": "a", "command": ["a"]},
                                                     {"name": "b", "command": ["b"]}]})");
  base::Status st = CheckProcessTask(two);
  EXPECT_EQ(st.kind(), base::ErrorKind::kUnsupported);
  EXPECT_EQ(st.message(),
            "the process provider runs one container per task; this task definition has 2");
  st = CheckProcessTask(Parse(R"({"containerDefinitions": [{"name": "a"}]})"));
  EXPECT_EQ(st.kind(), base::ErrorKind::kInvalidInput);
  EXPECT_EQ(st.message(),
            "container 'a' needs a command or an entryPoint (the process provider has no image "
            "default)");
  EXPECT_TRUE(CheckProcessTask(Parse(R"({"containerDefinitions": [{"name": "a",
                                         "entryPoint": ["a"]}]})"))
                  .ok());
}

spec::KilnConfig Config(const std::string& provider, const std::string& containers) {
  spec::ParsedConfig parsed =
      spec::ParseKilnConfig("clusters: {c: {provider: " + provider +
                                "}}\nservices:\n  web:\n    cluster: c\n    taskDefinition:\n"
                                "      containerDefinitions:\n" +
                                containers,
                            "kiln.yml");
  EXPECT_TRUE(parsed.config.has_value())
      << (parsed.diagnostics.empty() ? "" : parsed.diagnostics[0].ToString());
  return parsed.config.value_or(spec::KilnConfig{});
}

const std::string kTwoContainers =
    "        - {name: web, command: [web]}\n"
    "        - {name: log, command: [log], essential: false}\n";

TEST(ServiceSpecTest, TheServiceCarriesItsClustersProvider) {
  spec::KilnConfig config = Config("docker", kTwoContainers);
  ASSERT_EQ(config.services.size(), 1u);
  auto spec = ParseServiceSpec(config.services[0], config.FindCluster("c"));
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->provider, "docker");
  EXPECT_EQ(spec->engine, "unix:///var/run/docker.sock");
  EXPECT_EQ(spec->task.containers.size(), 2u);  // an engine's task may have several
  auto defaulted = ParseServiceSpec(config.services[0]);
  ASSERT_TRUE(defaulted.ok());
  EXPECT_EQ(defaulted->provider, "process");  // no cluster given: the default process one
  EXPECT_EQ(defaulted->engine, "");
}

TEST(ServiceSpecTest, AProcessClusterRefusesSeveralContainersWhenItStarts) {
  spec::KilnConfig config = Config("process", kTwoContainers);
  boost::asio::io_context io;
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("kiln-spec-" + std::to_string(::getpid()));
  auto manager = ServiceManager::Create(io, {.state_dir = dir, .config = &config});
  ASSERT_TRUE(manager.ok()) << manager.status().message();
  base::Status st = (*manager)->Start();
  EXPECT_EQ(st.kind(), base::ErrorKind::kUnsupported);
  EXPECT_EQ(st.message(),
            "service web: the process provider runs one container per task; this task "
            "definition has 2");
  manager->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kiln::deploy
