// A service on a swarm cluster, on the single-node swarm of the swarm_engine fixture: Swarm
// runs its 2 tasks, Kiln's load balancer (in the swarm's network namespace, where the tasks
// listen) serves them, a new image rolls through Swarm's update with zero failed requests, and
// a broken one is rolled back by Swarm (failure_action rollback): a FAILED deployment naming
// the revision Swarm went back to.
#include <gtest/gtest.h>

#include <fstream>

#include "deploy/service_manager.h"
#include "deploy/swarm_plan.h"
#include "deploy/test_service.h"
#include "exec/busybox_image.h"
#include "exec/swarm_test_engine.h"

namespace kiln::deploy {
namespace {

using namespace kiln::deploy::testing;  // NOLINT: test helpers
using Json = nlohmann::json;

// start_period: the health check's (kiln.yml seconds).
std::string SwarmYaml(const std::string& engine, const std::string& image, const std::string& name,
                      int start_period = 0) {
  return "clusters:\n  sw: { provider: swarm, engine: \"" + engine +
         "\" }\n"
         "services:\n  " +
         name +
         ":\n    cluster: sw\n    desiredCount: 2\n"
         "    taskDefinition:\n      family: web\n      networkMode: host\n"
         "      containerDefinitions:\n"
         "        - name: web\n          image: " +
         image +
         "\n"
         "          entryPoint: [sh, -c]\n"
         "          command: ['" +
         std::string(kBusyboxServe) +
         "']\n"
         "          stopTimeout: 2\n"
         "          healthCheck: { command: [CMD-SHELL, 'wget -q -O /dev/null "
         "http://127.0.0.1:$PORT/api/health-check'], interval: 5, timeout: 2, retries: 2, "
         "startPeriod: " +
         std::to_string(start_period) +
         " }\n"
         "    deploymentConfiguration:\n"
         "      minimumHealthyPercent: 100\n      maximumPercent: 200\n"
         "      deploymentCircuitBreaker: { enable: true, rollback: true }\n"
         "    loadBalancer:\n      listen: 127.0.0.1:0\n"
         "      healthCheck: { path: /api/health-check, interval: 5, timeout: 2, "
         "healthyThreshold: 2, unhealthyThreshold: 2 }\n"
         "      deregistrationDelay: 5\n";
}

class ThreadSafeList {
 public:
  void push_back(const std::string& s) {
    std::lock_guard lock(mu_);
    items_.push_back(s);
  }
  std::vector<std::string> items() {
    std::lock_guard lock(mu_);
    return items_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> items_;
};

class SwarmServiceTest : public exec::testing::SwarmEngineSuite {
 protected:
  void SetUp() override {
    SwarmEngineSuite::SetUp();
    if (IsSkipped()) return;
    ASSERT_TRUE(loop_.entered());
    root_ = fs::temp_directory_path() / ("kiln-swsvc-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    auto tar = exec::BusyboxRootfsTar();
    ASSERT_TRUE(tar.ok()) << tar.status().message();
    for (auto [tag, env] :
         {std::pair{"v1", "VER=1"}, {"v2", "VER=2"}, {"broken", "BROKEN=1"}, {"slow", "SLOW=1"}}) {
      auto id =
          swarm_->engine().ImportImage(*tar, "kiln/swsvc-web", tag, {std::string("ENV ") + env});
      ASSERT_TRUE(id.ok()) << id.status().message();
      images_[tag] = *id;
    }
    engine_ = "unix://" + swarm_->engine().endpoint().socket_path;
    (void)swarm_->RemoveService(SwarmServiceName(name_));
  }
  void TearDown() override {
    if (manager_) {
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
    if (swarm_) (void)swarm_->RemoveService(SwarmServiceName(name_));
    if (!root_.empty()) fs::remove_all(root_);
  }
  void Open(const std::string& image, int start_period = 0) {
    auto parsed = spec::ParseKilnConfig(SwarmYaml(engine_, image, name_, start_period), "kiln.yml");
    ASSERT_TRUE(parsed.config) << parsed.diagnostics[0].ToString();
    config_ = *parsed.config;
    manager_ = loop_.Run([&] {
      // A login for every image: the manager (API 1.41) passes it to the nodes' pulls
      // without asking a registry, so it must not get in the way of local images.
      PullAuth login = [this](const std::string& image) -> std::optional<exec::RegistryAuth> {
        logins_asked_.push_back(image);
        return exec::RegistryAuth{.username = "kiln", .password = "pw", .server_address = "x"};
      };
      auto m = ServiceManager::Create(loop_.io(), {.state_dir = root_ / "state",
                                                   .config = &config_,
                                                   .time_scale = 0.2,
                                                   .pull_auth = login});
      EXPECT_TRUE(m.ok()) << m.status().message();
      auto st = (*m)->Start();
      EXPECT_TRUE(st.ok()) << st.message();
      return std::move(*m);
    });
  }
  DeploymentOutcome Deploy(const std::string& image, int64_t action_timeout_ms = 0) {
    return ServiceManager::DeployAndWait(
        *manager_, loop_.io(), name_,
        {.image_file = ImageDefinitions(image), .timeout_ms = action_timeout_ms}, 120'000);
  }
  Json Describe() {
    return loop_.Run([&] { return *manager_->ServiceJson(name_); });
  }
  bool WaitFor(const std::function<bool(const Json&)>& pred, int timeout_ms = 60'000) {
    for (int waited = 0; waited < timeout_ms; waited += 200) {
      if (pred(Describe())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }
  // Every task log's text, each after "<task id>: ".
  std::string AllLogs() {
    auto logs = loop_.Run([&] { return manager_->TaskLogs(name_); });
    EXPECT_TRUE(logs.ok()) << logs.status().message();
    std::string out;
    for (const TaskLog& log : logs.ok() ? *logs : std::vector<TaskLog>{}) {
      std::ifstream in(log.path);
      for (std::string line; std::getline(in, line);) out += log.task_id + ": " + line + "\n";
    }
    return out;
  }
  bool LogsShow(const std::string& text) {
    for (int waited = 0; waited < 30'000; waited += 200) {
      if (AllLogs().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }
  static bool Completed(const Json& d, int64_t revision) {
    return d["deployments"].size() == 1 && d["deployments"][0]["rolloutState"] == "COMPLETED" &&
           d["taskDefinition"] == revision && d["runningCount"] == 2;
  }
  // A GET through the load balancer, from inside the namespace.
  std::string Get() {
    uint16_t port = Describe()["loadBalancer"]["port"].get<uint16_t>();
    std::string body;
    (void)exec::testing::RunInSwarmNetns([&] { body = HttpGet(port, "/api/health-check"); });
    return body;
  }

  // The loop runs in the swarm's network namespace: the load balancer listens there and its
  // health checks reach the tasks' loopback ports.
  LoopThread loop_{exec::testing::SwarmNetnsPath()};
  fs::path root_;
  // ctest runs this suite's tests in parallel: each has a service of its own.
  std::string name_ = "web-" + std::to_string(::getpid());
  std::string engine_;
  std::map<std::string, std::string> images_;
  spec::KilnConfig config_;
  std::unique_ptr<ServiceManager> manager_;
  ThreadSafeList logins_asked_;  // images pull_auth was asked about
};

TEST_F(SwarmServiceTest, SwarmRollsAndRollsBackBehindKilnsLoadBalancer) {
  ASSERT_NO_FATAL_FAILURE(Open(images_["v1"]));
  ASSERT_TRUE(WaitFor([](const Json& d) { return Completed(d, 1); })) << Describe().dump(2);
  EXPECT_NE(Get().find("\"ver\": 1"), std::string::npos) << Get();

  LoadClient load(Describe()["loadBalancer"]["port"].get<uint16_t>(),
                  [](const std::function<void()>& f) { (void)exec::testing::RunInSwarmNetns(f); });
  DeploymentOutcome v2 = Deploy(images_["v2"]);
  EXPECT_TRUE(v2.succeeded) << v2.reason << Describe().dump(2);
  EXPECT_EQ(v2.revision, 2);
  // The followed log stream takes in the tasks the update started.
  EXPECT_TRUE(LogsShow("serving 2 on ")) << AllLogs();
  DeploymentOutcome broken = Deploy(images_["broken"]);
  EXPECT_FALSE(broken.succeeded);
  EXPECT_NE(broken.reason.find("Swarm rolled the update back"), std::string::npos) << broken.reason;
  EXPECT_EQ(broken.rollback_revision, 2);
  EXPECT_TRUE(WaitFor([](const Json& d) { return Completed(d, 2); })) << Describe().dump(2);
  load.Stop();
  EXPECT_GT(load.sent(), 50);
  EXPECT_EQ(load.failed(), 0) << load.first_failure();
  EXPECT_NE(Get().find("\"ver\": 2"), std::string::npos) << Get();
}

// GET /services/{id}/logs kept per task: the line each task printed is in its own log, found
// by the task's Swarm id (and a short prefix of it).
TEST_F(SwarmServiceTest, TaskOutputIsKeptPerTask) {
  ASSERT_NO_FATAL_FAILURE(Open(images_["v1"]));
  ASSERT_TRUE(WaitFor([](const Json& d) { return Completed(d, 1); })) << Describe().dump(2);
  ASSERT_TRUE(LogsShow("serving 1 on ")) << AllLogs();
  // The service was created with the registry login for its image.
  EXPECT_EQ(logins_asked_.items(), std::vector<std::string>{images_["v1"]});
  Json described = Describe();
  for (const Json& task : described["tasks"]) {
    std::string id = task["taskId"];
    std::string port = std::to_string(task["port"].get<int>());
    auto log = loop_.Run([&] { return manager_->FindTaskLog(name_, id.substr(0, 8)); });
    ASSERT_TRUE(log.ok()) << log.status().message();
    EXPECT_EQ(log->task_id, id);
    EXPECT_TRUE(log->running);
    std::ifstream in(log->path);
    std::string first;
    std::getline(in, first);
    EXPECT_EQ(first, "serving 1 on " + port) << "task " << id;
  }
}

// The deploy action's DeploymentTimeout: an update whose task is still starting (its health
// check in a 20 s start period) fails at 4 s with ECS's words, and Swarm rolls the service back
// to revision 1 (update rollback=previous), the old tasks serving throughout.
TEST_F(SwarmServiceTest, DeploymentTimeoutFailsAndSwarmRollsBack) {
  ASSERT_NO_FATAL_FAILURE(Open(images_["v1"], /*start_period=*/100));
  ASSERT_TRUE(WaitFor([](const Json& d) { return Completed(d, 1); })) << Describe().dump(2);
  auto began = std::chrono::steady_clock::now();
  DeploymentOutcome slow = Deploy(images_["slow"], 4'000);
  auto took = std::chrono::steady_clock::now() - began;
  EXPECT_FALSE(slow.succeeded);
  EXPECT_EQ(slow.revision, 2);
  EXPECT_NE(slow.reason.find("did not reach a steady state within the action's DeploymentTimeout "
                             "(4 s)"),
            std::string::npos)
      << slow.reason;
  EXPECT_EQ(slow.rollback_revision, 1);
  EXPECT_GE(took, std::chrono::seconds(4));
  EXPECT_LT(took, std::chrono::seconds(15));
  EXPECT_NE(Get().find("\"ver\": 1"), std::string::npos) << Get();
  Json d = Describe();
  EXPECT_EQ(d["taskDefinition"], 1) << d.dump(2);
  EXPECT_TRUE(WaitFor([](const Json& d) {
    return d["swarm"]["updateState"].get<std::string>().starts_with("rollback");
  })) << Describe().dump(2);
  EXPECT_TRUE(WaitFor([](const Json& d) { return Completed(d, 1); }, 90'000)) << Describe().dump(2);
  EXPECT_NE(Get().find("\"ver\": 1"), std::string::npos) << Get();
}

TEST_F(SwarmServiceTest, AnotherKilnsSwarmServiceIsLeftAlone) {
  exec::SwarmServiceSpec theirs{.name = SwarmServiceName(name_),
                                .labels = {{"kiln.service", name_}, {"kiln.state", "someone-else"}},
                                .image = images_["v1"],
                                .command = {"sleep", "300"},
                                .replicas = 1};
  auto id = swarm_->CreateService(theirs);
  ASSERT_TRUE(id.ok()) << id.status().message();
  ASSERT_NO_FATAL_FAILURE(Open(images_["v2"]));
  ASSERT_TRUE(WaitFor([](const Json& d) {
    return d.value("statusReason", "").find("belongs to another Kiln") != std::string::npos;
  })) << Describe().dump(2);
  auto info = swarm_->InspectService(*id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->spec.image, images_["v1"]);  // untouched
  EXPECT_EQ(info->spec.labels.at("kiln.state"), "someone-else");
}

}  // namespace
}  // namespace kiln::deploy
