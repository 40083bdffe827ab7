#include "pipeline/execution_plan.h"

#include <gtest/gtest.h>

namespace kiln::pipeline {
namespace {

spec::Action Act(std::string name, int run_order, std::string provider = "CodeBuild") {
  spec::Action a{.name = std::move(name), .run_order = run_order};
  a.type = {.category = provider == "Manual" ? "Approval" : "Build", .provider = provider};
  return a;
}

// Source | Build: a(1) b(1) c(2) | Deploy: d(1)
spec::Pipeline ThreeStages(spec::ExecutionMode mode = spec::ExecutionMode::kSuperseded) {
  spec::Pipeline p{.name = "web", .execution_mode = mode};
  spec::Action src = Act("src", 1, "Git");
  src.type.category = "Source";
  p.stages.push_back({.name = "Source", .actions = {src}});
  p.stages.push_back({.name = "Build", .actions = {Act("a", 1), Act("b", 1), Act("c", 2)}});
  p.stages.push_back({.name = "Deploy", .actions = {Act("d", 1)}});
  return p;
}

// Applies every step the plan gives until it waits (or the execution ends); returns the
// steps applied, in order.
std::vector<Step> Drive(const ExecutionPlan& plan, ExecutionProgress* p, Gate gate = {},
                        int64_t now = 0, Plan* last = nullptr) {
  std::vector<Step> applied;
  for (int guard = 0; guard < 100; ++guard) {
    Plan next = plan.Next(*p, gate, now);
    if (last) *last = next;
    if (next.steps.empty()) return applied;
    for (const Step& s : next.steps) {
      plan.Apply(s, now, p);
      applied.push_back(s);
    }
  }
  ADD_FAILURE() << "the plan never settled";
  return applied;
}

std::vector<std::pair<StepKind, size_t>> Kinds(const std::vector<Step>& steps) {
  std::vector<std::pair<StepKind, size_t>> out;
  for (const auto& s : steps) {
    out.emplace_back(s.kind, s.kind == StepKind::kStartAction || s.kind == StepKind::kAbandonAction
                                 ? s.action
                                 : s.stage);
  }
  return out;
}

void Succeed(const ExecutionPlan& plan, ExecutionProgress* p, size_t stage, size_t action) {
  plan.ActionEnded(stage, action, ActionStatus::kSucceeded, "ok", p);
}

// Source has succeeded and the Build stage runs its first runOrder (a and b).
ExecutionProgress IntoBuild(const ExecutionPlan& plan) {
  ExecutionProgress p = plan.Fresh();
  Drive(plan, &p);
  Succeed(plan, &p, 0, 0);
  Drive(plan, &p);
  return p;
}

TEST(ExecutionPlanTest, FreshProgressHasEveryStageAndActionNotStarted) {
  ExecutionPlan plan(ThreeStages(), 1000);
  ExecutionProgress p = plan.Fresh();
  ASSERT_EQ(p.stages.size(), 3u);
  EXPECT_EQ(p.stages[1].actions.size(), 3u);
  EXPECT_EQ(p.stages[2].actions[0].status, ActionStatus::kNotStarted);
  EXPECT_EQ(plan.StageToEnter(p), 0u);
}

TEST(ExecutionPlanTest, StagesRunInOrderAndEqualRunOrdersTogether) {
  ExecutionPlan plan(ThreeStages(), 1000);
  ExecutionProgress p = plan.Fresh();
  auto steps = Drive(plan, &p);
  using K = StepKind;
  EXPECT_EQ(Kinds(steps),
            (std::vector<std::pair<K, size_t>>{{K::kEnterStage, 0}, {K::kStartAction, 0}}));
  Succeed(plan, &p, 0, 0);
  steps = Drive(plan, &p);
  // Source ends, Build is entered, a and b (runOrder 1) start together, c (runOrder 2) not.
  EXPECT_EQ(
      Kinds(steps),
      (std::vector<std::pair<K, size_t>>{
          {K::kEndStage, 0}, {K::kEnterStage, 1}, {K::kStartAction, 0}, {K::kStartAction, 1}}));
  EXPECT_EQ(p.stages[1].attempt, 1);
  Succeed(plan, &p, 1, 0);
  Plan last;
  EXPECT_TRUE(Drive(plan, &p, {}, 0, &last).empty()) << "c must wait for b";
  EXPECT_EQ(last.waiting, Waiting::kActions);
  Succeed(plan, &p, 1, 1);
  EXPECT_EQ(Kinds(Drive(plan, &p)), (std::vector<std::pair<K, size_t>>{{K::kStartAction, 2}}));
  Succeed(plan, &p, 1, 2);
  Drive(plan, &p);
  Succeed(plan, &p, 2, 0);
  steps = Drive(plan, &p);
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps.back().kind, K::kEndExecution);
  EXPECT_EQ(p.status, ExecutionStatus::kSucceeded);
  EXPECT_TRUE(plan.Next(p, {}, 0).steps.empty()) << "an ended execution does nothing more";
}

TEST(ExecutionPlanTest, AFailedActionLetsItsRunOrderFinishThenFailsTheExecution) {
  ExecutionPlan plan(ThreeStages(), 1000);
  ExecutionProgress p = IntoBuild(plan);
  plan.ActionEnded(1, 0, ActionStatus::kFailed, "Build x FAILED", &p);
  Plan last;
  EXPECT_TRUE(Drive(plan, &p, {}, 0, &last).empty()) << "b still runs: the stage waits for it";
  EXPECT_EQ(last.waiting, Waiting::kActions);
  Succeed(plan, &p, 1, 1);
  auto steps = Drive(plan, &p);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].kind, StepKind::kEndStage);
  EXPECT_EQ(steps[0].stage_status, StageStatus::kFailed);
  EXPECT_EQ(p.status, ExecutionStatus::kFailed);
  EXPECT_EQ(p.summary, "Action a failed: Build x FAILED");
  EXPECT_EQ(p.stages[1].actions[2].status, ActionStatus::kNotStarted) << "c never started";
  EXPECT_EQ(p.stages[2].status, StageStatus::kNotStarted);
}

