// The seed's story with containers, end to end (cruddur_service_test.cc on the private engine,
// cruddur_swarm_test.cc on the single-node swarm): a push to prod reaches `kiln serve` as a
// GitHub webhook; the Cruddur backend-flask buildspec from
// the conformance corpus, unchanged, builds the image in a privileged build container and
// pushes it to Kiln's registry; the Deploy ECS action rolls the service's 2 container tasks
// behind Kiln's load balancer while a client sends requests the whole time. A broken image
// (its health check fails) is rolled back by the circuit breaker. Not one request fails.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "server_fixture.h"

namespace kiln::e2e {

inline constexpr char kBuildImage[] = "kiln/busybox:1";
inline constexpr char kBuildspec[] =
    "PatrickCmd__aws-bootcamp-cruddur-2023__backend-flask_buildspec.yml";
inline constexpr char kPush[] = "drone__go-scm__scm_driver_github_testdata_webhooks_push.json";

// Requests through the load balancer on a thread of their own, counting failed ones.
class LbClient {
 public:
  explicit LbClient(uint16_t port)
      : thread_([this, port] {
          while (!stop_) {
            HttpReply r = Http(port, "GET", "/api/health-check");
            ++sent_;
            if (r.status != 200) {
              ++failed_;
              last_failure_ = std::to_string(r.status) + " " + r.body.substr(0, 200);
            }
          }
        }) {}
  ~LbClient() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0}, failed_{0};
  std::string last_failure_;
  std::thread thread_;
};

class CruddurServiceFixture : public ServerFixture {
 protected:
  // engine_dir: the fixture's engine (docker-host, unavailable, netns); provider: the cluster's.
  CruddurServiceFixture(std::string engine_dir, std::string provider)
      : engine_dir_(std::move(engine_dir)), provider_(std::move(provider)) {}

  void SetUp() override {
    std::string dir = engine_dir_;
    if (fs::exists(dir + "/unavailable")) {
      GTEST_SKIP() << "no Docker engine: " << ReadText(dir + "/unavailable");
    }
    if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
    docker_host_ = ReadText(dir + "/docker-host");
    while (!docker_host_.empty() && docker_host_.back() == '\n') docker_host_.pop_back();
    // A swarm's tasks listen on its namespace's loopback: this whole test process (one test,
    // under ctest) moves there, and so do the kiln and git processes it starts.
    if (provider_ == "swarm") {
      ASSERT_TRUE(EnterNetns(dir + "/netns")) << dir;
    }
    ServerFixture::SetUp();
    RemoveSwarmService();  // an earlier run's, if it failed
    registry_ = "127.0.0.1:" + std::to_string(FreePort());
    lb_port_ = FreePort();
  }

  std::vector<std::string> Env() const { return {"DOCKER_HOST=" + docker_host_}; }

  // The app at version `ver`: busybox httpd on $PORT serving /api/health-check; a broken
  // version serves no health check at all (404).
  void CommitVersion(const std::string& ver, bool broken = false) {
    std::map<std::string, std::string> files = {
        {"backend-flask/Dockerfile.prod",
         std::string("FROM ") + kBuildImage +
             "\nCOPY www /www\nCMD [\"sh\", \"-c\", \"echo serving $(cat /www/version) on "
             "$PORT; exec httpd -f -p 127.0.0.1:$PORT -h /www\"]\n"},
        {"backend-flask/www/version", ver + "\n"}};
    if (broken) {
      fs::remove(repo_ / "backend-flask/www/api/health-check");
    } else {
      files["backend-flask/www/api/health-check"] = "{\"success\": true, \"ver\": " + ver + "}\n";
    }
    Commit(files, "backend-flask " + ver);
  }

