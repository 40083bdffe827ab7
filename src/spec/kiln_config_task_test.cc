// kiln.yml task definitions (ECS RegisterTaskDefinition fields) and clusters.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/conformance.h"
#include "spec/kiln_config.h"
#include "spec/test_util.h"

namespace kiln::spec {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;
using ::testing::StartsWith;

// A valid service whose one container ends the text (line 8), to add fields to.
const std::string kService = R"yaml(clusters:
  local: { provider: docker }
services:
  web:
    cluster: local
    taskDefinition:
      containerDefinitions:
        - name: web
)yaml";

KilnConfig Valid(std::string_view text) { return ValidKilnConfig(text); }

nlohmann::json Task(const KilnConfig& config) {
  if (config.services.empty()) return {};
  return nlohmann::json::parse(config.services[0].definition_json)["taskDefinition"];
}

const std::string kC0 = "services.web.taskDefinition.containerDefinitions[0]";

TEST(KilnConfigTaskTest, EveryContainerFieldIsReadAndKept) {
  KilnConfig config = Valid(kService +
                            "          image: 127.0.0.1:5000/web:latest\n"
                            "          essential: true\n"
                            "          entryPoint: [/bin/sh, -c]\n"
                            "          command: [\"exec web\"]\n"
                            "          environment: [{name: A, value: \"\"}]\n"
                            "          portMappings: [{containerPort: 80, hostPort: 0, "
                            "protocol: udp, name: web}]\n"
                            "          healthCheck: {command: [NONE]}\n"
                            "          cpu: 512\n"
                            "          memory: 300\n"
                            "          memoryReservation: \"128\"\n"
                            "          stopTimeout: 120\n"
                            "          logConfiguration: {logDriver: json-file, options: "
                            "{max-size: 10m}}\n"
                            "          workingDirectory: /srv\n"
                            "          user: \"1000:1000\"\n");
  nlohmann::json c = Task(config)["containerDefinitions"][0];
  EXPECT_EQ(c["cpu"], 512);
  EXPECT_EQ(c["memory"], 300);
  EXPECT_EQ(c["memoryReservation"], 128);
  EXPECT_EQ(c["stopTimeout"], 120);
  EXPECT_EQ(c["portMappings"][0]["hostPort"], 0);
  EXPECT_EQ(c["portMappings"][0]["protocol"], "udp");
  EXPECT_EQ(c["logConfiguration"]["options"]["max-size"], "10m");
  EXPECT_EQ(c["user"], "1000:1000");
  EXPECT_EQ(c["healthCheck"]["command"], nlohmann::json::array({"NONE"}));
}

TEST(KilnConfigTaskTest, ContainerRangesFollowEcs) {
  EXPECT_THAT(
      KilnConfigErrors(
          kService +
          "          portMappings: [{containerPort: 0}, {hostPort: 65536, containerPort: 1}, "
          "{hostPort: 80}]\n"),
      ElementsAre(StartsWith("9:42: " + kC0 +
                             ".portMappings[0].containerPort must be an "
                             "integer from 1 to 65535, not '0'"),
                  StartsWith("9:57: " + kC0 +
                             ".portMappings[1].hostPort must be an integer "
                             "from 0 to 65535"),
                  "9:83: " + kC0 + ".portMappings[2] has no 'containerPort', which is required"));
  EXPECT_THAT(
      KilnConfigErrors(kService + "          cpu: -1\n          memory: 4\n"
                                  "          memoryReservation: 5\n          stopTimeout: 1\n"),
      ElementsAre(StartsWith("9:16: " + kC0 + ".cpu must be an integer from 0 to 262144"),
                  StartsWith("10:19: " + kC0 + ".memory must be an integer from 6 to"),
                  StartsWith("11:30: " + kC0 +
                             ".memoryReservation must be an integer "
                             "from 6 to"),
                  StartsWith("12:24: " + kC0 +
                             ".stopTimeout must be an integer from 2 "
                             "to 120")));
  EXPECT_THAT(
      KilnConfigErrors(kService + "          memory: 128\n          memoryReservation: 128\n"),
      ElementsAre(StartsWith("10:30: " + kC0 +
                             ".memoryReservation (128 MiB) must be "
                             "less than memory (128 MiB)")));
  EXPECT_THAT(KilnConfigErrors(kService + "          memoryReservation: 64\n"), IsEmpty());
}

