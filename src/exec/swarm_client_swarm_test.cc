// SwarmClient against a real single-node swarm (CTest fixture swarm_engine, label `swarm`),
// with short health intervals so the whole suite stays well under two minutes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "exec/swarm_client.h"
#include "exec/swarm_test_engine.h"

namespace kiln::exec {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr int64_t kSecond = 1000000000;

std::string Trace(const std::vector<SwarmUpdateState>& seen) {
  std::string out;
  for (SwarmUpdateState s : seen) {
    out += s == SwarmUpdateState::kNone ? "(none) " : std::string(SwarmUpdateStateText(s)) + " ";
  }
  return out;
}

class SwarmClientTest : public testing::SwarmEngineSuite {
 protected:
  void TearDown() override {
    if (!swarm_) return;
    for (const std::string& id : services_) (void)swarm_->RemoveService(id);
  }

  const SwarmClient& swarm() { return *swarm_; }

  // A spec every test starts from: the test image, host networking, tini, a unique name.
  SwarmServiceSpec Spec(const std::string& name) {
    return SwarmServiceSpec{
        .name = "kiln-" + name + "-" + std::to_string(::getpid()),
        .labels = {{"kiln.test", name}},
        .image = *image_id_,
        .init = true,
        .stop_grace_period_ns = 2 * kSecond,
        .restart_policy = {.condition = SwarmRestartCondition::kAny, .delay_ns = kSecond / 10}};
  }
  std::string Create(const SwarmServiceSpec& spec) {
    auto id = swarm().CreateService(spec);
    EXPECT_TRUE(id.ok()) << id.status().message();
    if (!id.ok()) return "";
    services_.push_back(*id);
    return *id;
  }
  // The service's tasks meant to be running, once `count` of them are (health included:
  // Swarm reports a task running only once healthy).
  std::vector<SwarmTask> WaitRunning(const std::string& id, size_t count) {
    std::vector<SwarmTask> running;
    for (auto end = steady_clock::now() + seconds(30); steady_clock::now() < end;) {
      auto tasks = swarm().ListServiceTasks(id);
      EXPECT_TRUE(tasks.ok()) << tasks.status().message();
      if (!tasks.ok()) break;
      running.clear();
      for (const SwarmTask& t : *tasks) {
        if (t.desired_state == SwarmTaskState::kRunning && t.state == SwarmTaskState::kRunning)
          running.push_back(t);
      }
      if (running.size() == count) return running;
      std::this_thread::sleep_for(milliseconds(100));
    }
    ADD_FAILURE() << "tasks of " << id << " not running: " << running.size() << " of " << count;
    return running;
  }
  // Every update state seen (each once, in order) until one that ends an update, once the
  // update was seen under way (the previous update's end state may still show at first).
  std::vector<SwarmUpdateState> WatchUpdate(const std::string& id) {
    std::vector<SwarmUpdateState> seen;
    for (auto end = steady_clock::now() + seconds(40); steady_clock::now() < end;) {
      auto info = swarm().InspectService(id);
      EXPECT_TRUE(info.ok()) << info.status().message();
      if (!info.ok()) break;
      SwarmUpdateState s = info->update_status.state;
      if (seen.empty() || seen.back() != s) seen.push_back(s);
      bool ended = s == SwarmUpdateState::kCompleted || s == SwarmUpdateState::kRollbackCompleted ||
                   s == SwarmUpdateState::kPaused || s == SwarmUpdateState::kRollbackPaused;
      if (ended && seen.size() > 1) break;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return seen;
  }
  uint64_t Version(const std::string& id) {
    auto info = swarm().InspectService(id);
    EXPECT_TRUE(info.ok()) << info.status().message();
    return info.ok() ? info->version : 0;
  }
  // Sends the update (or rollback) with the current version. The manager bumps a new
  // service's version once more by itself (its endpoint allocation), so an update right after
  // a create can meet "update out of sequence": read the version again and retry.
  base::Status SendUpdate(const std::string& id, const SwarmServiceSpec& spec,
                          bool rollback = false) {
    base::Status st;
    for (int attempt = 0; attempt < 5; ++attempt) {
      st = swarm().UpdateService(id, Version(id), spec, rollback);
      if (st.ok() || st.message().find("out of sequence") == std::string::npos) break;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return st;
  }
  // Sends the update (or rollback) and watches it to its end.
  std::vector<SwarmUpdateState> Update(const std::string& id, const SwarmServiceSpec& spec,
                                       bool rollback = false) {
    base::Status st = SendUpdate(id, spec, rollback);
    EXPECT_TRUE(st.ok()) << st.message();
    if (!st.ok()) return {SwarmUpdateState::kNone};
    auto seen = WatchUpdate(id);
    std::printf("update%s: %s\n", rollback ? " (rollback)" : "", Trace(seen).c_str());
    return seen;
  }
  // The spec the service runs now; its env holds the secret values, as the engine has them.
  SwarmSpecSummary Deployed(const std::string& id) {
    auto info = swarm().InspectService(id);
    EXPECT_TRUE(info.ok()) << info.status().message();
    return info.ok() ? info->spec : SwarmSpecSummary{};
  }
  static double SecondsSince(steady_clock::time_point start) {
    return std::chrono::duration<double>(steady_clock::now() - start).count();
  }
  static bool Saw(const std::vector<SwarmUpdateState>& seen, SwarmUpdateState state) {
    return std::find(seen.begin(), seen.end(), state) != seen.end();
  }

  std::vector<std::string> services_;
};

SwarmServiceSpec WebSpec(SwarmServiceSpec spec) {
  spec.command = {"sleep", "100000"};
  spec.env = {"VERSION=1"};
  spec.secret_env = {{"API_TOKEN", "not-for-logs"}};
  spec.health_check = HealthcheckConfig{
      .test = {"CMD", "true"}, .interval_ns = kSecond, .timeout_ns = kSecond, .retries = 1};
  spec.replicas = 2;
  spec.update_config = {.parallelism = 1,
                        .failure_action = SwarmFailureAction::kRollback,
                        .monitor_ns = 2 * kSecond,
                        .order = SwarmUpdateOrder::kStartFirst};
  spec.rollback_config = {.parallelism = 0,
                          .failure_action = SwarmFailureAction::kPause,
                          .monitor_ns = kSecond,
                          .order = SwarmUpdateOrder::kStartFirst};
  return spec;
}

TEST_F(SwarmClientTest, InfoSaysManager) {
  auto info = swarm().Info();
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->state, SwarmNodeState::kActive);
  EXPECT_TRUE(info->control_available);
  EXPECT_FALSE(info->node_id.empty());
  auto again = swarm().Init();  // already a swarm: 503
  EXPECT_EQ(again.ok() ? base::ErrorKind::kOk : again.status().kind(), base::ErrorKind::kFailed);
}

// Swarm's own rolling update, manual rollback and automatic rollback of a failing update, read
// back through UpdateStatus, the spec and the tasks.
TEST_F(SwarmClientTest, RollingUpdateRollbackAndFailedUpdate) {
  SwarmServiceSpec v1 = WebSpec(Spec("web"));
  auto start = steady_clock::now();
  std::string id = Create(v1);
  ASSERT_FALSE(id.empty());
  for (const SwarmTask& t : WaitRunning(id, 2)) {
    auto container = swarm().engine().Inspect(t.container_id);
    ASSERT_TRUE(container.ok()) << container.status().message();
    EXPECT_EQ(container->health, HealthStatus::kHealthy);
  }
  double created = SecondsSince(start);

  SwarmServiceSpec v2 = v1;
  v2.env = {"VERSION=2"};
  auto seen = Update(id, v2);
  EXPECT_TRUE(Saw(seen, SwarmUpdateState::kUpdating)) << Trace(seen);
  EXPECT_EQ(seen.back(), SwarmUpdateState::kCompleted) << Trace(seen);
  EXPECT_THAT(Deployed(id).env, ::testing::Contains("VERSION=2"));
  EXPECT_EQ(WaitRunning(id, 2).size(), 2u);
  double updated = SecondsSince(start);

  // A manual rollback: back to v1, the engine's previous spec.
  seen = Update(id, v2, /*rollback=*/true);
  EXPECT_EQ(seen.back(), SwarmUpdateState::kRollbackCompleted) << Trace(seen);
  EXPECT_THAT(Deployed(id).env, ::testing::Contains("VERSION=1"));
  EXPECT_EQ(WaitRunning(id, 2).size(), 2u);
  double rolled_back = SecondsSince(start);

  // An update whose health check fails: Swarm rolls it back by itself.
  SwarmServiceSpec broken = v1;
  broken.env = {"VERSION=3"};
  broken.health_check->test = {"CMD-SHELL", "false"};
  broken.update_config.monitor_ns = 3 * kSecond;
  seen = Update(id, broken);
  EXPECT_TRUE(Saw(seen, SwarmUpdateState::kRollbackStarted)) << Trace(seen);
  EXPECT_EQ(seen.back(), SwarmUpdateState::kRollbackCompleted) << Trace(seen);
  SwarmSpecSummary after = Deployed(id);
  EXPECT_THAT(after.env, ::testing::Contains("VERSION=1"));
  EXPECT_EQ(after.health_test, v1.health_check->test);
  EXPECT_EQ(WaitRunning(id, 2).size(), 2u);
  std::printf(
      "swarm: 2/2 healthy %.1f s, update %.1f s, manual rollback %.1f s, "
      "failed update rolled back %.1f s (cumulative)\n",
      created, updated, rolled_back, SecondsSince(start));
}

// A stale version is refused (DOCKER-ENGINE.md fact 5), and a bad spec never reaches the
// engine.
TEST_F(SwarmClientTest, StaleVersionAndBadSpecAreRefused) {
  SwarmServiceSpec spec = Spec("stale");
  spec.command = {"sleep", "100000"};
  spec.replicas = 0;
  std::string id = Create(spec);
  ASSERT_FALSE(id.empty());
  spec.env = {"A=1"};
  uint64_t version = Version(id);
  auto first = SendUpdate(id, spec);
  ASSERT_TRUE(first.ok()) << first.message();
  auto stale = swarm().UpdateService(id, version, spec);
  EXPECT_EQ(stale.kind(), base::ErrorKind::kFailed) << stale.message();
  EXPECT_NE(stale.message().find("update out of sequence"), std::string::npos);
  spec.health_check = HealthcheckConfig{.test = {"CMD", "true"}, .interval_ns = 5};
  EXPECT_EQ(swarm().UpdateService(id, Version(id), spec).kind(), base::ErrorKind::kInvalidInput);
  EXPECT_EQ(swarm().InspectService("no-such-service").status().kind(), base::ErrorKind::kNotFound);
}

// A build-like job: one task that prints a line and exits 0; its state and its logs.
TEST_F(SwarmClientTest, ReplicatedJobCompletesWithLogs) {
  SwarmServiceSpec spec = Spec("job");
  spec.mode = SwarmServiceMode::kReplicatedJob;
  spec.command = {"sh", "-c", "echo job-line-42; echo to-stderr >&2"};
  spec.network = SwarmNetwork::kNone;  // no attachment: the engine's default, loopback only
  spec.restart_policy.condition = SwarmRestartCondition::kNone;
  std::string id = Create(spec);
  ASSERT_FALSE(id.empty());
  std::optional<SwarmTask> done;
  for (auto end = steady_clock::now() + seconds(30); !done && steady_clock::now() < end;) {
    auto tasks = swarm().ListServiceTasks(id);
    ASSERT_TRUE(tasks.ok()) << tasks.status().message();
    for (const SwarmTask& t : *tasks) {
      if (IsFinal(t.state)) done = t;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(done) << "the job's task did not finish";
  EXPECT_EQ(done->state, SwarmTaskState::kComplete) << done->error;
  EXPECT_EQ(done->exit_code, 0);
  EXPECT_FALSE(done->container_id.empty());
  EXPECT_EQ(swarm().InspectService(id)->spec.mode, SwarmServiceMode::kReplicatedJob);
  std::string out, err;
  auto st = swarm().ServiceLogs(id, {}, [&](const FramePiece& p) {
    (p.stream == StreamKind::kStderr ? err : out).append(p.data);
  });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(out, "job-line-42\n");
  EXPECT_EQ(err, "to-stderr\n");
  ASSERT_TRUE(swarm().RemoveService(id).ok());
  // Removing a job leaves its exited container behind (moby#42789).
  (void)swarm().engine().Remove(done->container_id, true);
}

// A task with host networking listens on the swarm namespace's loopback: reachable from a
// thread inside it, not from the host's.
TEST_F(SwarmClientTest, TaskPortIsReachedInsideTheSwarmNamespace) {
  int port = 0;
  ASSERT_TRUE(testing::RunInSwarmNetns([&] { port = testing::FreeLoopbackPort(); }).ok());
  ASSERT_GT(port, 0);
  std::string p = std::to_string(port);
  SwarmServiceSpec spec = Spec("http");
  spec.command = {"sh", "-c",
                  "mkdir -p /tmp/w && echo hello-from-task >/tmp/w/index.html && "
                  "exec httpd -f -p 127.0.0.1:" +
                      p + " -h /tmp/w"};
  spec.health_check = HealthcheckConfig{
      .test = {"CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:" + p + "/"},
      .interval_ns = kSecond / 2,
      .timeout_ns = kSecond,
      .retries = 3};
  std::string id = Create(spec);
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitRunning(id, 1).size(), 1u);
  std::string inside;
  ASSERT_TRUE(testing::RunInSwarmNetns([&] { inside = testing::HttpGetLoopback(port); }).ok());
  EXPECT_NE(inside.find("hello-from-task"), std::string::npos) << inside;
  EXPECT_EQ(testing::HttpGetLoopback(port).find("hello-from-task"), std::string::npos);
}

}  // namespace
}  // namespace kiln::exec
