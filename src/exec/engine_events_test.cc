// ParseEngineEvent, and EngineEventStream against a scripted engine on a unix socket.
#include "exec/engine_events.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "base/fd.h"
#include "base/test_tree.h"

namespace kiln::exec {
namespace {

using Kind = EngineEvent::Kind;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// As the engine sends it (20.10, trimmed).
constexpr char kStartLine[] =
    R"({"status":"start","id":"abc123","from":"kiln/busybox:test","Type":"container",)"
    R"("Action":"start","Actor":{"ID":"abc123","Attributes":{"image":"kiln/busybox:test",)"
    R"("kiln.service":"web","name":"web-1"}},"scope":"local","time":1700000000,)"
    R"("timeNano":1700000000123456789})";

std::string Line(const std::string& action, int64_t time_ns, const std::string& extra = "") {
  return R"({"Type":"container","Action":")" + action +
         R"(","Actor":{"ID":"c1","Attributes":{"k":"v")" + extra + R"(}},"timeNano":)" +
         std::to_string(time_ns) + "}";
}

TEST(ParseEngineEventTest, ReadsAStartEvent) {
  auto e = ParseEngineEvent(kStartLine);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->kind, Kind::kStart);
  EXPECT_EQ(e->action, "start");
  EXPECT_EQ(e->container_id, "abc123");
  EXPECT_EQ(e->attributes.at("kiln.service"), "web");
  EXPECT_EQ(e->attributes.at("name"), "web-1");
  EXPECT_EQ(e->time_ns, 1700000000123456789);
}

TEST(ParseEngineEventTest, NamesEachKind) {
  const std::pair<const char*, Kind> cases[] = {{"create", Kind::kCreate},
                                                {"oom", Kind::kOom},
                                                {"kill", Kind::kKill},
                                                {"stop", Kind::kStop},
                                                {"destroy", Kind::kDestroy},
                                                {"health_status: healthy", Kind::kHealthy},
                                                {"health_status: unhealthy", Kind::kUnhealthy},
                                                {"health_status: starting", Kind::kHealthStarting},
                                                {"exec_start: sh -c true", Kind::kOther},
                                                {"rename", Kind::kOther}};
  for (const auto& [action, kind] : cases) {
    auto e = ParseEngineEvent(Line(action, 5));
    ASSERT_TRUE(e.ok()) << action << ": " << e.status().message();
    EXPECT_EQ(e->kind, kind) << action;
    EXPECT_EQ(e->action, action);
  }
}

TEST(ParseEngineEventTest, DieCarriesItsExitCode) {
  auto e = ParseEngineEvent(Line("die", 7, R"(,"exitCode":"137")"));
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->kind, Kind::kDie);
  EXPECT_EQ(e->exit_code, 137);
  EXPECT_EQ(e->attributes.at("exitCode"), "137");
}

TEST(ParseEngineEventTest, OtherTypesAndMissingAttributesAreAccepted) {
  auto network = ParseEngineEvent(R"({"Type":"network","Action":"start","Actor":{"ID":"n"},)"
                                  R"("timeNano":1})");
  ASSERT_TRUE(network.ok()) << network.status().message();
  EXPECT_EQ(network->kind, Kind::kOther) << "a start, but not a container's";
  EXPECT_TRUE(network->attributes.empty());
}

TEST(ParseEngineEventTest, RejectsMalformedLines) {
  const std::string cases[] = {
      "",
      "not json",
      "[1,2]",
      R"({"Action":"start","Actor":{"ID":"c"}})",
      R"({"Action":3,"Actor":{"ID":"c"},"timeNano":1})",
      R"({"Action":"start","timeNano":1})",
      R"({"Action":"start","Actor":{"ID":""},"timeNano":1})",
      R"({"Action":"start","Actor":{"ID":"c","Attributes":[]},"timeNano":1})",
      R"({"Action":"start","Actor":{"ID":"c","Attributes":{"a":1}},"timeNano":1})",
      R"({"Type":7,"Action":"start","Actor":{"ID":"c"},"timeNano":1})",
      R"({"Action":"start","Actor":{"ID":"c"},"timeNano":1.5})",
      R"({"Action":"start","Actor":{"ID":"c"},"timeNano":-1})",
      R"({"Action":"start","Actor":{"ID":"c"},"timeNano":18446744073709551615})",
      R"({"Action":"start","Actor":{"ID":"c"},"timeNano":"1"})",
      Line("die", 1),
      Line("die", 1, R"(,"exitCode":"3x")"),
      Line("die", 1, R"(,"exitCode":"99999999999")"),
      Line("die", 1, R"(,"exitCode":"")"),
  };
  for (const std::string& line : cases) {
    auto e = ParseEngineEvent(line);
    ASSERT_FALSE(e.ok()) << line;
    EXPECT_EQ(e.status().kind(), base::ErrorKind::kInvalidInput) << line;
  }
}