TEST(ExecutionPlanTest, OnFailureRetryRunsTheFailedActionsOnceMore) {
  spec::Pipeline def = ThreeStages();
  def.stages[1].on_failure_result = "RETRY";
  ExecutionPlan plan(def, 1000);
  ExecutionProgress p = IntoBuild(plan);
  Succeed(plan, &p, 1, 0);
  plan.ActionEnded(1, 1, ActionStatus::kFailed, "flaky", &p);
  auto steps = Drive(plan, &p);
  using K = StepKind;
  // The retry (FAILED_ACTIONS by default) starts b again, and only b.
  EXPECT_EQ(Kinds(steps),
            (std::vector<std::pair<K, size_t>>{{K::kRetryStage, 1}, {K::kStartAction, 1}}));
  EXPECT_EQ(p.stages[1].attempt, 2);
  EXPECT_EQ(p.stages[1].actions[0].status, ActionStatus::kSucceeded);
  EXPECT_EQ(p.stages[1].actions[1].attempt, 2);
  plan.ActionEnded(1, 1, ActionStatus::kFailed, "flaky again", &p);
  Drive(plan, &p);
  EXPECT_EQ(p.status, ExecutionStatus::kFailed) << "the automatic retry happens once";
  EXPECT_EQ(p.summary, "Action b failed: flaky again");
}

TEST(ExecutionPlanTest, OnFailureRetryWithAllActionsRunsTheWholeStageAgain) {
  spec::Pipeline def = ThreeStages();
  def.stages[1].on_failure_result = "RETRY";
  def.stages[1].retry_mode = "ALL_ACTIONS";
  ExecutionPlan plan(def, 1000);
  ExecutionProgress p = IntoBuild(plan);
  Succeed(plan, &p, 1, 0);
  plan.ActionEnded(1, 1, ActionStatus::kFailed, "flaky", &p);
  auto steps = Drive(plan, &p);
  using K = StepKind;
  EXPECT_EQ(Kinds(steps), (std::vector<std::pair<K, size_t>>{
                              {K::kRetryStage, 1}, {K::kStartAction, 0}, {K::kStartAction, 1}}));
}

TEST(ExecutionPlanTest, StopAndWaitLetsRunningActionsFinishAndStartsNothingMore) {
  ExecutionPlan plan(ThreeStages(), 1000);
  ExecutionProgress p = IntoBuild(plan);
  plan.Stop(StopRequest::kWait, &p);
  Plan last;
  EXPECT_TRUE(Drive(plan, &p, {}, 0, &last).empty()) << "a stop-and-wait abandons nothing";
  Succeed(plan, &p, 1, 0);
  Succeed(plan, &p, 1, 1);
  auto steps = Drive(plan, &p);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].stage_status, StageStatus::kStopped);
  EXPECT_EQ(p.status, ExecutionStatus::kStopped);
  EXPECT_EQ(p.summary, "Stopped by request");
  EXPECT_EQ(p.stages[1].actions[2].status, ActionStatus::kNotStarted);
}