TEST(KilnConfigTaskTest, HealthCheckFollowsEcs) {
  std::string check = kService + "          healthCheck: ";
  EXPECT_THAT(
      KilnConfigErrors(check + "{command: [CMD-SHELL, \"true\"], interval: 301, timeout: 61, "
                               "retries: 11, startPeriod: 301}\n"),
      ElementsAre(HasSubstr("interval must be an integer from 5 to 300"),
                  HasSubstr("timeout must be an integer from 2 to 60"),
                  HasSubstr("retries must be an integer from 1 to 10"),
                  HasSubstr("startPeriod must be an integer from 0 to 300")));
  EXPECT_THAT(KilnConfigErrors(check + "{command: [NONE, x]}\n"),
              ElementsAre(AllOf(StartsWith("9:34: " + kC0 + ".healthCheck.command must be"),
                                HasSubstr("[\"NONE\"] (ECS)"))));
  EXPECT_THAT(KilnConfigErrors(check + "{command: [CMD]}\n"),
              ElementsAre(HasSubstr("command must be")));
  EXPECT_THAT(KilnConfigErrors(check + "{command: [CMD, /bin/check, -q], interval: 5, timeout: 2, "
                                       "retries: 1, startPeriod: 0}\n"),
              IsEmpty());
}

TEST(KilnConfigTaskTest, LogConfigurationTakesEcsDrivers) {
  EXPECT_THAT(
      KilnConfigErrors(kService + "          logConfiguration: {logDriver: awslogs, options: "
                                  "{awslogs-group: cruddur}, secretOptions: []}\n"),
      IsEmpty());
  EXPECT_THAT(KilnConfigErrors(kService + "          logConfiguration: {logDriver: loki}\n"),
              ElementsAre(StartsWith("9:41: " + kC0 +
                                     ".logConfiguration.logDriver must be one "
                                     "of json-file, syslog")));
  EXPECT_THAT(KilnConfigErrors(kService + "          logConfiguration: {options: {a: [1]}}\n"),
              ElementsAre(StartsWith("9:43: " + kC0 +
                                     ".logConfiguration.options.a must be a "
                                     "string"),
                          HasSubstr("has no 'logDriver'")));
}

const std::string kTwo = kService +
                         "        - name: db\n"
                         "          essential: false\n";

TEST(KilnConfigTaskTest, DependsOnNamesAContainerOfTheTask) {
  EXPECT_THAT(
      KilnConfigErrors(kService + "          dependsOn: [{containerName: db, condition: START}]\n"),
      ElementsAre(StartsWith("9:39: " + kC0 +
                             ".dependsOn[0].containerName names 'db', "
                             "which is not a container")));
  EXPECT_THAT(
      KilnConfigErrors(kTwo + "          dependsOn: [{containerName: db, condition: READY}]\n"),
      ElementsAre(StartsWith("11:54: services.web.taskDefinition.containerDefinitions[1]"
                             ".dependsOn[0].condition must be one of START, COMPLETE, "
                             "SUCCESS, HEALTHY")));
  EXPECT_THAT(KilnConfigErrors(kTwo + "          dependsOn: [{containerName: web}]\n"),
              ElementsAre(HasSubstr("dependsOn[0] has no 'condition', which is required")));
}

TEST(KilnConfigTaskTest, DependsOnConditionsFollowEcs) {
  std::string web_on_db = kService + "          dependsOn: [{containerName: db, condition: ";
  EXPECT_THAT(KilnConfigErrors(web_on_db + "HEALTHY}]\n        - name: db\n"),
              ElementsAre("9:54: " + kC0 +
                          ".dependsOn[0].condition HEALTHY needs container 'db' "
                          "to have a healthCheck (ECS)"));
  EXPECT_THAT(KilnConfigErrors(web_on_db + "SUCCESS}]\n        - name: db\n"),
              ElementsAre(StartsWith("9:54: " + kC0 +
                                     ".dependsOn[0].condition SUCCESS cannot "
                                     "wait for essential container 'db'")));
  EXPECT_THAT(
      KilnConfigErrors(web_on_db + "HEALTHY}]\n        - name: db\n"
                                   "          healthCheck: {command: [CMD-SHELL, \"true\"]}\n"),
      IsEmpty());
  EXPECT_THAT(
      KilnConfigErrors(web_on_db + "COMPLETE}]\n        - name: db\n          essential: false\n"),
      IsEmpty());
}