TEST(ParseEngineEventTest, SurvivesEveryTruncationAndByteFlip) {
  const std::string line = Line("die", 42, R"(,"exitCode":"3")");
  for (size_t n = 0; n <= line.size(); ++n) (void)ParseEngineEvent(line.substr(0, n));
  for (size_t i = 0; i < line.size(); ++i) {
    for (char c : {'\0', '"', '{', ']', '\\', '\xff', '9'}) {
      std::string mutated = line;
      mutated[i] = c;
      (void)ParseEngineEvent(mutated);
    }
  }
  EXPECT_FALSE(ParseEngineEvent(std::string(100000, '[')).ok());
}

TEST(EngineEventsTargetTest, EncodesTheFiltersAndTheReplayPoint) {
  EXPECT_EQ(EngineEventsTarget({1, 41}, {{"kiln.service", "web"}, {"kiln.task", ""}}, 0),
            "/v1.41/events?filters=%7B%22label%22%3A%5B%22kiln.service%3Dweb%22%2C%22kiln.task%22"
            "%5D%2C%22type%22%3A%5B%22container%22%5D%7D");
  std::string t = EngineEventsTarget({1, 41}, {}, 1700000000000000345);
  EXPECT_TRUE(t.ends_with("&since=1700000000.000000345")) << t;
}

TEST(EngineEventsTargetTest, AServiceStreamAsksForThatSwarmServicesEvents) {
  EXPECT_EQ(EngineEventsTarget({1, 41}, {{"kiln.service", "web"}}, 0, "kiln-web"),
            "/v1.41/events?filters=%7B%22service%22%3A%5B%22kiln-web%22%5D%2C%22type%22%3A%5B"
            "%22service%22%5D%7D");
}

TEST(ParseEngineEventTest, AServiceUpdateIsOtherWithItsUpdateState) {
  auto e = ParseEngineEvent(
      R"({"Type":"service","Action":"update","Actor":{"ID":"svc1","Attributes":{"name":)"
      R"("kiln-web","updatestate.new":"completed","updatestate.old":"updating"}},)"
      R"("scope":"swarm","time":1700000000,"timeNano":1700000000000000001})");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->kind, Kind::kOther);
  EXPECT_EQ(e->container_id, "svc1");
  EXPECT_EQ(e->attributes.at("updatestate.new"), "completed");
}

// A scripted engine on a unix socket: answers /version itself and queues every other request
// for the test, which writes the answer on its descriptor.
class FakeEngine {
 public:
  struct Request {
    base::UniqueFd fd;
    std::string target;
  };

  FakeEngine() : path_((tree_ / "engine.sock").string()) {
    listener_.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listener_.get(), 16), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeEngine() {
    stop_ = true;
    thread_.join();
  }
  const std::string& socket_path() const { return path_; }

