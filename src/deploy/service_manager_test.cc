// Real processes, real HTTP on 127.0.0.1, through the service's load balancer.
#include "deploy/service_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <set>

#include "deploy/process_watch.h"
#include "deploy/test_service.h"

namespace kiln::deploy {
namespace {

using namespace kiln::deploy::testing;  // NOLINT: test helpers
using Json = nlohmann::json;

class ServiceManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("kiln-deploy-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "artifact");
  }
  void TearDown() override {
    if (manager_) Shutdown();
    for (int64_t pid : pids_) ::kill(pid_t(pid), SIGKILL);  // a failed test leaves none behind
    fs::remove_all(root_);
  }

  void Open(spec::KilnConfig config) {
    config_ = std::move(config);
    manager_ = loop_.Run([&] {
      auto m = ServiceManager::Create(
          loop_.io(), {.state_dir = root_ / "state", .config = &config_, .time_scale = 0.1});
      EXPECT_TRUE(m.ok()) << m.status().message();
      auto st = (*m)->Start();
      EXPECT_TRUE(st.ok()) << st.message();
      return std::move(*m);
    });
  }
  DeploymentOutcome Deploy(const std::string& uri) {
    auto o = ServiceManager::DeployAndWait(
        *manager_, loop_.io(), "web",
        {.image_file = ImageDefinitions(uri), .artifact_dir = root_ / "artifact"}, 20'000);
    Remember();
    return o;
  }
  Json Describe() {
    return loop_.Run([&] { return *manager_->ServiceJson("web"); });
  }
  void Remember() {
    Json d = Describe();
    for (const Json& t : d["tasks"]) pids_.insert(t["pid"].get<int64_t>());
  }
  uint16_t LbPort() { return Describe()["loadBalancer"]["port"].get<uint16_t>(); }
  void Shutdown() {
    std::promise<void> done;
    loop_.Run([&] {
      manager_->Shutdown([&] { done.set_value(); });
      return 0;
    });
    done.get_future().wait_for(std::chrono::seconds(20));
    loop_.Run([&] {
      manager_.reset();
      return 0;
    });
  }
  // Polls until pred(describe) holds, up to timeout_ms.
  bool WaitFor(const std::function<bool(const Json&)>& pred, int timeout_ms = 10'000) {
    for (int waited = 0; waited < timeout_ms; waited += 50) {
      Json d = Describe();
      if (pred(d)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  static bool Steady(const Json& d, int64_t revision, int count) {
    int healthy = 0;
    for (const Json& t : d["tasks"]) {
      healthy += t["revision"] == revision && t["healthStatus"] == "HEALTHY" &&
                 t["lastStatus"] == "RUNNING";
    }
    return healthy == count && int(d["tasks"].size()) == count && d["deployments"].size() == 1;
  }
  // Every response through the load balancer carries "ver": version.
  void ExpectServes(int version, int requests = 10) {
    uint16_t port = LbPort();
    for (int i = 0; i < requests; ++i) {
      std::string body = HttpGet(port, "/api/health-check");
      EXPECT_NE(body.find("\"ver\": " + std::to_string(version)), std::string::npos) << body;
    }
  }

  fs::path root_;
  LoopThread loop_;
  spec::KilnConfig config_;
  std::unique_ptr<ServiceManager> manager_;
  std::set<int64_t> pids_;
};

// Samples, on the loop, the fewest healthy tasks and the most tasks alive.
struct Sampler {
  explicit Sampler(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  ServiceManager* manager = nullptr;
  int min_healthy = 1 << 30, max_tasks = 0;
  bool stop = false;
  void Tick() {
    Json d = *manager->ServiceJson("web");
    int healthy = 0;
    for (const Json& t : d["tasks"])
      healthy += t["healthStatus"] == "HEALTHY" && t["lastStatus"] == "RUNNING";
    min_healthy = std::min(min_healthy, healthy);
    max_tasks = std::max(max_tasks, int(d["tasks"].size()));
    if (stop) return;
    timer.expires_after(std::chrono::milliseconds(10));
    timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) Tick();
    });
  }
};

TEST_F(ServiceManagerTest, NoDeploymentRunsNoTasksAndSaysSo) {
  Open(ServiceConfig(2, 100, 200));
  Json d = Describe();
  EXPECT_EQ(d["tasks"].size(), 0u);
  EXPECT_EQ(d["taskDefinition"], 0);
  EXPECT_NE(d["statusReason"].get<std::string>().find("no deployment"), std::string::npos);
}

class RollingUpdateTest : public ServiceManagerTest,
                          public ::testing::WithParamInterface<std::tuple<int, int, int, int>> {};

TEST_P(RollingUpdateTest, StaysWithinMinHealthyAndMaxPercent) {
  auto [min_percent, max_percent, min_healthy, max_tasks] = GetParam();
  Open(ServiceConfig(3, min_percent, max_percent));
  std::string v1 = MakeBundle(root_ / "artifact", 1), v2 = MakeBundle(root_ / "artifact", 2);
  DeploymentOutcome first = Deploy(v1);
  ASSERT_TRUE(first.succeeded) << first.reason;
  ExpectServes(1);
  Sampler sampler(loop_.io());
  sampler.manager = manager_.get();
  loop_.Run([&] {
    sampler.Tick();
    return 0;
  });
  DeploymentOutcome second = Deploy(v2);
  loop_.Run([&] {
    sampler.stop = true;
    sampler.timer.cancel();
    return 0;
  });
  loop_.Run([] { return 0; });  // a Tick already queued runs (and stops) before sampler goes
  ASSERT_TRUE(second.succeeded) << second.reason;
  EXPECT_EQ(second.revision, 2);
  EXPECT_GE(sampler.min_healthy, min_healthy);
  EXPECT_LE(sampler.max_tasks, max_tasks);
  EXPECT_TRUE(Steady(Describe(), 2, 3)) << Describe().dump(2);
  ExpectServes(2);
}

INSTANTIATE_TEST_SUITE_P(Percents, RollingUpdateTest,
                         ::testing::Values(std::tuple{100, 200, 3, 6}, std::tuple{50, 100, 2, 3}));

TEST_F(ServiceManagerTest, FailingHealthCheckTripsBreakerAndRollsBack) {
  Open(ServiceConfig(3, 100, 200));
  ASSERT_TRUE(Deploy(MakeBundle(root_ / "artifact", 1)).succeeded);
  DeploymentOutcome bad = Deploy(MakeBundle(root_ / "artifact", 2, /*failing=*/true));
  EXPECT_FALSE(bad.succeeded);
  EXPECT_EQ(bad.rollout_state, "FAILED");
  EXPECT_NE(bad.reason.find("GET /api/health-check answered 500"), std::string::npos) << bad.reason;
  EXPECT_EQ(bad.rollback_revision, 1);
  ExpectServes(1);  // the old revision kept serving
  EXPECT_TRUE(WaitFor([](const Json& d) { return Steady(d, 1, 3) && d["taskDefinition"] == 1; }))
      << Describe().dump(2);  // the rollback deploys revision 1 again
  ExpectServes(1);
}

TEST_F(ServiceManagerTest, KilledTaskIsReplaced) {
  Open(ServiceConfig(2, 100, 200));
  ASSERT_TRUE(Deploy(MakeBundle(root_ / "artifact", 1)).succeeded);
  int64_t victim = Describe()["tasks"][0]["pid"].get<int64_t>();
  ::kill(pid_t(victim), SIGKILL);
  EXPECT_TRUE(WaitFor([&](const Json& d) {
    bool gone = std::none_of(d["tasks"].begin(), d["tasks"].end(),
                             [&](const Json& t) { return t["pid"] == victim; });
    return gone && Steady(d, 1, 2);
  })) << Describe().dump(2);
  Remember();
  ExpectServes(1);
}

TEST_F(ServiceManagerTest, TasksSurviveACrashAndAreAdopted) {
  Open(ServiceConfig(2, 100, 200));
  ASSERT_TRUE(Deploy(MakeBundle(root_ / "artifact", 1)).succeeded);
  std::set<int64_t> before;
  Json first = Describe();
  for (const Json& t : first["tasks"]) before.insert(t["pid"].get<int64_t>());
  loop_.Run([&] {
    manager_.reset();
    return 0;
  });  // no Shutdown: as if kill -9
  for (int64_t pid : before) EXPECT_TRUE(Alive(pid));
  Open(config_);
  EXPECT_TRUE(WaitFor([](const Json& d) { return Steady(d, 1, 2); })) << Describe().dump(2);
  std::set<int64_t> after;
  Json second = Describe();
  for (const Json& t : second["tasks"]) after.insert(t["pid"].get<int64_t>());
  EXPECT_EQ(before, after);
  ExpectServes(1);
}

TEST_F(ServiceManagerTest, ShutdownLeavesNoProcess) {
  Open(ServiceConfig(2, 100, 200));
  ASSERT_TRUE(Deploy(MakeBundle(root_ / "artifact", 1)).succeeded);
  ASSERT_EQ(pids_.size(), 2u);
  Shutdown();
  for (int64_t pid : pids_) EXPECT_FALSE(Alive(pid)) << pid;
}

TEST_F(ServiceManagerTest, UnknownContainerNameIsRefused) {
  Open(ServiceConfig(1, 100, 200));
  auto id = loop_.Run([&] {
    return manager_->Deploy("web", {.image_file = R"([{"name":"api","imageUri":"x.tgz"}])"},
                            nullptr);
  });
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.status().message().find("'api'"), std::string::npos) << id.status().message();
}

}  // namespace
}  // namespace kiln::deploy
