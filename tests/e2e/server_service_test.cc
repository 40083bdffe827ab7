// `kiln serve` running a service on the process provider, driven through the CLI and HTTP:
// a deployment behind the load balancer, a task killed by hand and replaced, the server
// killed with -9 and restarted (its tasks adopted, the service answering again within
// seconds), SIGTERM leaving no task behind, and `kiln service logs` reading and following the
// tasks' output.
#include <unistd.h>

#include "server_fixture.h"

namespace kiln::e2e {
namespace {

constexpr char kApp[] = R"PY(import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
VER = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "ver")).read().strip()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = ('{"success": true, "ver": %s}' % VER).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        print("served " + self.path, flush=True)
print("task up on port " + os.environ["PORT"], flush=True)
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
)PY";

class ServerService : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    lb_port_ = FreePort();
    tmp_.Write("bundle-src/app.py", kApp);
    tmp_.Write("bundle-src/ver", "1\n");
    fs::create_directories(tmp_.path() / "release" / "bundle");
    auto tar = RunProcess({"tar", "-czf", (tmp_.path() / "release/bundle/web.tar.gz").string(),
                           "-C", (tmp_.path() / "bundle-src").string(), "app.py", "ver"},
                          tmp_.path());
    ASSERT_EQ(tar.exit_code, 0) << tar.err;
    tmp_.Write("release/imagedefinitions.json",
               R"([{"name": "web", "imageUri": "bundle/web.tar.gz"}])");
    config_extra_ = {
        {"clusters", {{"local", {{"provider", "process"}}}}},
        {"services",
         {{"web",
           {{"cluster", "local"},
            {"desiredCount", 2},
            {"taskDefinition",
             {{"containerDefinitions",
               {{{"name", "web"},
                 {"image", "bundle/web.tar.gz"},
                 {"command", {"python3", "app.py"}}}}}}},
            {"deploymentConfiguration", {{"minimumHealthyPercent", 100}, {"maximumPercent", 200}}},
            {"healthCheckGracePeriodSeconds", 1},
            {"loadBalancer",
             {{"listen", "127.0.0.1:" + std::to_string(lb_port_)},
              {"healthCheck",
               {{"path", "/health"},
                {"interval", 2},
                {"timeout", 1},
                {"healthyThreshold", 2},
                {"unhealthyThreshold", 2}}},
              {"deregistrationDelay", 1}}}}}}}};
    WriteConfig();
  }

  void Serve() { StartServer({"--time-scale", "0.2"}); }

  // A failing test may leave tasks of a server it killed: end those we saw, by pid.
  void TearDown() override {
    ServerFixture::TearDown();
    for (int pid : seen_) {
      if (Running(pid)) ::kill(pid, SIGKILL);
    }
  }

  RunResult Service(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", Url(), "service"});
    return RunKiln(args, tmp_.path());
  }

  json Status() { return json::parse(Service({"status", "web", "--json"}).out, nullptr, false); }

  std::set<int> Pids() {
    std::set<int> pids;
    json s = Status();
    if (!s.is_object()) return pids;
    for (const auto& t : s["tasks"]) {
      if (t["pid"].get<int>() > 0) seen_.insert(t["pid"].get<int>());
      if (t["lastStatus"] == "RUNNING" && t["healthStatus"] == "HEALTHY")
        pids.insert(t["pid"].get<int>());
    }
    return pids;
  }

  std::string Answer() { return Http(lb_port_, "GET", "/health").body; }

  std::vector<std::string> TaskIds() {
    std::vector<std::string> ids;
    json s = Status();
    if (s.is_object()) {
      for (const auto& t : s["tasks"]) ids.push_back(t["taskId"].get<std::string>());
    }
    return ids;
  }

  uint16_t lb_port_ = 0;
  std::set<int> seen_;  // every task pid the server reported
};

TEST_F(ServerService, DeploysReplacesAKilledTaskAndAdoptsTasksAfterAServerCrash) {
  Serve();
  auto none = Status();
  EXPECT_EQ(none["runningCount"], 0);
  EXPECT_TRUE(Contains(none.value("statusReason", ""), "no deployment yet")) << none.dump(2);
  auto deploy = Service({"deploy", "web", "--image-definitions",
                         (tmp_.path() / "release/imagedefinitions.json").string(), "--wait"});
  ASSERT_EQ(deploy.exit_code, 0) << deploy.out << deploy.err;
  EXPECT_TRUE(Contains(deploy.out, "COMPLETED")) << deploy.out;
  EXPECT_EQ(Answer(), R"({"success": true, "ver": 1})");
  std::set<int> pids = Pids();
  ASSERT_EQ(pids.size(), 2u) << Status().dump(2);

  // A task killed by hand is replaced; the service keeps answering meanwhile.
  int victim = *pids.begin();
  ::kill(victim, SIGKILL);
  int failed = 0;
  std::string failures;
  bool replaced = WaitUntil(
      [&] {
        HttpReply r = Http(lb_port_, "GET", "/health");
        if (r.status != 200) {
          ++failed;
          failures += std::to_string(r.status) + " " + r.body + "\n";
        }
        std::set<int> now = Pids();
        return now.size() == 2 && !now.contains(victim);
      },
      20000);
  EXPECT_TRUE(replaced) << Status().dump(2);
  EXPECT_EQ(failed, 0) << failures;
  pids = Pids();

  // kill -9 of the server: its tasks keep running and are adopted by the next server.
  server_->Signal(SIGKILL);
  server_->Wait(10);
  for (int pid : pids) EXPECT_TRUE(Running(pid)) << pid;
  auto begin = Clock::now();
  Serve();
  EXPECT_TRUE(WaitUntil([&] { return Answer() == R"({"success": true, "ver": 1})"; }, 10000));
  EXPECT_LT(Clock::now() - begin, std::chrono::seconds(10));
  EXPECT_TRUE(WaitUntil([&] { return Pids() == pids; }, 10000)) << Status().dump(2);

  // SIGTERM stops the server and every task it runs.
  server_->Signal(SIGTERM);
  auto done = server_->Wait(30);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  for (int pid : pids) EXPECT_TRUE(WaitUntil([&] { return !Running(pid); }, 5000)) << pid;
}

