#include "pipeline/state_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "spec/pipeline.h"

namespace kiln::pipeline {
namespace {

using nlohmann::json;

spec::Action Action(const std::string& name, const std::string& category,
                    const std::string& provider, int run_order = 1) {
  return {
      .name = name, .type = {.category = category, .provider = provider}, .run_order = run_order};
}

// Source (source) -> Build (bake, then test at runOrder 2) -> Gate (approve) -> Deploy (ship).
spec::Pipeline Definition() {
  spec::Pipeline p{.name = "web"};
  p.stages = {
      {.name = "Source", .actions = {Action("source", "Source", "Git")}},
      {.name = "Build",
       .actions = {Action("bake", "Build", "CodeBuild"), Action("test", "Test", "CodeBuild", 2)}},
      {.name = "Gate", .actions = {Action("approve", "Approval", "Manual")}},
      {.name = "Deploy", .actions = {Action("ship", "Deploy", "ECS")}}};
  return p;
}

ExecutionRows Rows() {
  ExecutionRows rows;
  rows.execution = {.id = "e1",
                    .pipeline = "web",
                    .pipeline_version = 1,
                    .status = "InProgress",
                    .start_ms = 1000};
  return rows;
}

store::StageRow StageRow(const std::string& stage, int position, const std::string& status) {
  return {.execution_id = "e1",
          .stage = stage,
          .position = position,
          .status = status,
          .start_ms = 1000};
}

store::ActionRow ActionRow(const std::string& stage, const std::string& action,
                           const std::string& status) {
  return {
      .execution_id = "e1", .stage = stage, .action = action, .status = status, .start_ms = 1000};
}

std::vector<std::string> Names(const json& list, const char* key) {
  std::vector<std::string> out;
  for (const auto& item : list) out.push_back(item.value(key, "?"));
  return out;
}

using Strings = std::vector<std::string>;

TEST(StageStatesJson, ANeverRunExecutionListsEveryStageAndActionWithoutLatestExecution) {
  json states = StageStatesJson(Definition(), Rows());
  ASSERT_EQ(Names(states, "stageName"), (Strings{"Source", "Build", "Gate", "Deploy"}));
  for (const auto& s : states) {
    EXPECT_FALSE(s.contains("latestExecution")) << base::JsonText(s);
    ASSERT_FALSE(s["actionStates"].empty());
    for (const auto& a : s["actionStates"]) {
      EXPECT_FALSE(a.contains("latestExecution")) << base::JsonText(a);
      EXPECT_FALSE(a.contains("currentRevision")) << base::JsonText(a);
    }
  }
  EXPECT_EQ(Names(states[1]["actionStates"], "actionName"), (Strings{"bake", "test"}));
}

TEST(StageStatesJson, ARunningExecutionShowsTheStagesNotReachedAsNotStarted) {
  ExecutionRows rows = Rows();
  rows.stages = {StageRow("Source", 0, "Succeeded"), StageRow("Build", 1, "InProgress")};
  rows.actions = {ActionRow("Source", "source", "Succeeded"),
                  ActionRow("Build", "bake", "InProgress")};
  json states = StageStatesJson(Definition(), rows);
  ASSERT_EQ(states.size(), 4u);
  EXPECT_EQ(states[0]["latestExecution"],
            (json{{"pipelineExecutionId", "e1"}, {"status", "Succeeded"}, {"attempt", 1}}));
  EXPECT_EQ(states[1]["latestExecution"]["status"], "InProgress");
  EXPECT_FALSE(states[2].contains("latestExecution"));
  EXPECT_FALSE(states[3].contains("latestExecution"));
  const json& build = states[1]["actionStates"];
  EXPECT_EQ(build[0]["latestExecution"]["status"], "InProgress");
  EXPECT_EQ(build[0]["runOrder"], 1);
  EXPECT_FALSE(build[1].contains("latestExecution")) << "test (runOrder 2) has not started";
  EXPECT_EQ(build[1]["runOrder"], 2);
  EXPECT_EQ(states[3]["actionStates"][0]["actionName"], "ship");
}

// The rows come in the order they were written (runOrder 2 may be written before a retried
// runOrder 1); the answer keeps the definition's order and runOrder.
TEST(StageStatesJson, ActionsFollowTheDefinitionNotTheRows) {
  ExecutionRows rows = Rows();
  rows.stages = {StageRow("Build", 1, "Failed"), StageRow("Source", 0, "Succeeded")};
  store::ActionRow test = ActionRow("Build", "test", "Failed");
  test.run_order = 7;  // a row that disagrees with the definition
  rows.actions = {test, ActionRow("Build", "bake", "Succeeded"),
                  ActionRow("Source", "source", "Succeeded")};
  json states = StageStatesJson(Definition(), rows);
  EXPECT_EQ(Names(states, "stageName"), (Strings{"Source", "Build", "Gate", "Deploy"}));
  EXPECT_EQ(Names(states[1]["actionStates"], "actionName"), (Strings{"bake", "test"}));
  EXPECT_EQ(states[1]["actionStates"][1]["runOrder"], 2);
  EXPECT_EQ(states[1]["actionStates"][1]["latestExecution"]["status"], "Failed");
}

TEST(StageStatesJson, TheTokenShowsOnlyOnAWaitingManualApproval) {
  ExecutionRows rows = Rows();
  rows.stages = {StageRow("Gate", 2, "InProgress"), StageRow("Build", 1, "Succeeded")};
  store::ActionRow waiting = ActionRow("Gate", "approve", "InProgress");
  waiting.token = "0f6e7d3c-1111-4222-8333-444455556666";
  store::ActionRow bake = ActionRow("Build", "bake", "InProgress");
  bake.token = "not-an-approval";  // a row that holds anything: not Manual, no token
  rows.actions = {bake, waiting};
  auto latest = [&] { return StageStatesJson(Definition(), rows)[2]["actionStates"][0]; };
  EXPECT_EQ(latest()["latestExecution"]["token"], waiting.token);
  EXPECT_FALSE(
      StageStatesJson(Definition(), rows)[1]["actionStates"][0]["latestExecution"].contains(
          "token"));
  rows.actions[1].approval = "Approved";  // decided: the engine has not ended it yet
  EXPECT_FALSE(latest()["latestExecution"].contains("token")) << base::JsonText(latest());
  rows.actions[1].approval = "";
  rows.actions[1].status = "Failed";  // timed out
  EXPECT_FALSE(latest()["latestExecution"].contains("token")) << base::JsonText(latest());
}

TEST(StageStatesJson, ASourceActionShowsItsRevisionWhenKnown) {
  ExecutionRows rows = Rows();
  EXPECT_FALSE(
      StageStatesJson(Definition(), rows)[0]["actionStates"][0].contains("currentRevision"));
  rows.execution.source_revisions_json =
      R"([7, {"actionName": "source", "revisionId": 9}, {"actionName": "bake",
          "revisionId": "b"}, {"actionName": "source", "revisionId": "abc123"}])";
  json states = StageStatesJson(Definition(), rows);
  EXPECT_EQ(states[0]["actionStates"][0]["currentRevision"], (json{{"revisionId", "abc123"}}));
  EXPECT_FALSE(states[1]["actionStates"][0].contains("currentRevision")) << "not a Source";
}

