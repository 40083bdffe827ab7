// `kiln serve`: GetPipelineState lists every stage and action, reached or not; a waiting
// Manual approval shows its token, and PutApprovalResult refuses a token that is not it
// (CodePipeline: InvalidApprovalTokenException), over HTTP and through the CLI.
#include "server_fixture.h"

namespace kiln::e2e {
namespace {

// Source -> Approve (Manual) -> Build (bake): while the approval waits, Build has not started.
class ServerApproval : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    Pipeline("gated", {SourceStage(), ApprovalStage(),
                       Stage("Build", {BuildAction("bake", "backend-flask", {})})});
  }

  // Starts gated and waits until its approval waits; returns the execution id.
  std::string StartWaiting() {
    auto started = Post("/api/v1/pipelines/gated/executions");
    EXPECT_EQ(started.status, 201) << started.body;
    std::string id = started.Json().value("pipelineExecutionId", "");
    EXPECT_TRUE(WaitUntil([&] {
      return ActionStatus(Execution(id), "Approve", "Approval") == "InProgress";
    })) << server_->Err();
    return id;
  }

  std::string TokenOf(const json& state) {
    return ActionState(state, "Approve", "Approval")["latestExecution"].value("token", "");
  }

  RunResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", Url()});
    return RunKiln(args, tmp_.path());
  }
};

std::vector<std::string> StageNames(const json& state) {
  std::vector<std::string> out;
  for (const auto& s : state.value("stageStates", json::array())) out.push_back(s["stageName"]);
  return out;
}

TEST_F(ServerApproval, ANeverRunPipelinesStateListsItsStagesAndActions) {
  StartServer();
  json state = Get("/api/v1/pipelines/gated/state").Json();
  EXPECT_EQ(StageNames(state), (std::vector<std::string>{"Source", "Approve", "Build"}));
  EXPECT_FALSE(state.contains("latestExecution")) << state.dump();
  EXPECT_EQ(ActionStatus(state, "Build", "bake"), "<not started>") << state.dump();
  EXPECT_EQ(ActionState(state, "Build", "bake")["runOrder"], 1);
  EXPECT_TRUE(NotStarted(StageState(state, "Source"))) << state.dump();
}

TEST_F(ServerApproval, AWaitingApprovalShowsItsTokenAndTheStagesNotReached) {
  StartServer();
  std::string id = StartWaiting();
  json e = Execution(id);
  EXPECT_EQ(StageNames(e), (std::vector<std::string>{"Source", "Approve", "Build"}));
  EXPECT_TRUE(NotStarted(StageState(e, "Build"))) << e.dump();
  EXPECT_EQ(ActionStatus(e, "Build", "bake"), "<not started>");
  std::string token = TokenOf(e);
  EXPECT_EQ(token.size(), 36u) << e.dump();  // a UUID
  EXPECT_FALSE(ActionState(e, "Source", "Source")["latestExecution"].contains("token"));
  EXPECT_EQ(ActionState(e, "Source", "Source")["currentRevision"]["revisionId"], RevParse("prod"));
  json state = Get("/api/v1/pipelines/gated/state").Json();
  EXPECT_EQ(TokenOf(state), token) << state.dump();
  EXPECT_TRUE(NotStarted(StageState(state, "Build"))) << state.dump();
  // The human table says what has not started, and the token to approve with.
  auto table = Cli({"pipeline", "status", id});
  EXPECT_TRUE(Contains(table.out, "not started")) << table.out;
  EXPECT_TRUE(Contains(table.out, token)) << table.out;
}

TEST_F(ServerApproval, AWrongTokenIsRefusedAndTheRightOneDecides) {
  StartServer();
  std::string id = StartWaiting();
  std::string token = TokenOf(Execution(id));
  auto wrong = Post("/api/v1/executions/" + id + "/approve",
                    json{{"stageName", "Approve"},
                         {"actionName", "Approval"},
                         {"token", "00000000-0000-4000-8000-000000000000"}}
                        .dump());
  EXPECT_EQ(wrong.status, 400) << wrong.body;
  EXPECT_EQ(wrong.Json()["error"]["code"], "invalid_approval_token") << wrong.body;
  EXPECT_TRUE(Contains(wrong.body, "00000000-0000-4000-8000-000000000000")) << wrong.body;
  EXPECT_EQ(TokenOf(Execution(id)), token) << "still waiting";
  auto cli_wrong = Cli({"pipeline", "reject", id, "--stage", "Approve", "--action", "Approval",
                        "--approval-token", "stale"});
  EXPECT_EQ(cli_wrong.exit_code, 1);
  EXPECT_TRUE(Contains(cli_wrong.err, "approval token 'stale'")) << cli_wrong.err;
  EXPECT_EQ(ActionStatus(Execution(id), "Approve", "Approval"), "InProgress");
  auto right = Cli({"pipeline", "approve", id, "--stage", "Approve", "--action", "Approval",
                    "--approval-token", token, "--summary", "ship it"});
  EXPECT_EQ(right.exit_code, 0) << right.err;
  ASSERT_TRUE(WaitForStatus(id, "Succeeded")) << Execution(id).dump();
  json done = Execution(id);
  EXPECT_TRUE(Contains(ActionSummary(done, "Approve", "Approval"), "ship it")) << done.dump();
  EXPECT_FALSE(ActionState(done, "Approve", "Approval")["latestExecution"].contains("token"));
  EXPECT_EQ(ActionStatus(done, "Build", "bake"), "Succeeded");
}

}  // namespace
}  // namespace kiln::e2e
