// The hostile-client suite (CTest label `hostile`): the real `kiln serve` on loopback with the
// default configuration, attacked as the hardening issue describes. After each attack the
// daemon still answers /healthz, nothing ran that should not have, and no secret value is in
// any file under the state directory or in any API answer; the daemon restarts on the same
// state.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "../server_fixture.h"

namespace kiln::e2e {
namespace {

constexpr char kSecretValue[] = "hunter2-only-in-the-environment";

// A raw client socket on 127.0.0.1 (or another loopback source address).
class RawClient {
 public:
  explicit RawClient(uint16_t port, const char* source = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (source) {
      sockaddr_in src{.sin_family = AF_INET};
      ::inet_pton(AF_INET, source, &src.sin_addr);
      (void)::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src);
    }
    sockaddr_in addr{.sin_family = AF_INET, .sin_port = htons(port)};
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }
  bool ok() const { return ok_; }
  bool Send(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  // What arrives within timeout_ms (until the peer closes, or `until` is seen).
  std::string Read(int timeout_ms, const std::string& until = "") {
    std::string out;
    auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
    timeval tv{.tv_sec = 0, .tv_usec = 50'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[8192];
    while (Clock::now() < end) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) break;
      if (n > 0) out.append(buf, static_cast<size_t>(n));
      if (!until.empty() && out.find(until) != std::string::npos) break;
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

// Peak resident memory of a process (VmHWM), in KiB.
long PeakRssKib(int pid) {
  std::string status = ReadText("/proc/" + std::to_string(pid) + "/status");
  size_t at = status.find("VmHWM:");
  return at == std::string::npos ? 0 : std::atol(status.c_str() + at + 6);
}

class Hostile : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    tmp_.Write("marker.yml",
               "version: 0.2\nphases:\n  build:\n    commands:\n      - touch \"$MARKER\"\n");
    Project("marker", "marker.yml", {{"MARKER", Marker().string()}});
  }

  fs::path Marker() const { return tmp_.path() / "ran-a-command"; }

  void ExpectAlive() {
    auto health = Get("/healthz");
    EXPECT_EQ(health.status, 200) << "the daemon died: " << server_->Err();
    EXPECT_FALSE(server_->Exited()) << server_->Err();
  }

  // No file under the state dir and no answer holds the value.
  void ExpectNoSecretAnywhere(const std::string& value) {
    for (const auto& entry : fs::recursive_directory_iterator(state_)) {
      if (!entry.is_regular_file()) continue;
      EXPECT_FALSE(Contains(ReadText(entry.path()), value)) << entry.path();
    }
  }

  void Restart() {
    server_->Signal(SIGTERM);
    auto done = server_->Wait(30);
    EXPECT_EQ(done.exit_code, 0) << done.err;
    StartServer();
    ExpectAlive();
  }
};

TEST_F(Hostile, BytesThatAreNotUtf8AnswerJsonErrors) {
  StartServer();
  auto pipeline = Get("/api/v1/pipelines/%c3%28");
  EXPECT_EQ(pipeline.status, 404);
  EXPECT_FALSE(pipeline.Json().is_discarded()) << pipeline.body;
  auto hook = Http(port_, "POST", "/webhooks/github/%ff", "{}",
                   {{"X-GitHub-Event", "push"}, {"X-GitHub-Delivery", "x"}});
  EXPECT_EQ(hook.status, 404);
  for (const char* target : {"/api/v1/executions/%ff%fe", "/api/v1/builds/%c0%af/log",
                             "/api/v1/services/%ed%a0%80", "/api/v1/pipelines/%80/state"}) {
    auto r = Get(target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_FALSE(r.Json().is_discarded()) << target << ": " << r.body;
  }
  ExpectAlive();
  Restart();
}

TEST_F(Hostile, WrongTypedBodiesAre400sNamingTheField) {
  StartServer();
  auto run = Post("/api/v1/pipelines/backend-flask/executions");
  ASSERT_EQ(run.status, 201) << run.body;
  std::string id = run.Json()["pipelineExecutionId"];
  struct Case {
    std::string target, body, field;
  } cases[] = {
      {"/api/v1/executions/" + id + "/stop", R"({"abandon":"yes"})", "abandon"},
      {"/api/v1/executions/" + id + "/approve", R"({"stageName":7})", "stageName"},
      {"/api/v1/projects/marker/builds",
       R"({"environmentVariablesOverride":[{"name":5,"value":"x"}]})", "name"},
      {"/api/v1/projects/marker/builds", R"({"environmentVariablesOverride":{"a":1}})",
       "environmentVariablesOverride"},
      {"/api/v1/pipelines/backend-flask/executions", R"({"variables":[["a","b"]]})", "variables"},
      {"/api/v1/projects/marker/builds", R"({"buildspecOverride":["a"]})", "buildspecOverride"},
      {"/api/v1/projects/marker/builds", R"({"imageOverride":"busybox\n; rm -rf /"})",
       "imageOverride"},
      {"/api/v1/projects/marker/builds", R"({"imageOverride":")" + std::string(300, 'a') + R"("})",
       "imageOverride"},
      {"/api/v1/projects/marker/builds", R"({"privilegedModeOverride":"yes"})",
       "privilegedModeOverride"},
      {"/api/v1/projects/marker/builds", R"({"computeTypeOverride":"BUILD_GENERAL9_HUGE"})",
       "computeTypeOverride"},
      {"/api/v1/projects/marker/builds", R"({"environmentTypeOverride":"WINDOWS_CONTAINER"})",
       "environmentTypeOverride"},
  };
  for (const auto& c : cases) {
    auto r = Post(c.target, c.body);
    EXPECT_EQ(r.status, 400) << c.target << " " << c.body << ": " << r.body;
    EXPECT_TRUE(Contains(r.body, c.field)) << r.body;
    ExpectAlive();
  }
  EXPECT_FALSE(fs::exists(Marker()));
  // Stopping what does not exist is a 404 with a JSON error, not a fault.
  auto missing = Post("/api/v1/executions/00000000-0000-4000-8000-000000000000/stop", "{}");
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_TRUE(Contains(missing.body, "execution_not_found")) << missing.body;
  ExpectAlive();
  Restart();
}

TEST_F(Hostile, NoMutationWithoutACredentialNoCrossSiteNoRebinding) {
  StartServer();
  const std::string target = "/api/v1/projects/marker/builds";
  // The local token exists, private, and is not the operator's to type.
  EXPECT_EQ(fs::status(state_ / "server-token").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  // No token: 401, even on loopback with no tokens in kiln.yml.
  EXPECT_EQ(Http(port_, "POST", target, "{}").status, 401);
  // A page's form: text/plain or form encoding, no preflight.
  auto form = Http(port_, "POST", target, "{}",
                   {{"Content-Type", "text/plain"}, {"Authorization", "Bearer " + Token()}});
  EXPECT_EQ(form.status, 415) << form.body;
  // Another site's page, even with the token (it cannot have it, but the Origin decides).
  auto cross = Post(target, "{}", {{"Origin", "http://evil.example"}});
  EXPECT_EQ(cross.status, 403) << cross.body;
  // DNS rebinding: evil.example resolving to 127.0.0.1; reads are refused too.
  auto rebound = Post(target, "{}", {{"Host", "evil.example:" + std::to_string(port_)}});
  EXPECT_EQ(rebound.status, 403) << rebound.body;
  auto read = Http(port_, "GET", "/api/v1/pipelines", "", {{"Host", "evil.example"}});
  EXPECT_EQ(read.status, 403) << read.body;
  // The refusals came from the head: a huge declared body was never waited for.
  RawClient raw(port_);
  ASSERT_TRUE(raw.ok());
  raw.Send("POST " + target +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           "Content-Length: 1000000\r\n\r\n");
  EXPECT_TRUE(Contains(raw.Read(2000, "\r\n\r\n"), " 401 "));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(fs::exists(Marker())) << "a command ran";
  EXPECT_EQ(Get("/api/v1/projects/marker/builds").Json()["builds"].size(), 0u);
  // With the token, from the server's own origin: it runs.
  auto own =
      Post(target + "?wait=true", "{}", {{"Origin", "http://127.0.0.1:" + std::to_string(port_)}});
  EXPECT_EQ(own.status, 200) << own.body;
  EXPECT_TRUE(fs::exists(Marker()));
  ExpectAlive();
}

TEST_F(Hostile, AdminGuardsTheSettingsAndTheLocalToken) {
  StartServer();
  std::string first = Token();
  auto settings = Http(port_, "GET", "/api/v1/server", "", {{"Authorization", "Bearer " + first}});
  ASSERT_EQ(settings.status, 200) << settings.body;
  EXPECT_EQ(settings.Json()["limits"]["request_body"], 1024 * 1024);
  EXPECT_FALSE(Contains(settings.body, first));  // names and roles, never the token
  EXPECT_EQ(Get("/api/v1/server").status, 401);
  auto rotated = Post("/api/v1/server/local-token/rotate");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  EXPECT_NE(Token(), first);
  EXPECT_EQ(Http(port_, "POST", "/api/v1/server/local-token/rotate", "{}",
                 {{"Authorization", "Bearer " + first}})
                .status,
            401);
  // The CLI on this machine picks up the new token by itself.
  auto cli = RunKiln({"pipeline", "run", "backend-flask", "--server", Url()}, tmp_.path());
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  std::string second = Token();
  Restart();
  EXPECT_EQ(Token(), second);  // kept across restarts
}

TEST_F(Hostile, UnknownConnectionsAreRefusedBeforeTheirBodiesAndBodiesShareABudget) {
  config_extra_ = {{"server", {{"limits", {{"inflight_bodies", "8MiB"}}}}}};
  WriteConfig();
  StartServer();
  long before = PeakRssKib(server_->pid());
  // 20 unauthenticated 25 MiB uploads to a connection that does not exist: 404 from the head.
  {
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 20; ++i) {
      clients.push_back(std::make_unique<RawClient>(port_));
      clients.back()->Send(
          "POST /webhooks/github/nope HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          "Content-Length: 26214400\r\nContent-Type: application/json\r\n\r\n");
    }
    for (auto& c : clients) EXPECT_TRUE(Contains(c->Read(3000, "\r\n\r\n"), " 404 "));
  }
  // 20 uploads of 4 MiB to the real connection, trickled: at most two are read at a time,
  // the others are told to come back.
  std::atomic<int> busy{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&] {
      RawClient c(port_);
      c.Send(
          "POST /webhooks/github/cruddur HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\n"
          "X-GitHub-Delivery: d\r\nContent-Type: application/json\r\n"
          "Content-Length: 4194304\r\n\r\n" +
          std::string(1 << 20, ' '));
      std::string answer = c.Read(1500, "\r\n\r\n");
      if (Contains(answer, " 503 ") && Contains(answer, "Retry-After")) {
        ++busy;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GE(busy.load(), 18) << "answered otherwise: " << other.load();
  long grown_mib = (PeakRssKib(server_->pid()) - before) / 1024;
  EXPECT_LT(grown_mib, 64) << "peak RSS grew by " << grown_mib << " MiB";
  // The URL's name never becomes a metrics label.
  Http(port_, "POST", "/webhooks/github/a%22%7D%201%0Akiln_fake%201", "{}");
  std::string metrics = Get("/metrics").body;
  EXPECT_FALSE(Contains(metrics, "kiln_fake")) << metrics;
  EXPECT_FALSE(Contains(metrics, "connection=\"nope\"")) << metrics;
  EXPECT_TRUE(Contains(metrics, "connection=\"unknown\"")) << metrics;
  ExpectAlive();
}

TEST_F(Hostile, EventStreamsAreCappedPerClientAndInAll) {
  config_extra_ = {
      {"server", {{"limits", {{"event_streams", 6}, {"event_streams_per_client", 4}}}}}};
  WriteConfig();
  StartServer();
  auto open = [&](const char* source) {
    auto c = std::make_unique<RawClient>(port_, source);
    c->Send("GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n");
    std::string head = c->Read(2000, "\r\n\r\n");
    return std::make_pair(std::move(c), head);
  };
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 4; ++i) {
    auto [c, head] = open("127.0.0.1");
    EXPECT_TRUE(Contains(head, " 200 ")) << head;
    held.push_back(std::move(c));
  }
  auto [fifth, refused] = open("127.0.0.1");
  EXPECT_TRUE(Contains(refused, " 503 ")) << refused;
  for (int i = 0; i < 2; ++i) {
    auto [c, head] = open("127.0.0.2");
    EXPECT_TRUE(Contains(head, " 200 ")) << head;
    held.push_back(std::move(c));
  }
  auto [seventh, full] = open("127.0.0.3");
  EXPECT_TRUE(Contains(full, " 503 ")) << full;
  held.erase(held.begin());  // one closes: a slot is free again
  ASSERT_TRUE(WaitUntil([&] { return Contains(open("127.0.0.3").second, " 200 "); }, 5000));
  ExpectAlive();
}

TEST_F(Hostile, HeadAnswersCarryNoBody) {
  StartServer();
  RawClient c(port_);
  c.Send(
      "HEAD /api/v1/pipelines HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  std::string both = c.Read(3000, "\"ok\"}");
  size_t first_end = both.find("\r\n\r\n");
  ASSERT_NE(first_end, std::string::npos) << both;
  EXPECT_TRUE(Contains(both.substr(0, first_end), "Content-Length: ")) << both;
  // Right after the HEAD answer's head comes the next answer, not a body.
  EXPECT_TRUE(both.substr(first_end + 4).starts_with("HTTP/1.1 200 OK")) << both;
  RawClient events(port_);
  events.Send("HEAD /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  std::string head = events.Read(2000, "\r\n\r\n");
  EXPECT_TRUE(Contains(head, " 200 ")) << head;
  EXPECT_EQ(events.Read(300), "");  // no stream follows
  ExpectAlive();
}

TEST_F(Hostile, TypedSecretsReachNoFileAndNoAnswer) {
  tmp_.Write("secret.yml",
             "version: 0.2\nenv:\n  exported-variables: [DB]\nphases:\n  build:\n    commands:\n"
             "      - echo \"db is $DB\"\n");
  Project("secret", "secret.yml");
  config_extra_ = {{"parameters", {{"/app/db", {{"env", "KILN_TEST_DB"}}}}}};
  WriteConfig();
  StartServer({}, {std::string("KILN_TEST_DB=") + kSecretValue});
  auto r = Post("/api/v1/projects/secret/builds?wait=true",
                R"({"environmentVariablesOverride":[{"name":"DB","value":"/app/db",)"
                R"("type":"PARAMETER_STORE"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["build"]["buildStatus"], "SUCCEEDED") << r.body;
  EXPECT_FALSE(Contains(r.body, kSecretValue)) << r.body;
  std::string id = r.Json()["build"]["id"];
  auto log = Get("/api/v1/builds/" + id + "/log");
  EXPECT_TRUE(Contains(log.body, "db is ***")) << log.body;
  EXPECT_FALSE(Contains(Get("/api/v1/builds/" + id).body, kSecretValue));
  EXPECT_FALSE(Contains(Get("/api/v1/projects/secret/builds").body, kSecretValue));
  ExpectNoSecretAnywhere(kSecretValue);
  Restart();
}

}  // namespace
}  // namespace kiln::e2e

namespace kiln::e2e {
namespace {

// The service log route (issue 12) with everything a client can put in its path and query:
// typed 400/404 JSON answers, no file outside the service's task logs, the daemon alive.
TEST_F(Hostile, ServiceLogQueriesAreTypedAndReachNoOtherFile) {
  config_extra_ = {
      {"clusters", {{"local", {{"provider", "process"}}}}},
      {"services",
       {{"web",
         {{"cluster", "local"},
          {"taskDefinition",
           {{"containerDefinitions",
             {{{"name", "web"}, {"image", "bundle/web.tar.gz"}, {"command", {"true"}}}}}}}}}}}};
  WriteConfig();
  StartServer();
  const std::pair<const char*, int> cases[] = {
      {"/api/v1/services/%ff/logs", 404},
      {"/api/v1/services/nope/logs", 404},
      {"/api/v1/services/web/logs?task=..%2f..%2f..%2fetc%2fpasswd", 400},
      {"/api/v1/services/web/logs?task=%00", 400},
      {"/api/v1/services/web/logs?task=%ff%fe", 400},
      {"/api/v1/services/web/logs?task=abcd", 404},
      {"/api/v1/services/web/logs?tail=-1", 400},
      {"/api/v1/services/web/logs?tail=abc", 400},
      {"/api/v1/services/web/logs?tail=99999999999999999999999", 400},
      {"/api/v1/services/web/logs?follow=true&task=..", 400},
  };
  for (const auto& [target, status] : cases) {
    auto r = Get(target);
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    EXPECT_FALSE(r.Json().is_discarded()) << target << ": " << r.body;
    EXPECT_FALSE(Contains(r.body, "root:x:0:0")) << target;
  }
  auto none = Get("/api/v1/services/web/logs");
  EXPECT_EQ(none.status, 200) << none.body;  // no task yet: nothing to show
  EXPECT_EQ(none.body, "");
  ExpectAlive();
}

}  // namespace
}  // namespace kiln::e2e