// No definition (it is gone) or rows it does not declare: what ran is still shown, after the
// declared stages, in the rows' order; bad stored JSON gives empty values, never a throw.
TEST(StageStatesJson, RowsTheDefinitionDoesNotDeclareFollowInTheirOrder) {
  ExecutionRows rows = Rows();
  rows.execution.source_revisions_json = "{not json";
  rows.stages = {StageRow("Source", 0, "Succeeded"), StageRow("Old", 1, "Failed")};
  store::ActionRow old = ActionRow("Old", "gone", "Failed");
  old.output_variables_json = "[1, 2";
  old.end_ms = old.start_ms - 1;  // ended before it started
  store::ActionRow extra = ActionRow("Source", "extra", "Succeeded");
  extra.output_variables_json = R"({"K": "v"})";
  rows.actions = {ActionRow("Orphan", "o", "Succeeded"), old, extra};
  json states = StageStatesJson(Definition(), rows);
  EXPECT_EQ(Names(states, "stageName"),
            (Strings{"Source", "Build", "Gate", "Deploy", "Old", "Orphan"}));
  EXPECT_EQ(Names(states[0]["actionStates"], "actionName"), (Strings{"source", "extra"}));
  EXPECT_EQ(states[0]["actionStates"][1]["outputVariables"], (json{{"K", "v"}}));
  EXPECT_EQ(states[4]["actionStates"][0]["outputVariables"], json::object());
  EXPECT_EQ(states[4]["actionStates"][0]["latestExecution"]["durationMillis"], 0);
  EXPECT_FALSE(states[5].contains("latestExecution")) << "no stage row for Orphan";
  json bare = StageStatesJson(spec::Pipeline{}, rows);
  EXPECT_EQ(Names(bare, "stageName"), (Strings{"Source", "Old", "Orphan"}));
}

TEST(AddInboundStates, ShowsEachStagesTransitionAndTheNewestExecutionWaitingThere) {
  json states = StageStatesJson(Definition(), Rows());
  std::vector<store::TransitionRow> transitions = {
      {.pipeline = "web",
       .stage = "Build",
       .disabled = true,
       .reason = "freeze",
       .changed_ms = 1'700'000'000'000},
      {.pipeline = "web", .stage = "Deploy", .disabled = false, .changed_ms = 1'700'000'000'000}};
  std::vector<store::ExecutionRow> active = {
      {.id = "older", .seq = 1, .status = "InProgress", .waiting_stage = "Build"},
      {.id = "newer", .seq = 2, .status = "InProgress", .waiting_stage = "Build"},
      {.id = "running", .seq = 3, .status = "InProgress"}};
  AddInboundStates(transitions, active, &states);
  EXPECT_EQ(states[0]["inboundTransitionState"], json({{"enabled", true}}));
  EXPECT_FALSE(states[0].contains("inboundExecution"));
  EXPECT_EQ(states[1]["inboundTransitionState"],
            json({{"enabled", false},
                  {"lastChangedAt", "2023-11-14T22:13:20.000Z"},
                  {"disabledReason", "freeze"}}))
      << states[1].dump();
  EXPECT_EQ(states[1]["inboundExecution"],
            json({{"pipelineExecutionId", "newer"}, {"status", "InProgress"}}));
  EXPECT_EQ(states[3]["inboundTransitionState"],
            json({{"enabled", true}, {"lastChangedAt", "2023-11-14T22:13:20.000Z"}}));
  EXPECT_FALSE(states[3].contains("inboundExecution"));
  json not_a_list = json::object();
  AddInboundStates(transitions, active, &not_a_list);  // nothing to add to, no throw
  EXPECT_EQ(not_a_list, json::object());
}

}  // namespace
}  // namespace kiln::pipeline