TEST(KilnConfigTaskTest, DependsOnCyclesAreRefused) {
  EXPECT_THAT(
      KilnConfigErrors(kTwo + "          dependsOn: [{containerName: web, condition: START}]\n"
                              "        - name: log\n"
                              "          essential: false\n"
                              "          dependsOn: [{containerName: log, condition: START}]\n"),
      ElementsAre("14:11: services.web.taskDefinition: containers depend on each other "
                  "in a cycle: log -> log (ECS)"));
  EXPECT_THAT(
      KilnConfigErrors(kService + "          dependsOn: [{containerName: db, condition: START}]\n" +
                       "        - name: db\n"
                       "          dependsOn: [{containerName: web, condition: START}]\n"),
      ElementsAre("9:11: services.web.taskDefinition: containers depend on each other "
                  "in a cycle: web -> db -> web (ECS)"));
}

TEST(KilnConfigTaskTest, TaskLevelFieldsAsEcsWritesThem) {
  std::string text = kService;
  text.insert(text.find("      containerDefinitions"),
              "      family: web\n"
              "      networkMode: awsvpc\n"
              "      cpu: \"0.25 vCPU\"\n"
              "      memory: 1 GB\n"
              "      requiresCompatibilities: [FARGATE, EC2]\n"
              "      executionRoleArn: arn:aws:iam::123456789012:role/Exec\n"
              "      taskRoleArn: arn:aws:iam::123456789012:role/Task\n");
  nlohmann::json task = Task(Valid(text));
  EXPECT_EQ(task["cpu"], "256");
  EXPECT_EQ(task["memory"], "1024");
  EXPECT_EQ(task["networkMode"], "awsvpc");
  EXPECT_EQ(task["taskRoleArn"], "arn:aws:iam::123456789012:role/Task");
}

TEST(KilnConfigTaskTest, TaskLevelRefusals) {
  std::string text = kService;
  text.insert(text.find("      containerDefinitions"),
              "      networkMode: nat\n"
              "      cpu: 64\n"
              "      memory: lots\n");
  EXPECT_THAT(
      KilnConfigErrors(text),
      ElementsAre(StartsWith("7:20: services.web.taskDefinition.networkMode must be one of "
                             "bridge, host, awsvpc, none"),
                  "8:12: services.web.taskDefinition.cpu must be CPU units from 128 to 196608 "
                  "(\"256\") or vCPUs (\"0.25 vCPU\"), not '64' (ECS)",
                  StartsWith("9:15: services.web.taskDefinition.memory must be MiB from 6 to")));
  std::string lambda = kService;
  lambda.insert(lambda.find("      containerDefinitions"),
                "      requiresCompatibilities: [EC2, LAMBDA]\n");
  EXPECT_THAT(KilnConfigErrors(lambda),
              ElementsAre(StartsWith("7:38: services.web.taskDefinition.requiresCompatibilities[1] "
                                     "must be one of EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES, "
                                     "not 'LAMBDA'")));
  std::string fargate = kService;
  fargate.insert(fargate.find("      containerDefinitions"),
                 "      requiresCompatibilities: [FARGATE]\n");
  EXPECT_THAT(KilnConfigErrors(fargate),
              ElementsAre("7:7: services.web.taskDefinition: "
                          "requiresCompatibilities FARGATE needs networkMode "
                          "awsvpc (ECS)"));
}

TEST(KilnConfigTaskTest, HostPortsFollowTheNetworkMode) {
  auto with_mode = [](const std::string& mode, const std::string& mapping) {
    std::string text = kService + "          portMappings: [" + mapping + "]\n";
    text.insert(text.find("      containerDefinitions"), "      networkMode: " + mode + "\n");
    return KilnConfigErrors(text);
  };
  EXPECT_THAT(with_mode("bridge", "{containerPort: 80, hostPort: 8080}"), IsEmpty());
  EXPECT_THAT(with_mode("awsvpc", "{containerPort: 80}"), IsEmpty());
  EXPECT_THAT(with_mode("host", "{containerPort: 80, hostPort: 80}"), IsEmpty());
  EXPECT_THAT(with_mode("awsvpc", "{containerPort: 80, hostPort: 0}"),
              ElementsAre("10:56: " + kC0 +
                          ".portMappings[0].hostPort must be left out or "
                          "equal containerPort (80) with networkMode awsvpc "
                          "(ECS)"));
  EXPECT_THAT(with_mode("none", "{containerPort: 80}"),
              ElementsAre("10:11: " + kC0 + ".portMappings: networkMode none has none (ECS)"));
}

TEST(KilnConfigTaskTest, PortAndDependsOnProblemsAreReportedTogether) {
  std::string text = kService +
                     "          portMappings: [{containerPort: 80}]\n"
                     "          dependsOn: [{containerName: db, condition: START}]\n";
  text.insert(text.find("      containerDefinitions"), "      networkMode: none\n");
  EXPECT_THAT(KilnConfigErrors(text),
              ElementsAre("10:11: " + kC0 + ".portMappings: networkMode none has none (ECS)",
                          StartsWith("11:39: " + kC0 + ".dependsOn[0].containerName names 'db'")));
}

