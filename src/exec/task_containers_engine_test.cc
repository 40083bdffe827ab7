// Container tasks on the fixture's engine (label `engine`): busybox containers on the host's
// network, loopback only. Each test removes its tasks; they print their figures.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include "exec/docker_test_engine.h"
#include "exec/task_containers.h"

namespace kiln::exec {
namespace {

using Clock = std::chrono::steady_clock;
using testing::kTestImage;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

class TaskContainersEngineTest : public testing::EngineSuite {
 protected:
  void TearDown() override {
    for (const std::string& id : tasks_) (void)RemoveTask(*client_, id);
  }
  const DockerClient& client() { return *client_; }
  // A task id unique to this test and process; its first 12 characters name its containers.
  std::string TaskId(const std::string& what) {
    std::string id = std::to_string(::getpid() % 100000) + what;
    tasks_.push_back(id);
    return id;
  }
  TaskLaunch Launch(const std::string& what, std::vector<TaskContainer> containers) {
    return {.task_id = TaskId(what),
            .service = "svc",
            .task_definition = "app:1",
            .containers = std::move(containers),
            .labels = {{"kiln.test", what}}};
  }
  // Polls ReadTask until pred holds or `seconds` pass.
  template <typename Pred>
  std::optional<TaskState> ReadUntil(const std::string& task_id, double seconds, Pred pred) {
    auto start = Clock::now();
    while (SecondsSince(start) < seconds) {
      auto state = ReadTask(client(), task_id);
      if (state.ok() && pred(*state)) return *state;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
  }
  size_t ContainersOf(const std::string& task_id) {
    auto list = client().ListContainers({{kTaskLabel, task_id}}, true);
    EXPECT_TRUE(list.ok()) << list.status().message();
    return list.ok() ? list->size() : 999;
  }

  std::vector<std::string> tasks_;
};

TaskContainer Web(int port) {
  return {.name = "web",
          .image = kTestImage,
          .command = {"sh", "-c",
                      "mkdir -p /www && echo hello-kiln > /www/index.html && "
                      "exec httpd -f -p 127.0.0.1:$PORT -h /www"},
          .health_check = TaskHealthCheck{.command = {"CMD-SHELL",
                                                      "wget -q -O- http://127.0.0.1:$PORT/ || "
                                                      "exit 1"},
                                          .interval_ms = 1000,
                                          .timeout_ms = 2000,
                                          .retries = 3},
          .memory_mib = 64,
          .port = port,
          .init_process = true};  // httpd as PID 1 would ignore SIGTERM (DOCKER-ENGINE fact 8)
}

TaskContainer Sleeper(std::string name, bool essential) {
  return {.name = std::move(name),
          .image = kTestImage,
          .essential = essential,
          .command = {"sleep", "1000"},
          .init_process = true};
}

TEST_F(TaskContainersEngineTest, TwoContainerTaskServesBecomesHealthyAndStopsClean) {
  int port = testing::FreeLoopbackPort();
  ASSERT_NE(port, 0);
  TaskLaunch launch = Launch("web", {Web(port), Sleeper("sidecar", false)});
  auto start = Clock::now();
  auto started = StartTask(client(), launch);
  ASSERT_TRUE(started.ok()) << started.status().message();
  ASSERT_EQ(started->size(), 2u);
  EXPECT_EQ((*started)[0].name, "web");
  auto healthy = ReadUntil(launch.task_id, 15,
                           [](const TaskState& s) { return s.health == HealthStatus::kHealthy; });
  ASSERT_TRUE(healthy.has_value()) << "not healthy within 15 s";
  std::cout << "figure: StartTask to healthy (1 s interval): " << SecondsSince(start) << " s\n";
  EXPECT_EQ(healthy->verdict, TaskVerdict::kRunning);
  EXPECT_EQ(healthy->containers[1].name, "sidecar");
  EXPECT_EQ(healthy->containers[1].status, ContainerStatus::kRunning);
  std::string answer = testing::HttpGetLoopback(port);
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
  EXPECT_NE(answer.find("hello-kiln"), std::string::npos) << answer;
  auto info = client().Inspect((*started)[0].id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->name, TaskContainerName("svc", launch.task_id, "web"));
  EXPECT_EQ(info->labels.at("kiln.test"), "web");

  auto stop = Clock::now();
  ASSERT_TRUE(StopTask(client(), launch.task_id, 5000).ok());
  double stop_seconds = SecondsSince(stop);
  std::cout << "figure: StopTask (2 containers, init, SIGTERM honoured): " << stop_seconds
            << " s\n";
  EXPECT_LT(stop_seconds, 5.0) << "SIGTERM through tini ends both before the timeout";
  EXPECT_EQ(ContainersOf(launch.task_id), 0u);
  EXPECT_EQ(testing::HttpGetLoopback(port), "");
}

// ECS stopTimeout: the caller's timeout, or (negative) the container's own Config.StopTimeout.
TEST_F(TaskContainersEngineTest, StopTaskSendsSigkillAfterTheStopTimeout) {
  for (int64_t own_ms : {int64_t{30'000}, int64_t{1'000}}) {
    TaskContainer stubborn = Sleeper("stubborn", true);
    stubborn.init_process = false;  // sleep as PID 1 ignores SIGTERM
    stubborn.stop_timeout_ms = own_ms;
    TaskLaunch launch = Launch("kill" + std::to_string(own_ms / 1000), {stubborn});
    ASSERT_TRUE(StartTask(client(), launch).ok());
    int64_t asked = own_ms == 1'000 ? -1 : 1'000;
    auto stop = Clock::now();
    ASSERT_TRUE(StopTask(client(), launch.task_id, asked).ok());
    double seconds = SecondsSince(stop);
    std::cout << "figure: StopTask, SIGTERM ignored, stopTimeout 1 s ("
              << (asked < 0 ? "the container's" : "the caller's") << "): " << seconds << " s\n";
    EXPECT_GE(seconds, 0.9);
    EXPECT_LT(seconds, 5.0);
    EXPECT_EQ(ContainersOf(launch.task_id), 0u);
  }
}

TEST_F(TaskContainersEngineTest, AFailingHealthCheckMakesTheTaskUnhealthy) {
  TaskContainer app = Sleeper("app", true);
  app.health_check = TaskHealthCheck{
      .command = {"CMD", "false"}, .interval_ms = 200, .timeout_ms = 1000, .retries = 2};
  TaskLaunch launch = Launch("sick", {app});
  ASSERT_TRUE(StartTask(client(), launch).ok());
  auto sick = ReadUntil(launch.task_id, 10,
                        [](const TaskState& s) { return s.verdict != TaskVerdict::kRunning; });
  ASSERT_TRUE(sick.has_value());
  EXPECT_EQ(sick->verdict, TaskVerdict::kUnhealthy);
  EXPECT_EQ(sick->stopped_reason, "Task failed container health checks");
  EXPECT_EQ(sick->containers[0].health, HealthStatus::kUnhealthy);
}

TEST_F(TaskContainersEngineTest, AnEssentialContainerExitingStopsTheTask) {
  TaskContainer app{
      .name = "app", .image = kTestImage, .command = {"sh", "-c", "sleep 0.3; exit 3"}};
  TaskLaunch launch = Launch("exit", {app, Sleeper("sidecar", false)});
  ASSERT_TRUE(StartTask(client(), launch).ok());
  auto stopped = ReadUntil(launch.task_id, 10,
                           [](const TaskState& s) { return s.verdict != TaskVerdict::kRunning; });
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(stopped->verdict, TaskVerdict::kStopped);
  EXPECT_EQ(stopped->stopped_reason, "Essential container in task exited");
  EXPECT_EQ(stopped->containers[0].status, ContainerStatus::kExited);
  EXPECT_EQ(stopped->containers[0].exit_code, 3);
  EXPECT_EQ(stopped->containers[1].status, ContainerStatus::kRunning);
  ASSERT_TRUE(RemoveTask(client(), launch.task_id).ok());
  EXPECT_EQ(ContainersOf(launch.task_id), 0u);
  EXPECT_EQ(ReadTask(client(), launch.task_id).status().kind(), base::ErrorKind::kNotFound);
}

TEST_F(TaskContainersEngineTest, AMissingImageIsCannotPullAndLeavesNothing) {
  TaskContainer missing{.name = "app", .image = "kiln/no-such-image:nope"};
  missing.depends_on = {{"first", DependencyCondition::kStart}};
  TaskLaunch launch = Launch("pull", {Sleeper("first", true), missing});
  auto started = StartTask(client(), launch);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().kind(), base::ErrorKind::kFailed);
  EXPECT_TRUE(started.status().message().starts_with("CannotPullContainerError: "))
      << started.status().message();
  EXPECT_NE(started.status().message().find("kiln/no-such-image"), std::string::npos);
  EXPECT_EQ(ContainersOf(launch.task_id), 0u) << "the started 'first' is removed too";
}

TEST_F(TaskContainersEngineTest, AFailedSuccessDependencyIsCannotStartAndLeavesNothing) {
  TaskContainer migrate{.name = "migrate",
                        .image = kTestImage,
                        .essential = false,
                        .command = {"sh", "-c", "exit 2"}};
  TaskContainer app = Sleeper("app", true);
  app.depends_on = {{"migrate", DependencyCondition::kSuccess}};
  TaskLaunch launch = Launch("succ", {app, migrate});
  auto started = StartTask(client(), launch);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().message(),
            "CannotStartContainerError: dependsOn 'migrate' SUCCESS: it exited 2");
  EXPECT_EQ(ContainersOf(launch.task_id), 0u);
}

TEST_F(TaskContainersEngineTest, AHealthyDependencyDelaysTheDependentsStart) {
  TaskContainer db{.name = "db",
                   .image = kTestImage,
                   .command = {"sh", "-c", "sleep 1.5; touch /tmp/ready; exec sleep 1000"},
                   .health_check = TaskHealthCheck{.command = {"CMD", "test", "-f", "/tmp/ready"},
                                                   .interval_ms = 250,
                                                   .timeout_ms = 1000,
                                                   .retries = 20},
                   .init_process = true};
  TaskContainer app = Sleeper("app", true);
  app.depends_on = {{"db", DependencyCondition::kHealthy}};
  TaskLaunch launch = Launch("dep", {app, db});
  auto started = StartTask(client(), launch);
  ASSERT_TRUE(started.ok()) << started.status().message();
  ASSERT_EQ(started->size(), 2u);
  EXPECT_EQ((*started)[0].name, "db");
  auto db_info = client().Inspect((*started)[0].id);
  auto app_info = client().Inspect((*started)[1].id);
  ASSERT_TRUE(db_info.ok() && app_info.ok());
  EXPECT_EQ(db_info->health, HealthStatus::kHealthy);
  double gap = static_cast<double>(app_info->started_at_ns - db_info->started_at_ns) / 1e9;
  std::cout << "figure: dependsOn HEALTHY gap (db ready after 1.5 s): " << gap << " s\n";
  EXPECT_GE(gap, 1.5) << "app started before db was healthy";
  EXPECT_LT(gap, 6.0);
  ASSERT_TRUE(StopTask(client(), launch.task_id, 2000).ok());
  EXPECT_EQ(ContainersOf(launch.task_id), 0u);
}

TEST_F(TaskContainersEngineTest, ListTasksFindsTasksByLabel) {
  TaskLaunch a = Launch("lsta", {Sleeper("app", true)});
  TaskLaunch b = Launch("lstb", {Sleeper("app", true)});
  a.labels["kiln.deployment"] = b.labels["kiln.deployment"] = "d-" + a.task_id;
  ASSERT_TRUE(StartTask(client(), a).ok());
  ASSERT_TRUE(StartTask(client(), b).ok());
  auto ids = ListTasks(client(), {{"kiln.deployment", "d-" + a.task_id}});
  ASSERT_TRUE(ids.ok()) << ids.status().message();
  std::vector<std::string> want = {a.task_id, b.task_id};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(*ids, want);
  ASSERT_TRUE(StopTask(client(), a.task_id, 2000).ok());
  ids = ListTasks(client(), {{"kiln.deployment", "d-" + a.task_id}});
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, std::vector<std::string>{b.task_id});
}

}  // namespace
}  // namespace kiln::exec