TEST(ExecutionPlanTest, StopAndAbandonCancelsEachRunningActionOnce) {
  ExecutionPlan plan(ThreeStages(), 1000);
  ExecutionProgress p = IntoBuild(plan);
  plan.Stop(StopRequest::kWait, &p);
  plan.Stop(StopRequest::kAbandon, &p);  // a stopping execution can still be abandoned
  plan.Stop(StopRequest::kWait, &p);     // and a wait does not undo the abandon
  auto steps = Drive(plan, &p);
  using K = StepKind;
  EXPECT_EQ(Kinds(steps),
            (std::vector<std::pair<K, size_t>>{{K::kAbandonAction, 0}, {K::kAbandonAction, 1}}));
  EXPECT_TRUE(Drive(plan, &p).empty()) << "each cancel is sent once";
  plan.ActionEnded(1, 0, ActionStatus::kAbandoned, "Stopped", &p);
  plan.ActionEnded(1, 1, ActionStatus::kAbandoned, "Stopped", &p);
  steps = Drive(plan, &p);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].stage_status, StageStatus::kStopped);
  EXPECT_EQ(p.status, ExecutionStatus::kStopped);
}

TEST(ExecutionPlanTest, QueuedModeWaitsForItsTurn) {
  ExecutionPlan plan(ThreeStages(spec::ExecutionMode::kQueued), 1000);
  ExecutionProgress p = plan.Fresh();
  Plan last;
  EXPECT_TRUE(Drive(plan, &p, {.turn = false}, 0, &last).empty());
  EXPECT_EQ(last.waiting, Waiting::kTurn);
  EXPECT_FALSE(Drive(plan, &p, {.turn = true}).empty());
}

TEST(ExecutionPlanTest, SupersededModeWaitsForTheStageAndIsSupersededBetweenStages) {
  ExecutionPlan plan(ThreeStages(), 1000);
  ExecutionProgress p = plan.Fresh();
  Drive(plan, &p);
  Succeed(plan, &p, 0, 0);
  Plan last;
  auto steps = Drive(plan, &p, {.stage_free = false}, 0, &last);
  ASSERT_EQ(steps.size(), 1u) << "the source stage ends; Build is held by another execution";
  EXPECT_EQ(last.waiting, Waiting::kStage);
  EXPECT_EQ(plan.StageToEnter(p), 1u);
  Drive(plan, &p, {.stage_free = false, .newer_waiting = true});
  EXPECT_EQ(p.status, ExecutionStatus::kSuperseded);
  EXPECT_EQ(p.summary, "Superseded by a newer execution waiting for stage Build");
}

TEST(ExecutionPlanTest, ParallelModeIgnoresStageLocksAndNewerExecutions) {
  ExecutionPlan plan(ThreeStages(spec::ExecutionMode::kParallel), 1000);
  ExecutionProgress p = plan.Fresh();
  auto steps = Drive(plan, &p, {.turn = false, .stage_free = false, .newer_waiting = true});
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps[0].kind, StepKind::kEnterStage);
}

TEST(ExecutionPlanTest, ADisabledTransitionHoldsTheExecutionWhichCanStillBeSuperseded) {
  ExecutionPlan plan(ThreeStages(), 1000);
  ExecutionProgress p = plan.Fresh();
  Plan last;
  EXPECT_TRUE(Drive(plan, &p, {.transition_enabled = false}, 0, &last).empty());
  EXPECT_EQ(last.waiting, Waiting::kTransition);
  Drive(plan, &p, {.newer_waiting = true, .transition_enabled = false});
  EXPECT_EQ(p.status, ExecutionStatus::kSuperseded);
}

TEST(ExecutionPlanTest, AStopWhileWaitingInFrontOfAStageEndsItStopped) {
  ExecutionPlan plan(ThreeStages(spec::ExecutionMode::kQueued), 1000);
  ExecutionProgress p = plan.Fresh();
  Drive(plan, &p, {.turn = false});
  plan.Stop(StopRequest::kWait, &p);
  Drive(plan, &p, {.turn = false});
  EXPECT_EQ(p.status, ExecutionStatus::kStopped);
  EXPECT_EQ(p.stages[0].status, StageStatus::kNotStarted) << "nothing of it ran";
}

TEST(ExecutionPlanTest, AnApprovalTimesOutAtItsDeadlineOnTheGivenClock) {
  spec::Pipeline def = ThreeStages();
  def.stages[2].actions = {Act("approve", 1, "Manual")};
  ExecutionPlan plan(def, 500);
  ExecutionProgress p = plan.Fresh();
  Drive(plan, &p, {}, 0);
  Succeed(plan, &p, 0, 0);
  Drive(plan, &p, {}, 0);
  for (size_t i = 0; i < 2; ++i) Succeed(plan, &p, 1, i);
  Drive(plan, &p, {}, 0);  // c starts
  Succeed(plan, &p, 1, 2);
  Drive(plan, &p, {}, 1000);
  EXPECT_EQ(p.stages[2].actions[0].status, ActionStatus::kInProgress);
  EXPECT_EQ(p.stages[2].actions[0].started_ms, 1000);
  Plan last;
  EXPECT_TRUE(Drive(plan, &p, {}, 1499, &last).empty());
  EXPECT_EQ(last.wake_ms, 1500) << "the engine is told when to ask again";
  Drive(plan, &p, {}, 1500);
  EXPECT_EQ(p.status, ExecutionStatus::kFailed);
  EXPECT_EQ(p.summary, "Action approve failed: Approval timed out");
}

