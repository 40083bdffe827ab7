// EngineEventStream against the private engine (CTest fixture docker_engine, label `engine`).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "base/fd.h"
#include "base/test_tree.h"
#include "exec/docker_test_engine.h"
#include "exec/engine_events.h"

namespace kiln::exec {
namespace {

using Kind = EngineEvent::Kind;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::kTestImage;

constexpr char kLabel[] = "kiln.events-test";

// Everything a stream reported, in order: events, and "connected" / "gap" markers as events of
// kind kOther with those actions.
class Recorder {
 public:
  std::unique_ptr<EngineEventStream> Start(const std::string& socket_path,
                                           const std::string& label_value, int64_t min_ms) {
    auto stream = EngineEventStream::Start(
        {.endpoint = {socket_path},
         .labels = {{kLabel, label_value}},
         .reconnect_min_ms = min_ms,
         .reconnect_max_ms = 2 * min_ms},
        [this](const EngineEvent& e) { Add(e); },
        [this](const base::Status& why) { Add({.action = "gap: " + why.message()}); },
        [this] { Add({.action = "connected"}); });
    EXPECT_TRUE(stream.ok()) << stream.status().message();
    return stream.ok() ? std::move(*stream) : nullptr;
  }
  // Waits up to 20 s until pred holds for the log; the log.
  std::vector<EngineEvent> WaitUntil(
      const std::function<bool(const std::vector<EngineEvent>&)>& pred) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return pred(log_); });
    return log_;
  }
  std::vector<EngineEvent> WaitForAction(const std::string& action, int count = 1) {
    return WaitUntil([&](const std::vector<EngineEvent>& log) {
      return std::count_if(log.begin(), log.end(), [&](const EngineEvent& e) {
               return e.action.starts_with(action);
             }) >= count;
    });
  }

 private:
  void Add(EngineEvent e) {
    std::lock_guard lock(mu_);
    log_.push_back(std::move(e));
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<EngineEvent> log_;
};

// The position of the first entry with this action at or after from; log.size() if none.
size_t Find(const std::vector<EngineEvent>& log, const std::string& action, size_t from = 0) {
  for (size_t i = from; i < log.size(); ++i) {
    if (log[i].action.starts_with(action)) return i;
  }
  return log.size();
}

int64_t DestroyMs(std::unique_ptr<EngineEventStream> stream) {
  auto began = steady_clock::now();
  stream.reset();
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - began).count();
}

