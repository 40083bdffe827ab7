// The docker provider end to end on the fixture's engine: container tasks behind the load
// balancer, rolled with zero failed requests, rolled back by the circuit breaker, adopted
// after a crash, gone after shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <set>

#include "deploy/service_manager.h"
#include "deploy/test_service.h"
#include "exec/busybox_image.h"
#include "exec/docker_test_engine.h"
#include "exec/task_containers.h"

namespace kiln::deploy {
namespace {

using namespace kiln::deploy::testing;  // NOLINT: test helpers
using Json = nlohmann::json;

// network: the task definition's networkMode (bridge also maps containerPort 8080).
std::string ServiceYaml(const std::string& engine, const std::string& image,
                        const std::string& name, const std::string& network = "host") {
  return "clusters:\n  eng: { provider: docker, engine: \"" + engine +
         "\" }\n"
         "services:\n  " +
         name +
         ":\n    cluster: eng\n    desiredCount: 2\n"
         "    taskDefinition:\n      family: web\n      networkMode: " +
         network +
         "\n"
         "      containerDefinitions:\n"
         "        - name: web\n          image: " +
         image +
         "\n"
         "          entryPoint: [sh, -c]\n"
         "          command: ['" +
         std::string(kBusyboxServe) + "']\n" +
         (network == "bridge" ? "          portMappings: [{ containerPort: 8080, hostPort: 0 }]\n"
                              : "") +
         "          healthCheck: { command: [CMD-SHELL, 'wget -q -O /dev/null "
         "http://127.0.0.1:$PORT/api/health-check'], interval: 5, timeout: 2, retries: 2 }\n"
         "    deploymentConfiguration:\n"
         "      minimumHealthyPercent: 100\n      maximumPercent: 200\n"
         "      deploymentCircuitBreaker: { enable: true, rollback: true }\n"
         "    stopTimeout: 2\n"
         "    loadBalancer:\n      listen: 127.0.0.1:0\n"
         "      healthCheck: { path: /api/health-check, interval: 5, timeout: 2, "
         "healthyThreshold: 2, unhealthyThreshold: 2 }\n"
         "      deregistrationDelay: 5\n";
}

class ContainerServiceTest : public exec::testing::EngineSuite {
 protected:
  void SetUp() override {
    EngineSuite::SetUp();
    if (IsSkipped()) return;
    ASSERT_NE(client_, nullptr);
    root_ = fs::temp_directory_path() / ("kiln-csvc-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    auto tar = exec::BusyboxRootfsTar();
    ASSERT_TRUE(tar.ok()) << tar.status().message();
    for (auto [tag, env] : {std::pair{"v1", "VER=1"}, {"v2", "VER=2"}, {"broken", "BROKEN=1"}}) {
      auto id = (*client_).ImportImage(*tar, "kiln/csvc-web", tag, {std::string("ENV ") + env});
      ASSERT_TRUE(id.ok()) << id.status().message();
    }
    engine_ = "unix://" + (*client_).endpoint().socket_path;
    for (const std::string& id : EngineTasks()) (void)exec::RemoveTask(*client_, id);  // a crash's
  }
  void TearDown() override {
    if (manager_) Shutdown();
    if (!root_.empty()) {
      for (const std::string& id : EngineTasks()) (void)exec::RemoveTask((*client_), id);
      fs::remove_all(root_);
    }
  }

  void Open(const std::string& image, const std::string& network = "host") {
    auto parsed = spec::ParseKilnConfig(ServiceYaml(engine_, image, name_, network), "kiln.yml");
    ASSERT_TRUE(parsed.config) << parsed.diagnostics[0].ToString();
    config_ = *parsed.config;
    manager_ = loop_.Run([&] {
      auto m = ServiceManager::Create(
          loop_.io(), {.state_dir = root_ / "state", .config = &config_, .time_scale = 0.2});
      EXPECT_TRUE(m.ok()) << m.status().message();
      auto st = (*m)->Start();
      EXPECT_TRUE(st.ok()) << st.message();
      return std::move(*m);
    });
  }
  void Shutdown() {
    std::promise<void> done;
    loop_.Run([&] {
      manager_->Shutdown([&] { done.set_value(); });
      return 0;
    });
    done.get_future().wait_for(std::chrono::seconds(30));
    loop_.Run([&] {
      manager_.reset();
      return 0;
    });
  }
  DeploymentOutcome Deploy(const std::string& image) {
    return ServiceManager::DeployAndWait(*manager_, loop_.io(), name_,
                                         {.image_file = ImageDefinitions(image)}, 60'000);
  }
  Json Describe() {
    return loop_.Run([&] { return *manager_->ServiceJson(name_); });
  }
  bool WaitFor(const std::function<bool(const Json&)>& pred, int timeout_ms = 30'000) {
    for (int waited = 0; waited < timeout_ms; waited += 100) {
      if (pred(Describe())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  static bool Steady(const Json& d, int64_t revision, int count) {
    int healthy = 0;
    for (const Json& t : d["tasks"]) {
      healthy += t["revision"] == revision && t["healthStatus"] == "HEALTHY" &&
                 t["lastStatus"] == "RUNNING";
    }
    return healthy == count && int(d["tasks"].size()) == count && d["deployments"].size() == 1 &&
           d["deployments"][0]["rolloutState"] == "COMPLETED";
  }
  uint16_t LbPort() { return Describe()["loadBalancer"]["port"].get<uint16_t>(); }
  void ExpectServes(int version) {
    for (int i = 0; i < 6; ++i) {
      std::string body = HttpGet(LbPort(), "/api/health-check");
      EXPECT_NE(body.find("\"ver\": " + std::to_string(version)), std::string::npos) << body;
    }
  }
  std::set<std::string> EngineTasks() {
    auto ids = exec::ListTasks((*client_), {{exec::kServiceLabel, name_}});
    EXPECT_TRUE(ids.ok());
    return ids.ok() ? std::set<std::string>(ids->begin(), ids->end()) : std::set<std::string>{};
  }
  std::set<std::string> TaskIds() {
    std::set<std::string> ids;
    Json d = Describe();
    for (const Json& t : d["tasks"]) ids.insert(t["taskId"].get<std::string>());
    return ids;
  }

  fs::path root_;
  // Tests of this suite run in parallel (ctest): each has a service, and containers, of its own.
  std::string name_ = "web-" + std::to_string(::getpid());
  std::string engine_;
  LoopThread loop_;
  spec::KilnConfig config_;
  std::unique_ptr<ServiceManager> manager_;
};

TEST_F(ContainerServiceTest, StartsFromKilnYmlRollsWithoutAFailedRequestAndRollsBack) {
  ASSERT_NO_FATAL_FAILURE(Open("kiln/csvc-web:v1"));
  ASSERT_TRUE(WaitFor([](const Json& d) { return Steady(d, 1, 2); })) << Describe().dump(2);
  EXPECT_EQ(EngineTasks(), TaskIds());
  ExpectServes(1);

  LoadClient load(LbPort());
  DeploymentOutcome v2 = Deploy("kiln/csvc-web:v2");
  ASSERT_TRUE(v2.succeeded) << v2.reason;
  EXPECT_EQ(v2.revision, 2);
  ExpectServes(2);

  DeploymentOutcome broken = Deploy("kiln/csvc-web:broken");
  EXPECT_FALSE(broken.succeeded);
  EXPECT_NE(broken.reason.find("circuit breaker"), std::string::npos) << broken.reason;
  EXPECT_EQ(broken.rollback_revision, 2);
  ExpectServes(2);

  DeploymentOutcome missing = Deploy("kiln/csvc-web:missing");
  EXPECT_FALSE(missing.succeeded);
  EXPECT_NE(missing.reason.find("CannotPullContainerError"), std::string::npos) << missing.reason;
  ASSERT_TRUE(WaitFor([](const Json& d) { return Steady(d, 2, 2) && d["taskDefinition"] == 2; }))
      << Describe().dump(2);
  load.Stop();
  EXPECT_GT(load.sent(), 50);
  EXPECT_EQ(load.failed(), 0) << load.first_failure();
  ExpectServes(2);
  EXPECT_EQ(EngineTasks(), TaskIds());  // the stopped tasks' containers are gone
  std::string log;
  std::ifstream in(root_ / "state" / "services" / name_ / "tasks" / (*TaskIds().begin() + ".log"));
  std::getline(in, log);
  EXPECT_EQ(log.rfind("serving 2 on ", 0), 0u) << log;
}

TEST_F(ContainerServiceTest, CrashedServerAdoptsItsTasksAndShutdownRemovesThem) {
  ASSERT_NO_FATAL_FAILURE(Open("kiln/csvc-web:v1"));
  ASSERT_TRUE(WaitFor([](const Json& d) { return Steady(d, 1, 2); })) << Describe().dump(2);
  std::set<std::string> before = TaskIds();
  loop_.Run([&] {
    manager_.reset();  // no Shutdown: as if kill -9
    return 0;
  });
  EXPECT_EQ(EngineTasks(), before);
  ASSERT_NO_FATAL_FAILURE(Open("kiln/csvc-web:v1"));
  ASSERT_TRUE(WaitFor([](const Json& d) { return Steady(d, 1, 2); })) << Describe().dump(2);
  EXPECT_EQ(TaskIds(), before);
  EXPECT_EQ(EngineTasks(), before);
  ExpectServes(1);
  Shutdown();
  EXPECT_TRUE(EngineTasks().empty());
}

// The server dies in the middle of a rollout (a v2 task started, v1 tasks still serving); the
// next one adopts every task, finishes the rollout, and leaves no container it does not know.
TEST_F(ContainerServiceTest, CrashDuringARolloutIsAdoptedAndTheRolloutFinishes) {
  ASSERT_NO_FATAL_FAILURE(Open("kiln/csvc-web:v1"));
  ASSERT_TRUE(WaitFor([](const Json& d) { return Steady(d, 1, 2); })) << Describe().dump(2);
  loop_.Run([&] {
    return manager_->Deploy(name_, {.image_file = ImageDefinitions("kiln/csvc-web:v2")}, nullptr)
        .ok();
  });
  ASSERT_TRUE(WaitFor([](const Json& d) {
    for (const Json& t : d["tasks"]) {
      if (t["revision"] == 2 && t["lastStatus"] == "RUNNING") return true;
    }
    return false;
  })) << Describe().dump(2);
  std::set<std::string> before = TaskIds();
  loop_.Run([&] {
    manager_.reset();  // kill -9 in the middle of the rollout
    return 0;
  });
  ASSERT_NO_FATAL_FAILURE(Open("kiln/csvc-web:v1"));
  std::set<std::string> adopted = TaskIds();
  for (const std::string& id : adopted) EXPECT_TRUE(before.contains(id)) << id << " is new";
  ASSERT_TRUE(WaitFor([](const Json& d) { return Steady(d, 2, 2); })) << Describe().dump(2);
  ExpectServes(2);
  EXPECT_EQ(EngineTasks(), TaskIds());
  Json d = Describe();
  bool told = false;
  for (const Json& e : d["events"]) {
    told = told ||
           e["message"].get<std::string>().find("adopted after a restart") != std::string::npos;
  }
  EXPECT_TRUE(told) << d.dump(2);
}

TEST_F(ContainerServiceTest, ImageThatCannotBeHadRunsNoTaskAndSaysWhy) {
  ASSERT_NO_FATAL_FAILURE(Open("kiln/csvc-web:nowhere"));
  ASSERT_TRUE(WaitFor([](const Json& d) {
    return d.contains("statusReason") && d["statusReason"].get<std::string>().find(
                                             "CannotPullContainerError") != std::string::npos;
  })) << Describe().dump(2);
  EXPECT_TRUE(Describe()["tasks"].empty());
  EXPECT_TRUE(EngineTasks().empty());
  // A deploy that brings an image the engine has runs the service, and the reason goes.
  DeploymentOutcome deployed = Deploy("kiln/csvc-web:v1");
  EXPECT_TRUE(deployed.succeeded) << deployed.reason;
  Json d = Describe();
  EXPECT_FALSE(d.contains("statusReason")) << d.dump(2);
  EXPECT_EQ(d["runningCount"], 2);
}

// The test engine runs with --bridge=none, as CI hosts without iptables do: a bridge task
// cannot run there, and the service says so in ECS's words instead of failing some other way.
TEST_F(ContainerServiceTest, BridgeModeOnAnEngineWithoutABridgeRunsNoTaskAndSaysWhy) {
  ASSERT_NO_FATAL_FAILURE(Open("kiln/csvc-web:v1", "bridge"));
  const std::string why =
      "CannotStartContainerError: networkMode bridge needs the engine's "
      "bridge network, and this engine has none";
  ASSERT_TRUE(WaitFor([&](const Json& d) {
    return d.value("statusReason", "").find(why) != std::string::npos;
  })) << Describe().dump(2);
  EXPECT_TRUE(Describe()["tasks"].empty());
  EXPECT_TRUE(EngineTasks().empty());
  DeploymentOutcome deployed = Deploy("kiln/csvc-web:v2");
  EXPECT_FALSE(deployed.succeeded);
  EXPECT_NE(deployed.reason.find(why), std::string::npos) << deployed.reason;
  EXPECT_TRUE(EngineTasks().empty());
}

}  // namespace
}  // namespace kiln::deploy
