#include "deploy/swarm_plan.h"

#include <gtest/gtest.h>

namespace kiln::deploy {
namespace {

ServiceSpec Service(int min_percent, int max_percent) {
  ServiceSpec s;
  s.name = "web";
  s.minimum_healthy_percent = min_percent;
  s.maximum_percent = max_percent;
  s.circuit_breaker = {.enable = true, .rollback = true};
  ContainerSpec c{.name = "web", .image = "kiln/web:2", .command = {"serve"}};
  c.environment = {{"MODE", "prod"}};
  c.health_check = ContainerHealthCheck{.command = {"CMD-SHELL", "true"},
                                        .interval_ms = 1000,
                                        .timeout_ms = 400,
                                        .retries = 2,
                                        .start_period_ms = 500};
  c.stop_timeout_ms = 2000;
  s.task.containers = {c};
  return s;
}

TEST(SwarmPlanTest, EcsPercentsBecomeSwarmsUpdateConfig) {
  ServiceSpec s = Service(100, 200);
  auto spec = SwarmPlan({.service = &s,
                         .task = &s.task,
                         .desired = 4,
                         .revision = 7,
                         .state_label = "abc",
                         .secrets = {{"DB_PASSWORD", "hunter2"}},
                         .port_prefix = 312});
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->name, "kiln-web");
  EXPECT_EQ(spec->replicas, 4);
  EXPECT_EQ(spec->update_config.order, exec::SwarmUpdateOrder::kStartFirst);
  EXPECT_EQ(spec->update_config.parallelism, 4);  // 200 % of 4: 4 spare
  EXPECT_EQ(spec->update_config.failure_action, exec::SwarmFailureAction::kRollback);
  EXPECT_EQ(spec->update_config.monitor_ns, int64_t(500 + 1000 * 3) * 1'000'000);
  EXPECT_EQ(spec->rollback_config.failure_action, exec::SwarmFailureAction::kPause);
  EXPECT_EQ(spec->labels.at("kiln.revision"), "7");
  EXPECT_EQ(spec->labels.at("kiln.state"), "abc");
  EXPECT_EQ(spec->secret_env.at("DB_PASSWORD"), "hunter2");
  EXPECT_EQ(spec->stop_grace_period_ns, int64_t(2000) * 1'000'000);
  ASSERT_TRUE(spec->health_check);
  EXPECT_EQ(spec->health_check->interval_ns, int64_t(1000) * 1'000'000);
  EXPECT_EQ(spec->env, (std::vector<std::string>{"MODE=prod", "PORT=312{{.Task.Slot}}"}));
  EXPECT_EQ(spec->args, (std::vector<std::string>{"serve"}));

  ServiceSpec stop_first = Service(50, 100);
  stop_first.circuit_breaker.rollback = false;
  spec = SwarmPlan(
      {.service = &stop_first, .task = &stop_first.task, .desired = 4, .port_prefix = 312});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->update_config.order, exec::SwarmUpdateOrder::kStopFirst);
  EXPECT_EQ(spec->update_config.parallelism, 2);  // 50 % of 4 may be down
  EXPECT_EQ(spec->update_config.failure_action, exec::SwarmFailureAction::kPause);
}

TEST(SwarmPlanTest, RefusesWhatSwarmCannotRun) {
  ServiceSpec s = Service(100, 200);
  s.task.containers.push_back(s.task.containers[0]);
  s.task.containers[1].name = "sidecar";
  auto two = SwarmPlan({.service = &s, .task = &s.task, .desired = 1, .port_prefix = 312});
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.status().kind(), base::ErrorKind::kUnsupported);
  ServiceSpec one = Service(100, 200);
  EXPECT_FALSE(SwarmPlan({.service = &one, .task = &one.task, .port_prefix = 99}).ok());
  EXPECT_FALSE(SwarmPlan({.service = &one, .task = &one.task, .port_prefix = 655}).ok());
  auto many = SwarmPlan({.service = &one, .task = &one.task, .desired = 100, .port_prefix = 312});
  EXPECT_EQ(many.status().kind(), base::ErrorKind::kUnsupported);
}

TEST(SwarmPlanTest, TaskPortsComeFromTheTasksOwnSpec) {
  EXPECT_EQ(SlotPort(312, 1), 3121);
  EXPECT_EQ(SlotPort(312, 12), 31212);
  EXPECT_EQ(SlotPort(654, 99), 65499);
  EXPECT_EQ(TaskPort({"A=1", "PORT=312{{.Task.Slot}}"}, 3), 3123);
  EXPECT_EQ(TaskPort({"PORT=8080"}, 1), 0);                 // not Kiln's
  EXPECT_EQ(TaskPort({"PORT=99{{.Task.Slot}}"}, 1), 0);     // prefix out of range
  EXPECT_EQ(TaskPort({"PORT=x12{{.Task.Slot}}"}, 1), 0);    // not digits
  EXPECT_EQ(TaskPort({"PORT=312{{.Task.Slot}}"}, 0), 0);    // a job task has no slot
  EXPECT_EQ(TaskPort({"PORT=312{{.Task.Slot}}"}, 100), 0);  // beyond 99 slots
  EXPECT_EQ(TaskPort({}, 1), 0);
}

}  // namespace
}  // namespace kiln::deploy
