// The Swarm JSON builders and decoders, against the Engine API's shapes (api/swagger.yaml
// v1.41) and against malformed answers.
#include "exec/swarm_wire.h"

#include <gtest/gtest.h>

#include "base/json_text.h"

namespace kiln::exec {
namespace {

using Json = nlohmann::json;

SwarmServiceSpec WebSpec() {
  SwarmServiceSpec s{.name = "web",
                     .labels = {{"kiln.service", "web"}},
                     .image = "sha256:abc",
                     .command = {"sh", "-c"},
                     .args = {"exec httpd -f"},
                     .env = {"SLOT={{.Task.Slot}}"},
                     .secret_env = {{"DB_PASSWORD", "hunter2-secret"}},
                     .hostname = "{{.Service.Name}}-{{.Task.Slot}}",
                     .init = true};
  s.health_check = HealthcheckConfig{.test = {"CMD", "true"},
                                     .interval_ns = 1000000000,
                                     .timeout_ns = 2000000000,
                                     .start_period_ns = 3000000000,
                                     .retries = 2};
  s.resources = {.nano_cpus_limit = 500000000,
                 .memory_bytes_limit = 64 << 20,
                 .nano_cpus_reservation = 100000000,
                 .memory_bytes_reservation = 32 << 20};
  s.stop_grace_period_ns = 5000000000;
  s.replicas = 2;
  s.update_config = {.parallelism = 1,
                     .delay_ns = 0,
                     .failure_action = SwarmFailureAction::kRollback,
                     .monitor_ns = 2000000000,
                     .max_failure_ratio = 0.5,
                     .order = SwarmUpdateOrder::kStartFirst};
  s.rollback_config = {.parallelism = 0, .failure_action = SwarmFailureAction::kContinue};
  s.restart_policy = {.condition = SwarmRestartCondition::kOnFailure,
                      .delay_ns = 500000000,
                      .max_attempts = 3,
                      .window_ns = 0};
  return s;
}

TEST(SwarmSpecJsonTest, ReplicatedServiceHasTheEngineApiShape) {
  Json j = ServiceSpecJson(WebSpec());
  EXPECT_EQ(j["Name"], "web");
  EXPECT_EQ(j["Labels"]["kiln.service"], "web");
  EXPECT_EQ(j["Mode"], Json::parse(R"({"Replicated":{"Replicas":2}})"));
  const Json& t = j["TaskTemplate"];
  const Json& c = t["ContainerSpec"];
  EXPECT_EQ(c["Image"], "sha256:abc");
  EXPECT_EQ(c["Command"], Json::parse(R"(["sh","-c"])"));
  EXPECT_EQ(c["Args"], Json::parse(R"(["exec httpd -f"])"));
  EXPECT_EQ(c["Env"], Json::parse(R"(["SLOT={{.Task.Slot}}","DB_PASSWORD=hunter2-secret"])"));
  EXPECT_EQ(c["Hostname"], "{{.Service.Name}}-{{.Task.Slot}}");
  EXPECT_EQ(c["Init"], true);
  EXPECT_EQ(c["StopGracePeriod"], 5000000000);
  EXPECT_EQ(c["Healthcheck"], Json::parse(R"({"Test":["CMD","true"],"Interval":1000000000,
      "Timeout":2000000000,"StartPeriod":3000000000,"Retries":2})"));
  EXPECT_EQ(t["Resources"], Json::parse(R"({"Limits":{"NanoCPUs":500000000,"MemoryBytes":67108864},
      "Reservations":{"NanoCPUs":100000000,"MemoryBytes":33554432}})"));
  EXPECT_EQ(t["RestartPolicy"], Json::parse(R"({"Condition":"on-failure","Delay":500000000,
      "MaxAttempts":3,"Window":0})"));
  EXPECT_EQ(t["Networks"], Json::parse(R"([{"Target":"host"}])"));
  EXPECT_EQ(t["ForceUpdate"], 0);
  EXPECT_EQ(j["UpdateConfig"], Json::parse(R"({"Parallelism":1,"Delay":0,
      "FailureAction":"rollback","Monitor":2000000000,"MaxFailureRatio":0.5,"Order":"start-first"})"));
  EXPECT_EQ(j["RollbackConfig"]["FailureAction"], "continue");
  EXPECT_EQ(j["RollbackConfig"]["Order"], "stop-first");
  EXPECT_EQ(j["EndpointSpec"], Json::parse(R"({"Mode":"vip"})"));
}

TEST(SwarmSpecJsonTest, JobHasNoUpdateConfig) {
  SwarmServiceSpec s{.name = "build", .image = "sha256:abc", .command = {"true"}};
  s.mode = SwarmServiceMode::kReplicatedJob;
  s.restart_policy.condition = SwarmRestartCondition::kNone;
  Json j = ServiceSpecJson(s);
  // swarmkit: "Jobs may not have an update config".
  EXPECT_FALSE(j.contains("UpdateConfig"));
  EXPECT_FALSE(j.contains("RollbackConfig"));
  EXPECT_EQ(j["Mode"],
            Json::parse(R"({"ReplicatedJob":{"MaxConcurrent":1,"TotalCompletions":1}})"));
  EXPECT_EQ(j["TaskTemplate"]["RestartPolicy"]["Condition"], "none");
  EXPECT_FALSE(j["TaskTemplate"]["ContainerSpec"].contains("Healthcheck"));
  EXPECT_FALSE(j["TaskTemplate"]["ContainerSpec"].contains("Args"));
}

TEST(SwarmSpecJsonTest, NoNetworkAndHostPublishedPorts) {
  SwarmServiceSpec s{.name = "api", .image = "sha256:abc", .network = SwarmNetwork::kNone};
  s.ports = {{.target_port = 8080, .published_port = 18080},
             {.target_port = 53, .protocol = "udp"}};
  Json j = ServiceSpecJson(s);
  EXPECT_FALSE(j["TaskTemplate"].contains("Networks"));
  EXPECT_EQ(j["EndpointSpec"], Json::parse(R"({"Mode":"vip","Ports":[
      {"Protocol":"tcp","TargetPort":8080,"PublishedPort":18080,"PublishMode":"host"},
      {"Protocol":"udp","TargetPort":53,"PublishedPort":0,"PublishMode":"host"}]})"));
}

TEST(SwarmSpecJsonTest, SecretValuesStayOutOfTheLogForm) {
  std::string logged = base::JsonText(ServiceSpecJsonForLog(WebSpec()));
  EXPECT_EQ(logged.find("hunter2-secret"), std::string::npos) << logged;
  EXPECT_NE(logged.find("DB_PASSWORD=********"), std::string::npos) << logged;
  EXPECT_NE(base::JsonText(ServiceSpecJson(WebSpec())).find("hunter2-secret"), std::string::npos);
}

TEST(SwarmSpecJsonTest, ValidSpecPasses) {
  auto st = ValidateServiceSpec(WebSpec());
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST(SwarmSpecJsonTest, InvalidSpecsAreRefusedWithoutQuotingSecrets) {
  std::vector<std::pair<const char*, void (*)(SwarmServiceSpec&)>> cases = {
      {"no name", [](SwarmServiceSpec& s) { s.name.clear(); }},
      {"no image", [](SwarmServiceSpec& s) { s.image.clear(); }},
      {"sub-ms interval", [](SwarmServiceSpec& s) { s.health_check->interval_ns = 999; }},
      {"negative retries", [](SwarmServiceSpec& s) { s.health_check->retries = -1; }},
      {"negative replicas", [](SwarmServiceSpec& s) { s.replicas = -1; }},
      {"tiny memory", [](SwarmServiceSpec& s) { s.resources.memory_bytes_limit = 1024; }},
      {"tiny cpu", [](SwarmServiceSpec& s) { s.resources.nano_cpus_reservation = 10; }},
      {"negative grace", [](SwarmServiceSpec& s) { s.stop_grace_period_ns = -1; }},
      {"ratio", [](SwarmServiceSpec& s) { s.update_config.max_failure_ratio = 1.5; }},
      {"monitor", [](SwarmServiceSpec& s) { s.rollback_config.monitor_ns = -5; }},
      {"rollback of rollback",
       [](SwarmServiceSpec& s) {
         s.rollback_config.failure_action = SwarmFailureAction::kRollback;
       }},
      {"secret in env", [](SwarmServiceSpec& s) { s.env.push_back("DB_PASSWORD=x"); }},
      {"secret name", [](SwarmServiceSpec& s) { s.secret_env["A=B"] = "hunter2-secret"; }},
      {"empty secret name", [](SwarmServiceSpec& s) { s.secret_env[""] = "hunter2-secret"; }},
      {"port", [](SwarmServiceSpec& s) { s.ports.push_back({.target_port = 70000}); }},
      {"protocol",
       [](SwarmServiceSpec& s) { s.ports.push_back({.target_port = 1, .protocol = "x"}); }},
      {"job", [](SwarmServiceSpec& s) {
         s.mode = SwarmServiceMode::kReplicatedJob;
         s.total_completions = 0;
       }}};
  for (const auto& [what, mutate] : cases) {
    SwarmServiceSpec spec = WebSpec();
    mutate(spec);
    auto st = ValidateServiceSpec(spec);
    EXPECT_EQ(st.kind(), base::ErrorKind::kInvalidInput) << what;
    EXPECT_EQ(st.message().find("hunter2-secret"), std::string::npos) << st.message();
  }
}

TEST(SwarmSpecJsonTest, InitAndTaskFilter) {
  EXPECT_EQ(SwarmInitJson({}),
            Json::parse(R"({"ListenAddr":"127.0.0.1:2377","AdvertiseAddr":"127.0.0.1"})"));
  EXPECT_EQ(ServiceTaskFilterJson("abc"), R"({"service":["abc"]})");
}

}  // namespace
}  // namespace kiln::exec