TEST_F(ServerService, ScaleAndRollbackThroughTheCli) {
  Serve();
  std::string defs = (tmp_.path() / "release/imagedefinitions.json").string();
  ASSERT_EQ(Service({"deploy", "web", "--image-definitions", defs, "--wait"}).exit_code, 0);
  // Revision 2 with ver 2.
  tmp_.Write("bundle-src/ver", "2\n");
  RunProcess({"tar", "-czf", (tmp_.path() / "release/bundle/web.tar.gz").string(), "-C",
              (tmp_.path() / "bundle-src").string(), "app.py", "ver"},
             tmp_.path());
  ASSERT_EQ(Service({"deploy", "web", "--image-definitions", defs, "--wait"}).exit_code, 0);
  EXPECT_EQ(Answer(), R"({"success": true, "ver": 2})");
  auto scale = Service({"scale", "web", "3"});
  EXPECT_EQ(scale.exit_code, 0) << scale.err;
  EXPECT_TRUE(WaitUntil([&] { return Pids().size() == 3; }, 20000)) << Status().dump(2);
  auto back = Service({"rollback", "web", "--wait"});
  EXPECT_EQ(back.exit_code, 0) << back.out << back.err;
  EXPECT_EQ(Answer(), R"({"success": true, "ver": 1})");
  EXPECT_EQ(Status()["taskDefinition"], 1);
  auto unknown = Service({"status", "nope"});
  EXPECT_EQ(unknown.exit_code, 2);
}

TEST_F(ServerService, LogsShowEachTaskAndFollowTasksStartedLater) {
  Serve();
  std::string defs = (tmp_.path() / "release/imagedefinitions.json").string();
  ASSERT_EQ(Service({"deploy", "web", "--image-definitions", defs, "--wait"}).exit_code, 0);
  std::vector<std::string> ids = TaskIds();
  ASSERT_EQ(ids.size(), 2u) << Status().dump(2);
  std::string a = ids[0].substr(0, 12), b = ids[1].substr(0, 12);

  // Every task's lines, each after its short id.
  RunResult all;
  EXPECT_TRUE(WaitUntil([&] {
    all = Service({"logs", "web"});
    return Contains(all.out, a + " | task up on port") && Contains(all.out, b + " | task up");
  })) << all.out
      << all.err;
  EXPECT_EQ(all.exit_code, 0) << all.err;

  // --task narrows to one task (its id or a prefix); --tail N keeps its last N lines.
  auto one = Service({"logs", "web", "--task", ids[0]});
  EXPECT_TRUE(Contains(one.out, a + " | task up")) << one.out << one.err;
  EXPECT_FALSE(Contains(one.out, b)) << one.out;
  auto last = Service({"logs", "web", "--task", ids[1].substr(0, 8), "--tail", "1"});
  EXPECT_EQ(last.exit_code, 0) << last.err;
  EXPECT_EQ(std::count(last.out.begin(), last.out.end(), '\n'), 1) << last.out;
  EXPECT_TRUE(last.out.starts_with(b + " | ")) << last.out;

  // An unknown task, a malformed one and an unknown service: one line on stderr, exit 2.
  for (const std::string& task : {std::string(32, 'f'), std::string("../../x")}) {
    auto bad = Service({"logs", "web", "--task", task});
    EXPECT_EQ(bad.exit_code, 2) << task << bad.out;
    EXPECT_TRUE(bad.err.starts_with("kiln: error: ")) << bad.err;
    EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  }
  EXPECT_EQ(Service({"logs", "nope"}).exit_code, 2);
  EXPECT_EQ(Service({"logs", "web", "-f", "--task", "../../x"}).exit_code, 2);
  for (const std::string& task :
       std::vector<std::string>{"../../x", "..%2F..%2Fkiln.db",
                                ids[0] + "%2F..%2F..%2F..%2Fkiln.db", "%2Fetc%2Fpasswd"}) {
    HttpReply r = Get("/api/v1/services/web/logs?task=" + task);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << task << " " << r.status << r.body;
    EXPECT_TRUE(r.Json().contains("error")) << r.body;
  }

  // Following: a line written after the stream opened, and a task started after it opened.
  auto follow =
      StartKiln({"--server", Url(), "service", "logs", "web", "-f", "--tail", "0"}, tmp_.path());
  EXPECT_TRUE(WaitUntil([&] { return Contains(follow->Out(), " | served /health"); }))
      << follow->Out() << follow->Err();
  Http(lb_port_, "GET", "/written-after-the-stream-opened");
  EXPECT_TRUE(WaitUntil([&] {
    return Contains(follow->Out(), " | served /written-after-the-stream-opened");
  })) << follow->Out();
  ASSERT_EQ(Service({"scale", "web", "3"}).exit_code, 0);
  std::string c;
  EXPECT_TRUE(WaitUntil(
      [&] {
        for (const std::string& id : TaskIds()) {
          if (id != ids[0] && id != ids[1]) c = id.substr(0, 12);
        }
        return !c.empty() && Contains(follow->Out(), c + " | task up on port");
      },
      20000))
      << follow->Out() << Status().dump(2);
  EXPECT_FALSE(follow->Exited()) << follow->Err();
  follow->Signal(SIGINT);
  follow->Wait(10);
}

}  // namespace
}  // namespace kiln::e2e