TEST(KilnConfigTaskTest, ContainerCountFollowsEcs) {
  std::string text = kService;
  for (int i = 1; i <= 10; ++i) text += "        - name: c" + std::to_string(i) + "\n";
  EXPECT_THAT(KilnConfigErrors(text),
              ElementsAre("7:7: services.web.taskDefinition.containerDefinitions "
                          "needs 1 to 10 containers (ECS), not 11"));
}

TEST(KilnConfigTaskTest, SecretsNameParametersAndSecretsByNameOrArn) {
  std::string secrets = kService +
                        "          secrets:\n"
                        "            - {name: A, valueFrom: "
                        "\"arn:aws:ssm:us-west-2:123456789012:parameter/cruddur/db\"}\n"
                        "            - {name: B, valueFrom: "
                        "\"arn:aws:secretsmanager:us-west-2:123456789012:secret:token:::\"}\n"
                        "            - {name: C, valueFrom: plain}\n"
                        "parameters:\n"
                        "  /cruddur/db: {env: DB}\n"
                        "  plain: {env: PLAIN}\n"
                        "secrets:\n"
                        "  token: {env: TOKEN}\n";
  EXPECT_THAT(KilnConfigErrors(secrets), IsEmpty());
  EXPECT_THAT(
      KilnConfigErrors(kService + "          secrets: [{name: A, valueFrom: "
                                  "\"arn:aws:secretsmanager:r:1:secret:token:password::\"}]\n"),
      ElementsAre(StartsWith("9:42: " + kC0 +
                             ".secrets[0].valueFrom selects a JSON key "
                             "or version")));
  EXPECT_THAT(KilnConfigErrors(kService + "          secrets: [{name: A, valueFrom: "
                                          "\"arn:aws:ssm:r:1:parameter/x\"}]\n"),
              ElementsAre(HasSubstr(".secrets[0].valueFrom refers to 'x', which neither")));
}

TEST(KilnConfigTaskTest, TaskSizesAndSecretNames) {
  EXPECT_THAT(ParseTaskCpu("256"), Optional(256));
  EXPECT_THAT(ParseTaskCpu("1 vCPU"), Optional(1024));
  EXPECT_THAT(ParseTaskCpu("0.5vcpu"), Optional(512));
  EXPECT_EQ(ParseTaskCpu("0.0001 vCPU"), std::nullopt);  // not whole units
  EXPECT_EQ(ParseTaskCpu("1 GB"), std::nullopt);
  EXPECT_THAT(ParseTaskMemory("512"), Optional(512));
  EXPECT_THAT(ParseTaskMemory("2GB"), Optional(2048));
  EXPECT_THAT(ParseTaskMemory("0.5 gb"), Optional(512));
  EXPECT_EQ(ParseTaskMemory(""), std::nullopt);
  EXPECT_EQ(ParseTaskMemory("-1 GB"), std::nullopt);
  EXPECT_THAT(SecretReferenceName("arn:aws:ssm:r:1:parameter/a/b"), Optional(std::string("/a/b")));
  EXPECT_THAT(SecretReferenceName("arn:aws:ssm:r:1:parameter/a"), Optional(std::string("a")));
  EXPECT_THAT(SecretReferenceName("arn:aws:secretsmanager:r:1:secret:db-AbCdEf"),
              Optional(std::string("db-AbCdEf")));
  EXPECT_EQ(SecretReferenceName("arn:aws:secretsmanager:r:1:secret:db:user::"), std::nullopt);
  EXPECT_THAT(SecretReferenceName("/cruddur/x"), Optional(std::string("/cruddur/x")));
}