TEST(ExecutionPlanTest, RetryOfAFailedStageRunsWhatDidNotSucceedThenTheStagesAfterIt) {
  ExecutionPlan plan(ThreeStages(), 1000);
  ExecutionProgress p = IntoBuild(plan);
  Succeed(plan, &p, 1, 0);
  plan.ActionEnded(1, 1, ActionStatus::kFailed, "no", &p);
  Drive(plan, &p);
  ASSERT_EQ(p.status, ExecutionStatus::kFailed);
  EXPECT_FALSE(plan.Retry(0, RetryMode::kFailedActions, &p).ok()) << "Source succeeded";
  ASSERT_TRUE(plan.Retry(1, RetryMode::kFailedActions, &p).ok());
  EXPECT_EQ(p.status, ExecutionStatus::kInProgress);
  EXPECT_EQ(plan.StageToEnter(p), 1u);
  auto steps = Drive(plan, &p);
  using K = StepKind;
  EXPECT_EQ(Kinds(steps),
            (std::vector<std::pair<K, size_t>>{{K::kEnterStage, 1}, {K::kStartAction, 1}}));
  EXPECT_EQ(p.stages[1].attempt, 2);
  EXPECT_FALSE(plan.Retry(1, RetryMode::kAllActions, &p).ok()) << "it runs: no retry now";
}

TEST(ExecutionPlanTest, RetryWithAllActionsAndOfAStoppedStage) {
  ExecutionPlan plan(ThreeStages(), 1000);
  ExecutionProgress p = IntoBuild(plan);
  plan.Stop(StopRequest::kAbandon, &p);
  Drive(plan, &p);
  plan.ActionEnded(1, 0, ActionStatus::kAbandoned, "", &p);
  Succeed(plan, &p, 1, 1);
  Drive(plan, &p);
  ASSERT_EQ(p.status, ExecutionStatus::kStopped);
  ASSERT_TRUE(plan.Retry(1, RetryMode::kAllActions, &p).ok());
  EXPECT_EQ(p.stop, StopRequest::kNone);
  auto steps = Drive(plan, &p);
  using K = StepKind;
  EXPECT_EQ(Kinds(steps), (std::vector<std::pair<K, size_t>>{
                              {K::kEnterStage, 1}, {K::kStartAction, 0}, {K::kStartAction, 1}}));
}

TEST(ExecutionPlanTest, ASucceededExecutionCannotBeRetriedAndLateReportsChangeNothing) {
  spec::Pipeline def = ThreeStages();
  def.stages.pop_back();
  ExecutionPlan plan(def, 1000);
  ExecutionProgress p = IntoBuild(plan);
  for (size_t i = 0; i < 2; ++i) Succeed(plan, &p, 1, i);
  Drive(plan, &p);
  Succeed(plan, &p, 1, 2);
  Drive(plan, &p);
  ASSERT_EQ(p.status, ExecutionStatus::kSucceeded);
  base::Status st = plan.Retry(1, RetryMode::kFailedActions, &p);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("only Failed or Stopped"), std::string::npos) << st.message();
  plan.ActionEnded(1, 2, ActionStatus::kFailed, "late", &p);
  plan.ActionEnded(7, 9, ActionStatus::kFailed, "out of range", &p);
  EXPECT_EQ(p.stages[1].actions[2].status, ActionStatus::kSucceeded);
}

TEST(StageStatusTest, NamesRoundTripAndUnknownNamesAreRefused) {
  for (auto s : {StageStatus::kInProgress, StageStatus::kFailed, StageStatus::kSkipped}) {
    EXPECT_EQ(ParseStageStatus(StageStatusName(s)), s);
  }
  EXPECT_EQ(ParseActionStatus("Abandoned"), ActionStatus::kAbandoned);
  EXPECT_EQ(ParseActionStatus(""), ActionStatus::kNotStarted);
  EXPECT_FALSE(ParseActionStatus("Queued"));
  EXPECT_EQ(ParseRetryMode("ALL_ACTIONS"), RetryMode::kAllActions);
  EXPECT_FALSE(ParseRetryMode("all_actions"));
}

}  // namespace
}  // namespace kiln::pipeline