// A unix-socket relay in front of the engine whose connections the test can cut, as an engine
// restart would.
class CuttableRelay {
 public:
  explicit CuttableRelay(std::string upstream)
      : upstream_(std::move(upstream)), path_((tree_ / "relay.sock").string()) {
    listener_ = Listen(path_);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~CuttableRelay() {
    stop_ = true;
    Cut();
    acceptor_.join();
    for (std::thread& t : pumps_) t.join();
  }
  const std::string& socket_path() const { return path_; }
  // Shuts every relayed connection down (new ones are relayed again).
  void Cut() {
    std::lock_guard lock(mu_);
    for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  static sockaddr_un Address(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    return a;
  }
  static base::UniqueFd Listen(const std::string& path) {
    base::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a = Address(path);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd.get(), 16), 0);
    return fd;
  }
  void Accept() {
    while (!stop_) {
      pollfd p{.fd = listener_.get(), .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      auto client = std::make_shared<base::UniqueFd>(
          ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!client->valid()) continue;
      auto engine =
          std::make_shared<base::UniqueFd>(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_un a = Address(upstream_);
      if (::connect(engine->get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) continue;
      std::lock_guard lock(mu_);
      open_.push_back(client->get());
      open_.push_back(engine->get());
      pumps_.emplace_back([this, client, engine] { Pump(client->get(), engine->get()); });
    }
  }
  // Copies both ways until either side ends or the relay stops.
  void Pump(int a, int b) {
    char buffer[16384];
    while (!stop_) {
      pollfd p[2] = {{.fd = a, .events = POLLIN, .revents = 0},
                     {.fd = b, .events = POLLIN, .revents = 0}};
      if (::poll(p, 2, 20) <= 0) continue;
      int from = (p[0].revents != 0) ? a : b;
      ssize_t n = ::read(from, buffer, sizeof buffer);
      if (n <= 0 || ::send(from == a ? b : a, buffer, n, MSG_NOSIGNAL) != n) break;
    }
    std::lock_guard lock(mu_);
    ::shutdown(a, SHUT_RDWR);
    ::shutdown(b, SHUT_RDWR);
    std::erase(open_, a);
    std::erase(open_, b);
  }

  base::TestTree tree_;
  std::string upstream_;
  std::string path_;
  base::UniqueFd listener_;
  std::atomic<bool> stop_ = false;
  std::mutex mu_;
  std::vector<int> open_;  // guarded by mu_
  std::vector<std::thread> pumps_;
  std::thread acceptor_;
};

class EngineEventsTest : public testing::EngineSuite {
 protected:
  void SetUp() override {
    testing::EngineSuite::SetUp();
    if (IsSkipped()) return;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    label_value_ = std::string(info->name()) + "-" + std::to_string(::getpid()) + "-" +
                   std::to_string(steady_clock::now().time_since_epoch().count());
  }
  void TearDown() override {
    for (const std::string& id : created_) (void)client_->Remove(id, true);
  }
  std::string Create(ContainerSpec spec) {
    spec.image = kTestImage;
    spec.network_mode = NetworkMode::kHost;
    auto id = client_->CreateContainer(spec);
    EXPECT_TRUE(id.ok()) << id.status().message();
    if (!id.ok()) return "";
    created_.push_back(*id);
    return *id;
  }
  // Starts a created container and waits for its exit code.
  int RunToExit(const std::string& id) {
    auto wait = client_->Wait(id, WaitCondition::kNextExit);
    EXPECT_TRUE(wait.ok()) << wait.status().message();
    if (!wait.ok()) return -1;
    EXPECT_TRUE(client_->Start(id).ok());
    auto code = wait->Get();
    EXPECT_TRUE(code.ok()) << code.status().message();
    return code.ok() ? *code : -1;
  }
  std::string SocketPath() { return client_->endpoint().socket_path; }

  std::string label_value_;
  std::vector<std::string> created_;
};

TEST_F(EngineEventsTest, StartHealthyDieInOrderAndNothingFromOthers) {
  Recorder recorder;
  auto stream = recorder.Start(SocketPath(), label_value_, 100);
  ASSERT_EQ(Find(recorder.WaitForAction("connected"), "connected"), 0u);
  std::string other = Create({.cmd = {"true"}, .labels = {{kLabel, "someone-else"}}});
  std::string id = Create({.cmd = {"sh", "-c", "sleep 3; exit 3"},
                           .labels = {{kLabel, label_value_}},
                           .healthcheck = HealthcheckConfig{.test = {"CMD-SHELL", "true"},
                                                            .interval_ns = 1'000'000'000,
                                                            .timeout_ns = 1'000'000'000,
                                                            .retries = 1}});
  ASSERT_FALSE(other.empty() || id.empty());
  EXPECT_EQ(RunToExit(other), 0);
  EXPECT_EQ(RunToExit(id), 3);
  auto log = recorder.WaitForAction("die");
  size_t start = Find(log, "start");
  size_t healthy = Find(log, "health_status: healthy", start);
  size_t die = Find(log, "die", healthy);
  ASSERT_LT(die, log.size()) << "start, healthy, die in that order";
  EXPECT_EQ(log[start].kind, Kind::kStart);
  EXPECT_EQ(log[healthy].kind, Kind::kHealthy);
  EXPECT_EQ(log[die].kind, Kind::kDie);
  EXPECT_EQ(log[die].exit_code, 3);
  EXPECT_EQ(log[die].attributes.at(kLabel), label_value_);
  for (size_t i = 1; i < log.size(); ++i) {
    EXPECT_EQ(log[i].container_id, id) << log[i].action << ": only the labelled container";
  }
  EXPECT_LT(DestroyMs(std::move(stream)), 100) << "blocked in a read";
}

TEST_F(EngineEventsTest, ACutConnectionIsAGapAndTheReplayBringsWhatHappenedMeanwhile) {
  CuttableRelay relay(SocketPath());
  Recorder recorder;
  auto stream = recorder.Start(relay.socket_path(), label_value_, 1000);
  recorder.WaitForAction("connected");
  std::string id = Create({.cmd = {"sleep", "60"}, .labels = {{kLabel, label_value_}}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(client_->Start(id).ok());
  recorder.WaitForAction("start");
  relay.Cut();
  recorder.WaitForAction("gap");
  ASSERT_TRUE(client_->Kill(id, "SIGKILL").ok());  // during the 1 s before the reconnection
  auto log = recorder.WaitForAction("die");
  size_t gap = Find(log, "gap");
  size_t reconnected = Find(log, "connected", gap);
  size_t die = Find(log, "die", reconnected);
  ASSERT_LT(die, log.size()) << "the die replayed after the reconnection";
  EXPECT_EQ(log[die].exit_code, 137);
  EXPECT_NE(log[gap].action.find("docker: read body"), std::string::npos) << log[gap].action;
  EXPECT_EQ(std::count_if(log.begin(), log.end(),
                          [](const EngineEvent& e) { return e.kind == Kind::kStart; }),
            1)
      << "the replayed start is not repeated";
  EXPECT_LT(DestroyMs(std::move(stream)), 100);
}

}  // namespace
}  // namespace kiln::exec