  json Service() {
    auto r =
        RunKiln({"--server", Url(), "service", "status", "backend-flask", "--json"}, tmp_.path());
    json j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) {  // say why (the CLI's words, the server's last ones), not throw
      std::string err = server_->Err();
      ADD_FAILURE() << "kiln service status exited " << r.exit_code << ": " << r.out << r.err
                    << "\nthe server " << (server_->Exited() ? "has exited" : "runs")
                    << "; its stderr ends:\n"
                    << err.substr(err.size() > 4000 ? err.size() - 4000 : 0);
      return json::object();
    }
    return j;
  }

  void Configure() {
    std::string buildspec = ReadText(base::ConformanceDir() / "buildspecs" / kBuildspec);
    Commit({{"buildspec.yml", buildspec}}, "the buildspec");
    std::string image = registry_ + "/backend-flask:latest";
    config_extra_["registry"] = {{"listen", registry_}};
    config_extra_["clusters"] = {{"cruddur", {{"provider", provider_}, {"engine", docker_host_}}}};
    json health = {
        {"command", {"CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:$PORT/api/health-check"}},
        {"interval", 5},
        {"timeout", 2},
        {"retries", 2}};
    config_extra_["services"] = {
        {"backend-flask",
         {{"cluster", "cruddur"},
          {"desiredCount", 2},
          {"taskDefinition",
           {{"family", "backend-flask"},
            {"networkMode", "host"},
            {"containerDefinitions",
             {{{"name", "backend-flask"}, {"image", image}, {"healthCheck", health}}}}}},
          {"deploymentConfiguration",
           {{"minimumHealthyPercent", 100},
            {"maximumPercent", 200},
            {"deploymentCircuitBreaker", {{"enable", true}, {"rollback", true}}}}},
          {"loadBalancer",
           {{"listen", "127.0.0.1:" + std::to_string(lb_port_)},
            {"healthCheck",
             {{"path", "/api/health-check"},
              {"interval", 5},
              {"timeout", 2},
              {"healthyThreshold", 2},
              {"unhealthyThreshold", 2}}},
            {"deregistrationDelay", 5}}}}}};
    projects_["backend-flask"] = {
        {"buildspec", "buildspec.yml"},
        {"timeout", "10m"},
        {"environment",
         {{"type", "LINUX_CONTAINER"},
          {"image", kBuildImage},
          {"privilegedMode", true},
          {"environmentVariables", {{{"name", "IMAGE_URL"}, {"value", registry_}}}}}}};
    json bake = BuildAction("bake", "backend-flask", {});
    bake["outputArtifacts"] = {{{"name", "ImageDefinition"}}};
    json deploy = {
        {"name", "Deploy"},
        {"actionTypeId",
         {{"category", "Deploy"}, {"owner", "AWS"}, {"provider", "ECS"}, {"version", "1"}}},
        {"configuration",
         {{"ClusterName", "cruddur"},
          {"ServiceName", "backend-flask"},
          {"FileName", "imagedefinitions.json"}}},
        {"inputArtifacts", {{{"name", "ImageDefinition"}}}}};
    Pipeline("backend-flask", {SourceStage(), Stage("Build", {bake}), Stage("Deploy", {deploy})});
  }

  // Pushes the repository's HEAD to prod as GitHub would tell it; the execution's final status.
  std::string PushAndWait(int delivery) {
    json body = Payload("push", kPush);
    body["ref"] = "refs/heads/prod";
    body["after"] = RevParse("HEAD");
    auto r = Deliver("push", body.dump(), "delivery-" + std::to_string(delivery));
    EXPECT_EQ(r.status, 202) << r.body;
    json answer = r.Json();
    if (!answer.is_object() || answer["executions"].size() != 1) return "not started";
    std::string id = answer["executions"][0];
    std::string status;
    WaitUntil(
        [&] {
          status = Execution(id).value("status", "");
          return status == "Succeeded" || status == "Failed" || status == "Stopped";
        },
        240'000);
    return status;
  }

  // The story, from the first push to the server's stop.
  void RunTheStory() {
    auto boot = Kiln({"image", "bootstrap", "--busybox"}, Env());
    ASSERT_EQ(boot.exit_code, 0) << boot.out << boot.err;
    Configure();
    CommitVersion("1");
    ASSERT_NO_FATAL_FAILURE(StartServer({"--time-scale", "0.2"}, Env()));
    // Before the first push the image does not exist: the service runs nothing and says why.
    ASSERT_TRUE(WaitUntil([&] {
      return Service().value("statusReason", "").find("CannotPullContainerError") !=
             std::string::npos;
    })) << Service().dump(2);

    ASSERT_EQ(PushAndWait(1), "Succeeded");
    if (provider_ == "swarm") {
      EXPECT_EQ(Service().value("launchType", ""), "SWARM") << Service().dump(2);
    }
    EXPECT_NE(Answer().find("\"ver\": 1"), std::string::npos) << Answer();

    LbClient client(lb_port_);
    CommitVersion("2");
    ASSERT_EQ(PushAndWait(2), "Succeeded");
    for (int i = 0; i < 5; ++i) EXPECT_NE(Answer().find("\"ver\": 2"), std::string::npos);

    CommitVersion("3", /*broken=*/true);
    EXPECT_EQ(PushAndWait(3), "Failed");
    json s = Service();
    ASSERT_TRUE(s.is_object());
    bool rolled_back = false;
    for (const json& e : s["events"]) {
      rolled_back = rolled_back || e["message"].get<std::string>().find(
                                       "rolling back to revision") != std::string::npos;
    }
    EXPECT_TRUE(rolled_back) << s.dump(2);
    ASSERT_TRUE(WaitUntil(
        [&] {
          json d = Service();
          return d.is_object() && d["deployments"].size() == 1 &&
                 d["deployments"][0]["rolloutState"] == "COMPLETED";
        },
        60'000))
        << Service().dump(2);
    client.Stop();
    EXPECT_GT(client.sent_, 100);
    EXPECT_EQ(client.failed_, 0) << client.last_failure_;
    for (int i = 0; i < 5; ++i) EXPECT_NE(Answer().find("\"ver\": 2"), std::string::npos);

    // Each task's output, a Swarm task's too (kept from the service's log stream), after its
    // task's short id.
    ASSERT_TRUE(WaitUntil([&] {
      auto logs = RunKiln({"--server", Url(), "service", "logs", "backend-flask"}, tmp_.path());
      return logs.exit_code == 0 && logs.out.find("| serving 2 on ") != std::string::npos;
    })) << RunKiln({"--server", Url(), "service", "logs", "backend-flask"}, tmp_.path()).out;

    server_->Signal(SIGTERM);
    EXPECT_EQ(server_->Wait(60).exit_code, 0);
    if (provider_ == "swarm") {  // the cluster keeps serving without Kiln
      auto ls = RunProcess({"docker", "service", "ls", "-q", "--filter", "name=kiln-backend-flask"},
                           tmp_.path(), Env());
      EXPECT_NE(ls.out, "") << ls.err;
      return;
    }
    auto left = RunProcess({"docker", "ps", "-aq", "--filter", "label=kiln.service=backend-flask"},
                           tmp_.path(), Env());
    EXPECT_EQ(left.out, "") << "task containers left behind";
  }

  std::string Answer() { return Http(lb_port_, "GET", "/api/health-check").body; }

  void TearDown() override {
    ServerFixture::TearDown();
    if (!docker_host_.empty()) RemoveSwarmService();
  }

  // The Swarm service outlives kiln serve by design; the test removes it.
  void RemoveSwarmService() {
    if (provider_ != "swarm") return;
    (void)RunProcess({"docker", "service", "rm", "kiln-backend-flask"}, tmp_.path(), Env());
  }

  static bool EnterNetns(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    bool ok = fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
    if (fd >= 0) ::close(fd);
    return ok;
  }

  std::string engine_dir_, provider_;
  std::string docker_host_, registry_;
  uint16_t lb_port_ = 0;
};

}  // namespace kiln::e2e