TEST(KilnConfigTaskTest, ClustersNameTheirProviderAndEngine) {
  KilnConfig config = Valid(
      "clusters:\n"
      "  p: {}\n"
      "  d: {provider: docker}\n"
      "  s: {provider: swarm, engine: \"unix:///run/user/1000/docker.sock\"}\n");
  ASSERT_EQ(config.clusters.size(), 3u);
  EXPECT_EQ(config.clusters[0].provider, "process");
  EXPECT_EQ(config.clusters[0].engine, "");
  EXPECT_EQ(config.clusters[1].engine, "unix:///var/run/docker.sock");
  EXPECT_EQ(config.clusters[2].provider, "swarm");
  EXPECT_EQ(config.clusters[2].engine, "unix:///run/user/1000/docker.sock");
  EXPECT_THAT(KilnConfigErrors("clusters:\n"
                               "  a: {provider: kubernetes}\n"
                               "  b: {provider: docker, engine: \"tcp://10.0.0.1:2375\"}\n"
                               "  c: {provider: process, engine: \"unix:///x.sock\"}\n"
                               "  d: {provider: docker, engine: \"unix://\"}\n"
                               "  e: {provider: docker, host: x}\n"),
              ElementsAre(StartsWith("2:17: clusters.a.provider must be one of process, docker, "
                                     "swarm"),
                          "3:33: clusters.b.engine must be a unix socket URL such as "
                          "unix:///var/run/docker.sock, not 'tcp://10.0.0.1:2375' (other "
                          "transports are not supported yet)",
                          "4:26: clusters.c.engine applies to providers docker and swarm, not "
                          "process",
                          StartsWith("5:33: clusters.d.engine must be a unix socket URL"),
                          StartsWith("6:25: unknown key 'host' in clusters.e")));
}

// Cruddur's task definitions as register-task-definition takes them (the shape of
// aws/task-definitions/*.json in the bootcamp repositories): Fargate, awsvpc, sizes as
// strings, awslogs, SSM ARNs for secrets.
const std::string kCruddurShaped = R"({"family": "backend-flask",
 "executionRoleArn": "arn:aws:iam::123456789012:role/CruddurServiceExecutionRole",
 "taskRoleArn": "arn:aws:iam::123456789012:role/CruddurTaskRole",
 "networkMode": "awsvpc", "cpu": "256", "memory": "512",
 "requiresCompatibilities": ["FARGATE"],
 "containerDefinitions": [{"name": "backend-flask",
   "image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/backend-flask", "essential": true,
   "healthCheck": {"command": ["CMD-SHELL", "python /backend-flask/bin/health-check"],
                   "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 60},
   "portMappings": [{"name": "backend-flask", "containerPort": 4567, "protocol": "tcp",
                     "appProtocol": "http"}],
   "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "cruddur",
     "awslogs-region": "us-west-2", "awslogs-stream-prefix": "backend-flask"}},
   "environment": [{"name": "OTEL_SERVICE_NAME", "value": "backend-flask"}],
   "secrets": [{"name": "CONNECTION_URL", "valueFrom":
     "arn:aws:ssm:us-west-2:123456789012:parameter/cruddur/backend-flask/CONNECTION_URL"}]}]})";

// A kiln.yml with one service on a docker cluster running task_definition, and a parameter
// for every secret it refers to.
std::string ServiceAround(const nlohmann::json& task_definition) {
  std::string text =
      "clusters: {c: {provider: docker}}\nservices:\n  svc:\n    cluster: c\n"
      "    taskDefinition: " +
      task_definition.dump() + "\n";
  std::set<std::string> names;
  for (const nlohmann::json& c : task_definition.value("containerDefinitions", nlohmann::json()))
    for (const nlohmann::json& s : c.value("secrets", nlohmann::json::array())) {
      auto name = SecretReferenceName(s.value("valueFrom", ""));
      if (name) names.insert(*name);
    }
  if (!names.empty()) text += "parameters:\n";
  for (const std::string& name : names) text += "  \"" + name + "\": {env: X}\n";
  return text;
}

TEST(KilnConfigTaskTest, CruddurShapedTaskDefinitionValidates) {
  KilnConfig config = Valid(ServiceAround(nlohmann::json::parse(kCruddurShaped)));
  nlohmann::json task = Task(config);
  EXPECT_EQ(task["memory"], "512");
  EXPECT_EQ(task["containerDefinitions"][0]["portMappings"][0]["appProtocol"], "http");
}

// Every task definition in the conformance corpus (a JSON file with containerDefinitions)
// validates as a kiln.yml service's taskDefinition.
TEST(KilnConfigTaskTest, ConformanceTaskDefinitionsValidate) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  int seen = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(base::ConformanceDir())) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    nlohmann::json json = nlohmann::json::parse(ReadFile(entry.path().string()), nullptr, false);
    if (!json.is_object() || !json.contains("containerDefinitions")) continue;
    ++seen;
    ParsedConfig parsed = ParseKilnConfig(ServiceAround(json), entry.path().string());
    EXPECT_THAT(parsed.diagnostics, IsEmpty()) << entry.path() << "\n"
                                               << Describe(parsed.diagnostics);
  }
  if (seen == 0) GTEST_SKIP() << "the conformance corpus has no task definition yet";
}

}  // namespace
}  // namespace kiln::spec