  // The next request other than /version, waiting up to 5 s.
  std::optional<Request> Next() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(5), [&] { return !requests_.empty(); })) {
      return std::nullopt;
    }
    Request r = std::move(requests_.front());
    requests_.pop_front();
    return r;
  }

  static void Send(int fd, std::string_view bytes) {
    (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  static void StartChunked(int fd) {
    Send(fd,
         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
  }
  static void Chunk(int fd, std::string_view data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    Send(fd, std::string(size) + std::string(data) + "\r\n");
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{.fd = listener_.get(), .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      base::UniqueFd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c.valid()) continue;
      std::string target = ReadTarget(c.get());
      if (target == "/version") {
        std::string body = R"({"Version":"fake","ApiVersion":"1.41","MinAPIVersion":"1.12"})";
        Send(c.get(), "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\n\r\n" + body);
        continue;
      }
      std::lock_guard lock(mu_);
      requests_.push_back({std::move(c), target});
      cv_.notify_all();
    }
  }
  static std::string ReadTarget(int fd) {
    std::string head;
    char c;
    while (!head.ends_with("\r\n\r\n") && ::read(fd, &c, 1) == 1) head += c;
    size_t start = head.find(' ') + 1;
    return head.substr(start, head.find(' ', start) - start);
  }

  base::TestTree tree_;
  std::string path_;
  base::UniqueFd listener_;
  std::atomic<bool> stop_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> requests_;
  std::thread thread_;
};

// What a stream reported, in order.
class Recorder {
 public:
  std::unique_ptr<EngineEventStream> Start(const std::string& socket_path) {
    auto stream = EngineEventStream::Start(
        {.endpoint = {socket_path},
         .labels = {{"kiln.test", ""}},
         .reconnect_min_ms = 10,
         .reconnect_max_ms = 40},
        [this](const EngineEvent& e) {
          Add("event " + e.action + " " + std::to_string(e.time_ns));
        },
        [this](const base::Status& why) { Add("gap " + why.message()); },
        [this] { Add("connected"); });
    EXPECT_TRUE(stream.ok()) << stream.status().message();
    return stream.ok() ? std::move(*stream) : nullptr;
  }
  // Waits up to 5 s until n entries were recorded; all of them.
  std::vector<std::string> WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(5), [&] { return log_.size() >= n; });
    return log_;
  }

 private:
  void Add(std::string entry) {
    std::lock_guard lock(mu_);
    log_.push_back(std::move(entry));
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> log_;
};

int64_t DestroyMs(std::unique_ptr<EngineEventStream> stream) {
  auto began = steady_clock::now();
  stream.reset();
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - began).count();
}

TEST(EngineEventStreamTest, DeliversLinesSplitAnywhereInOrder) {
  FakeEngine engine;
  Recorder recorder;
  auto stream = recorder.Start(engine.socket_path());
  auto request = engine.Next();
  ASSERT_TRUE(request);
  EXPECT_TRUE(request->target.starts_with("/v1.41/events?filters=%7B%22label%22"))
      << request->target;
  EXPECT_EQ(request->target.find("since="), std::string::npos) << "nothing seen yet";
  int fd = request->fd.get();
  FakeEngine::StartChunked(fd);
  std::string text = Line("create", 10) + "\r\n" + Line("start", 20) + "\n\r\n" +
                     Line("die", 30, R"(,"exitCode":"3")") + "\r\n";
  for (size_t i = 0; i < text.size(); i += 7) FakeEngine::Chunk(fd, text.substr(i, 7));
  auto log = recorder.WaitFor(4);
  EXPECT_EQ(log, (std::vector<std::string>{"connected", "event create 10", "event start 20",
                                           "event die 30"}));
  EXPECT_LT(DestroyMs(std::move(stream)), 100) << "blocked in a read of the body";
}

