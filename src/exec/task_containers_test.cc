// A task's containers as engine specs, their start order and the task verdict, without an
// engine: the create bodies are checked through ContainerCreateBody, the engine's JSON.
#include "exec/task_containers.h"

#include <gtest/gtest.h>

#include "exec/docker_wire.h"

namespace kiln::exec {
namespace {

using Json = nlohmann::json;

TaskContainer Web() {
  return {.name = "web",
          .image = "kiln/app:1",
          .entry_point = {"/bin/sh", "-c"},
          .command = {"httpd -f -p $PORT"},
          .environment = {{"MODE", "prod"}, {"DB_PASSWORD", "from-env"}},
          .secrets = {{"DB_PASSWORD", "s3cret"}},
          .health_check = TaskHealthCheck{.command = {"CMD-SHELL", "wget -q -O- http://x/"},
                                          .interval_ms = 1000,
                                          .timeout_ms = 2000,
                                          .retries = 4,
                                          .start_period_ms = 500},
          .cpu_units = 512,
          .memory_mib = 256,
          .memory_reservation_mib = 128,
          .stop_timeout_ms = 2500,
          .port = 8123};
}

TaskLaunch Launch(std::vector<TaskContainer> containers) {
  return {.task_id = "0123456789abcdef0123456789abcdef",
          .service = "web",
          .task_definition = "app:7",
          .containers = std::move(containers),
          .labels = {{"kiln.deployment", "d1"}}};
}

Json Body(const TaskLaunch& launch, size_t index, size_t order = 0) {
  auto spec = TaskContainerSpec(launch, index, order);
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return spec.ok() ? ContainerCreateBody(*spec) : Json();
}

TEST(TaskContainersTest, CreateBodyMapsTheContainerDefinition) {
  Json j = Body(Launch({Web()}), 0, 3);
  EXPECT_EQ(j["Image"], "kiln/app:1");
  EXPECT_EQ(j["Entrypoint"], Json({"/bin/sh", "-c"}));
  EXPECT_EQ(j["Cmd"], Json({"httpd -f -p $PORT"}));
  // The secret replaces the variable in place; PORT comes last.
  EXPECT_EQ(j["Env"], Json({"MODE=prod", "DB_PASSWORD=s3cret", "PORT=8123"}));
  EXPECT_EQ(j["StopTimeout"], 3) << "2.5 s rounds up: never less than asked";
  const Json& h = j["HostConfig"];
  EXPECT_EQ(h["NetworkMode"], "host");
  EXPECT_EQ(h["NanoCpus"], 500000000) << "512 ECS units are half a CPU";
  EXPECT_EQ(h["Memory"], 256 << 20);
  EXPECT_EQ(h["MemoryReservation"], 128 << 20);
  EXPECT_EQ(h["Init"], false);
  EXPECT_EQ(j["Healthcheck"], Json({{"Test", {"CMD-SHELL", "wget -q -O- http://x/"}},
                                    {"Interval", 1000000000},
                                    {"Timeout", 2000000000},
                                    {"StartPeriod", 500000000},
                                    {"Retries", 4}}));
}

TEST(TaskContainersTest, LabelsFindTheTaskAgain) {
  Json labels = Body(Launch({Web()}), 0, 3)["Labels"];
  EXPECT_EQ(labels, Json({{"kiln.service", "web"},
                          {"kiln.task", "0123456789abcdef0123456789abcdef"},
                          {"kiln.container", "web"},
                          {"kiln.task-definition", "app:7"},
                          {"kiln.essential", "true"},
                          {"kiln.start-order", "3"},
                          {"kiln.deployment", "d1"}}));
  TaskLaunch overriding = Launch({Web()});
  overriding.labels["kiln.task"] = "forged";
  EXPECT_EQ(Body(overriding, 0)["Labels"]["kiln.task"], "0123456789abcdef0123456789abcdef")
      << "the launch's labels never replace Kiln's own";
}

TEST(TaskContainersTest, NamesUseTheEnginesAlphabetAndAShortTaskId) {
  EXPECT_EQ(TaskContainerName("web", "0123456789abcdef0123", "app"), "kiln-web-0123456789ab-app");
  EXPECT_EQ(TaskContainerName("my svc/1", "arn:aws:ecs:r:1:task/c/abcdef", "side car:é"),
            "kiln-my-svc-1-abcdef-side-car---");
  EXPECT_EQ(Body(Launch({Web()}), 0).is_null(), false);
  auto spec = TaskContainerSpec(Launch({Web()}), 0, 0);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->name, "kiln-web-0123456789ab-web");
}

TEST(TaskContainersTest, HealthCommandWithoutPrefixIsCmdAndDefaultsAreEcss) {
  TaskContainer c{.name = "a", .image = "i", .health_check = TaskHealthCheck{.command = {"true"}}};
  Json h = Body(Launch({c}), 0)["Healthcheck"];
  EXPECT_EQ(h["Test"], Json({"CMD", "true"}));
  EXPECT_EQ(h["Interval"], 30000000000) << "ECS 30 s";
  EXPECT_EQ(h["Timeout"], 5000000000) << "ECS 5 s, not Docker's 30 s";
  EXPECT_EQ(h["Retries"], 3);
  EXPECT_EQ(h["StartPeriod"], 0);
}

TEST(TaskContainersTest, NoLimitsNoPortNoHealthMeansNoneInTheBody) {
  TaskLaunch launch = Launch({{.name = "a", .image = "i"}});
  launch.network = TaskNetwork::kNone;
  Json j = Body(launch, 0);
  EXPECT_EQ(j["Env"], Json::array());
  EXPECT_FALSE(j.contains("Healthcheck"));
  EXPECT_EQ(j["StopTimeout"], 30) << "ECS's default, not Docker's 10 s";
  EXPECT_EQ(j["HostConfig"]["NetworkMode"], "none");
  EXPECT_FALSE(j["HostConfig"].contains("NanoCpus"));
  EXPECT_FALSE(j["HostConfig"].contains("Memory"));
}

TEST(TaskContainersTest, RefusesBadValuesAsInvalidInput) {
  auto refused = [](TaskContainer c) {
    auto spec = TaskContainerSpec(Launch({std::move(c)}), 0, 0);
    return !spec.ok() && spec.status().kind() == base::ErrorKind::kInvalidInput;
  };
  TaskContainer c = Web();
  c.memory_reservation_mib = 512;
  EXPECT_TRUE(refused(c)) << "reservation above the hard limit";
  c = Web();
  c.environment.push_back({"A=B", "x"});
  EXPECT_TRUE(refused(c));
  c = Web();
  c.health_check->interval_ms = 0;
  EXPECT_TRUE(refused(c));
  c = Web();
  c.health_check->command = {"CMD-SHELL"};
  EXPECT_TRUE(refused(c));
  c = Web();
  c.stop_timeout_ms = -1;
  EXPECT_TRUE(refused(c));
  c = Web();
  c.memory_mib = int64_t{1} << 50;
  EXPECT_TRUE(refused(c)) << "bytes would overflow";
  EXPECT_FALSE(TaskContainerSpec(Launch({Web()}), 1, 0).ok());
}

std::vector<std::string> OrderedNames(const std::vector<TaskContainer>& containers) {
  auto order = StartOrder(containers);
  EXPECT_TRUE(order.ok()) << order.status().message();
  std::vector<std::string> names;
  if (order.ok()) {
    for (size_t i : *order) names.push_back(containers[i].name);
  }
  return names;
}

TaskContainer Needing(std::string name, std::vector<ContainerDependency> deps,
                      bool essential = true) {
  return {.name = std::move(name),
          .image = "i",
          .essential = essential,
          .health_check = TaskHealthCheck{.command = {"CMD", "true"}},
          .depends_on = std::move(deps)};
}

TEST(TaskContainersTest, StartOrderPutsDependenciesFirstAndKeepsTheRest) {
  EXPECT_EQ(OrderedNames({Needing("a", {}), Needing("b", {}), Needing("c", {})}),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(OrderedNames({Needing("web", {{"db", DependencyCondition::kHealthy},
                                          {"migrate", DependencyCondition::kSuccess}}),
                          Needing("migrate", {{"db", DependencyCondition::kStart}}, false),
                          Needing("db", {}), Needing("log", {})}),
            (std::vector<std::string>{"db", "migrate", "web", "log"}));
}

base::ErrorKind OrderError(const std::vector<TaskContainer>& containers) {
  auto order = StartOrder(containers);
  return order.ok() ? base::ErrorKind::kOk : order.status().kind();
}

TEST(TaskContainersTest, StartOrderRefusesWhatEcsRefuses) {
  using base::ErrorKind;
  EXPECT_EQ(OrderError({Needing("a", {{"b"}}), Needing("b", {{"c"}}), Needing("c", {{"a"}})}),
            ErrorKind::kInvalidInput)
      << "a cycle";
  EXPECT_EQ(OrderError({Needing("a", {{"a"}})}), ErrorKind::kInvalidInput) << "itself";
  EXPECT_EQ(OrderError({Needing("a", {{"ghost"}})}), ErrorKind::kInvalidInput);
  EXPECT_EQ(OrderError({Needing("a", {}), Needing("a", {})}), ErrorKind::kInvalidInput);
  EXPECT_EQ(OrderError({}), ErrorKind::kInvalidInput);
  EXPECT_EQ(OrderError({Needing("a", {}, false)}), ErrorKind::kInvalidInput) << "no essential";
  EXPECT_EQ(OrderError({Needing("a", {{"b", DependencyCondition::kComplete}}), Needing("b", {})}),
            ErrorKind::kInvalidInput)
      << "COMPLETE on an essential container";
  TaskContainer unchecked{.name = "b", .image = "i"};
  EXPECT_EQ(OrderError({Needing("a", {{"b", DependencyCondition::kHealthy}}), unchecked}),
            ErrorKind::kInvalidInput)
      << "HEALTHY without a health check";
}

ContainerInfo Inspected(std::string name, ContainerStatus status, HealthStatus health,
                        bool essential = true, std::string order = "0") {
  return {.id = "id-" + name,
          .name = "kiln-web-t-" + name,
          .labels = {{"kiln.container", name},
                     {"kiln.essential", essential ? "true" : "false"},
                     {"kiln.start-order", std::move(order)}},
          .status = status,
          .health = health};
}

TEST(TaskContainersTest, VerdictRunningWhileEssentialsRun) {
  TaskState s = TaskStateFrom(
      "t", {Inspected("web", ContainerStatus::kRunning, HealthStatus::kHealthy, true, "1"),
            Inspected("init", ContainerStatus::kExited, HealthStatus::kNone, false, "0")});
  EXPECT_EQ(s.verdict, TaskVerdict::kRunning) << "a non-essential exit does not stop the task";
  EXPECT_EQ(s.health, HealthStatus::kHealthy);
  EXPECT_EQ(s.stopped_reason, "");
  ASSERT_EQ(s.containers.size(), 2u);
  EXPECT_EQ(s.containers[0].name, "init") << "in start order";
  EXPECT_FALSE(s.containers[0].essential);
}

TEST(TaskContainersTest, VerdictStoppedWhenAnEssentialContainerExited) {
  ContainerInfo oom = Inspected("web", ContainerStatus::kExited, HealthStatus::kNone);
  oom.exit_code = 137;
  oom.oom_killed = true;
  TaskState s = TaskStateFrom(
      "t", {oom, Inspected("side", ContainerStatus::kRunning, HealthStatus::kUnhealthy)});
  EXPECT_EQ(s.verdict, TaskVerdict::kStopped);
  EXPECT_EQ(s.stopped_reason, "Essential container in task exited");
  EXPECT_EQ(s.containers[0].exit_code, 137);
  EXPECT_EQ(s.containers[0].reason, "OutOfMemoryError: Container killed due to memory usage");
}

TEST(TaskContainersTest, VerdictUnhealthyOnlyFromEssentialContainers) {
  TaskState s =
      TaskStateFrom("t", {Inspected("web", ContainerStatus::kRunning, HealthStatus::kUnhealthy),
                          Inspected("side", ContainerStatus::kRunning, HealthStatus::kHealthy)});
  EXPECT_EQ(s.verdict, TaskVerdict::kUnhealthy);
  EXPECT_EQ(s.stopped_reason, "Task failed container health checks");
  EXPECT_EQ(s.health, HealthStatus::kUnhealthy);
  TaskState side = TaskStateFrom(
      "t", {Inspected("web", ContainerStatus::kRunning, HealthStatus::kStarting),
            Inspected("side", ContainerStatus::kRunning, HealthStatus::kUnhealthy, false)});
  EXPECT_EQ(side.verdict, TaskVerdict::kRunning);
  EXPECT_EQ(side.health, HealthStatus::kStarting);
  TaskState unchecked =
      TaskStateFrom("t", {Inspected("web", ContainerStatus::kRunning, HealthStatus::kNone)});
  EXPECT_EQ(unchecked.health, HealthStatus::kNone);
}

TEST(TaskContainersTest, VerdictPendingWhileAnEssentialContainerIsOnlyCreated) {
  TaskState s = TaskStateFrom(
      "t", {Inspected("db", ContainerStatus::kRunning, HealthStatus::kStarting, true, "0"),
            Inspected("web", ContainerStatus::kCreated, HealthStatus::kNone, true, "1")});
  EXPECT_EQ(s.verdict, TaskVerdict::kPending);
}

TEST(TaskContainersTest, StartOrderLabelsThatAreMissingOrBadSortLast) {
  EXPECT_EQ(TaskStartOrderOf({{"kiln.start-order", "2"}}), 2u);
  EXPECT_EQ(TaskStartOrderOf({}), std::numeric_limits<size_t>::max());
  EXPECT_EQ(TaskStartOrderOf({{"kiln.start-order", "x"}}), std::numeric_limits<size_t>::max());
}

}  // namespace
}  // namespace kiln::exec