TEST(EngineEventStreamTest, ReconnectsFromTheLastEventWithoutRepeatingIt) {
  FakeEngine engine;
  Recorder recorder;
  auto stream = recorder.Start(engine.socket_path());
  {
    auto first = engine.Next();
    ASSERT_TRUE(first);
    FakeEngine::StartChunked(first->fd.get());
    FakeEngine::Chunk(first->fd.get(), Line("start", 1'000000005) + "\n");
    recorder.WaitFor(2);
  }  // the engine goes away
  auto second = engine.Next();
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->target.ends_with("&since=1.000000005")) << second->target;
  FakeEngine::StartChunked(second->fd.get());
  FakeEngine::Chunk(second->fd.get(), Line("start", 1'000000005) + "\n" +
                                          Line("kill", 1'000000005) + "\n" +
                                          Line("die", 1'000000009, R"(,"exitCode":"0")") + "\n");
  auto log = recorder.WaitFor(6);
  ASSERT_EQ(log.size(), 6u);
  EXPECT_EQ(log[0], "connected");
  EXPECT_EQ(log[1], "event start 1000000005");
  EXPECT_TRUE(log[2].starts_with("gap docker: read body")) << log[2];
  EXPECT_EQ(log[3], "connected");
  EXPECT_EQ(log[4], "event kill 1000000005") << "the replayed start is skipped";
  EXPECT_EQ(log[5], "event die 1000000009");
}

// Each of these answers drops the connection with a gap, and the stream connects again.
void ExpectGapThenReconnect(const std::function<void(int fd)>& answer, const std::string& why) {
  FakeEngine engine;
  Recorder recorder;
  auto stream = recorder.Start(engine.socket_path());
  auto first = engine.Next();
  ASSERT_TRUE(first);
  answer(first->fd.get());
  auto second = engine.Next();
  ASSERT_TRUE(second) << "no reconnection";
  auto log = recorder.WaitFor(1);
  ASSERT_FALSE(log.empty());
  EXPECT_TRUE(log.back().starts_with("gap ")) << log.back();
  EXPECT_NE(log.back().find(why), std::string::npos) << log.back();
}

TEST(EngineEventStreamTest, AnOverlongLineIsAGap) {
  ExpectGapThenReconnect(
      [](int fd) {
        FakeEngine::StartChunked(fd);
        for (int i = 0; i < 17; ++i) FakeEngine::Chunk(fd, std::string(64 * 1024, 'x'));
      },
      "longer than 1 MiB");
}

TEST(EngineEventStreamTest, AMalformedLineIsAGap) {
  ExpectGapThenReconnect(
      [](int fd) {
        FakeEngine::StartChunked(fd);
        FakeEngine::Chunk(fd, "{\"Action\":\"start\"}\n");
      },
      "malformed event");
}

TEST(EngineEventStreamTest, AnEngineErrorIsAGap) {
  ExpectGapThenReconnect(
      [](int fd) {
        FakeEngine::Send(fd,
                         "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 20\r\n\r\n"
                         "{\"message\":\"boom\"}\r\n");
      },
      "HTTP 500: boom");
}

TEST(EngineEventStreamTest, AnEndedStreamIsAGap) {
  ExpectGapThenReconnect(
      [](int fd) {
        FakeEngine::StartChunked(fd);
        FakeEngine::Send(fd, "0\r\n\r\n");
      },
      "ended the event stream");
}

TEST(EngineEventStreamTest, NoEngineGivesGapsUntilDestroyed) {
  base::TestTree tree;
  Recorder recorder;
  auto stream = recorder.Start((tree / "nothing.sock").string());
  auto log = recorder.WaitFor(3);
  ASSERT_GE(log.size(), 3u);
  for (const std::string& entry : log)
    EXPECT_TRUE(entry.starts_with("gap docker: cannot connect")) << entry;
  EXPECT_LT(DestroyMs(std::move(stream)), 100);
}

TEST(EngineEventStreamTest, DestroysPromptlyWhileTheEngineWithholdsItsAnswer) {
  FakeEngine engine;
  Recorder recorder;
  auto stream = recorder.Start(engine.socket_path());
  auto request = engine.Next();  // never answered
  ASSERT_TRUE(request);
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_LT(DestroyMs(std::move(stream)), 100);
  EXPECT_TRUE(recorder.WaitFor(0).empty()) << "no callback while stopping";
}

TEST(EngineEventStreamTest, StartRefusesBadOptions) {
  auto start = [](EngineEventStream::Options o, bool callbacks = true) {
    auto noop_event = [](const EngineEvent&) {};
    auto noop_gap = [](const base::Status&) {};
    auto noop = [] {};
    return EngineEventStream::Start(std::move(o), noop_event, noop_gap,
                                    callbacks ? EngineEventStream::OnConnected(noop) : nullptr);
  };
  EXPECT_EQ(start({}).status().kind(), base::ErrorKind::kInvalidInput) << "no socket";
  EXPECT_FALSE(start({.endpoint = {"/x"}, .reconnect_min_ms = 0}).ok());
  EXPECT_FALSE(start({.endpoint = {"/x"}, .reconnect_min_ms = 50, .reconnect_max_ms = 10}).ok());
  EXPECT_FALSE(start({.endpoint = {"/x"}}, false).ok());
}

}  // namespace
}  // namespace kiln::exec
