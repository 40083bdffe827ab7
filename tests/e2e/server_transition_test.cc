// `kiln serve`: stage transitions (CodePipeline: DisableStageTransition /
// EnableStageTransition, AWS-SEMANTICS.md 2.5). A disabled inbound transition holds the next
// execution in front of the stage, where a newer one supersedes it (SUPERSEDED mode); enabling
// it lets the one waiting go in, with no other action. Over HTTP and through the CLI.
#include "server_fixture.h"

namespace kiln::e2e {
namespace {

// backend-flask: Source -> Build (bake), SUPERSEDED (V1).
class ServerTransition : public ServerFixture {
 protected:
  static constexpr char kBase[] = "/api/v1/pipelines/backend-flask/stages/";

  HttpReply Disable(const std::string& stage, const std::string& reason) {
    return Post(kBase + stage + "/disable-transition",
                json{{"transitionType", "Inbound"}, {"reason", reason}}.dump());
  }
  HttpReply Enable(const std::string& stage) {
    return Post(kBase + stage + "/enable-transition", json{{"transitionType", "Inbound"}}.dump());
  }

  std::string Start() {
    auto started = Post("/api/v1/pipelines/backend-flask/executions");
    EXPECT_EQ(started.status, 201) << started.body;
    return started.Json().value("pipelineExecutionId", "");
  }

  json State() { return Get("/api/v1/pipelines/backend-flask/state").Json(); }

  // The execution GetPipelineState shows waiting in front of stage ("" if none).
  std::string Inbound(const std::string& stage) {
    json s = StageState(State(), stage);
    if (!s.is_object() || !s.contains("inboundExecution")) return "";
    return s["inboundExecution"].value("pipelineExecutionId", "");
  }

  // Source succeeded, Build not entered, the execution still InProgress.
  void ExpectHeldInFrontOfBuild(const std::string& id) {
    json e = Execution(id);
    EXPECT_EQ(e.value("status", ""), "InProgress") << e.dump();
    EXPECT_EQ(StageState(e, "Source")["latestExecution"]["status"], "Succeeded") << e.dump();
    EXPECT_TRUE(NotStarted(StageState(e, "Build"))) << e.dump();
    EXPECT_EQ(ActionStatus(e, "Build", "bake"), "<not started>") << e.dump();
  }

  RunResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", Url()});
    return RunKiln(args, tmp_.path());
  }
};

TEST_F(ServerTransition, ADisabledTransitionHoldsTheExecutionUntilItIsEnabled) {
  StartServer();
  auto off = Disable("Build", "release freeze");
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(off.Json()["enabled"], false) << off.body;
  json build = StageState(State(), "Build");
  EXPECT_EQ(build["inboundTransitionState"]["enabled"], false) << build.dump();
  EXPECT_EQ(build["inboundTransitionState"]["disabledReason"], "release freeze");
  EXPECT_TRUE(build["inboundTransitionState"].contains("lastChangedAt")) << build.dump();
  EXPECT_EQ(StageState(State(), "Source")["inboundTransitionState"], json({{"enabled", true}}));

  std::string id = Start();
  ASSERT_TRUE(WaitUntil([&] { return Inbound("Build") == id; })) << State().dump();
  EXPECT_EQ(StageState(State(), "Build")["inboundExecution"]["status"], "InProgress");
  ExpectHeldInFrontOfBuild(id);
  // It stays there: past the engine's periodic look (2 s) nothing moves it.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ExpectHeldInFrontOfBuild(id);
  EXPECT_EQ(Inbound("Build"), id);

  auto on = Cli({"pipeline", "enable-transition", "backend-flask", "Build"});
  ASSERT_EQ(on.exit_code, 0) << on.err;
  EXPECT_TRUE(Contains(on.out, "backend-flask/Build: inbound transition enabled")) << on.out;
  ASSERT_TRUE(WaitForStatus(id, "Succeeded")) << Execution(id).dump();
  json done = Execution(id);
  EXPECT_EQ(ActionStatus(done, "Build", "bake"), "Succeeded") << done.dump();
  EXPECT_EQ(StageState(done, "Build")["latestExecution"]["status"], "Succeeded");
  json after = StageState(State(), "Build");
  EXPECT_EQ(after["inboundTransitionState"]["enabled"], true) << after.dump();
  EXPECT_FALSE(after["inboundTransitionState"].contains("disabledReason")) << after.dump();
  EXPECT_FALSE(after.contains("inboundExecution")) << after.dump();
}

TEST_F(ServerTransition, ANewerExecutionHeldThereSupersedesTheOlderAndRunsWhenEnabled) {
  StartServer();
  auto off = Cli({"pipeline", "disable-transition", "backend-flask", "Build", "--reason", "hold"});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_TRUE(Contains(off.out, "backend-flask/Build: inbound transition disabled (hold)"))
      << off.out;
  std::string older = Start();
  ASSERT_TRUE(WaitUntil([&] { return Inbound("Build") == older; })) << State().dump();
  std::string newer = Start();
  ASSERT_TRUE(WaitForStatus(older, "Superseded")) << Execution(older).dump();
  ASSERT_TRUE(WaitUntil([&] { return Inbound("Build") == newer; })) << State().dump();
  ExpectHeldInFrontOfBuild(newer);
  json gone = Execution(older);
  EXPECT_TRUE(Contains(gone.value("statusSummary", ""), "Build")) << gone.dump();
  EXPECT_TRUE(NotStarted(StageState(gone, "Build"))) << gone.dump();

  auto on = Enable("Build");
  ASSERT_EQ(on.status, 200) << on.body;
  ASSERT_TRUE(WaitForStatus(newer, "Succeeded")) << Execution(newer).dump();
  EXPECT_EQ(ActionStatus(Execution(newer), "Build", "bake"), "Succeeded");
  EXPECT_EQ(Execution(older).value("status", ""), "Superseded");
  EXPECT_TRUE(NotStarted(StageState(Execution(older), "Build")));
}

TEST_F(ServerTransition, BadRequestsAreRefusedNamingWhatIsWrong) {
  StartServer();
  auto no_pipeline = Post("/api/v1/pipelines/nope/stages/Build/disable-transition",
                          json{{"transitionType", "Inbound"}, {"reason", "x"}}.dump());
  EXPECT_EQ(no_pipeline.status, 404) << no_pipeline.body;
  EXPECT_EQ(no_pipeline.Json()["error"]["code"], "pipeline_not_found");
  auto no_stage = Disable("Deploy", "x");
  EXPECT_EQ(no_stage.status, 404) << no_stage.body;
  EXPECT_EQ(no_stage.Json()["error"]["code"], "stage_not_found");
  EXPECT_TRUE(Contains(no_stage.body, "'Deploy'")) << no_stage.body;
  auto no_reason = Post(std::string(kBase) + "Build/disable-transition",
                        json{{"transitionType", "Inbound"}}.dump());
  EXPECT_EQ(no_reason.status, 400) << no_reason.body;
  EXPECT_TRUE(Contains(no_reason.body, "field 'reason': is required")) << no_reason.body;
  auto long_reason = Disable("Build", std::string(301, 'r'));
  EXPECT_EQ(long_reason.status, 400) << long_reason.body;
  EXPECT_TRUE(Contains(long_reason.body, "at most 300 characters")) << long_reason.body;
  auto no_type = Post(std::string(kBase) + "Build/enable-transition", "{}");
  EXPECT_EQ(no_type.status, 400) << no_type.body;
  EXPECT_TRUE(Contains(no_type.body, "field 'transitionType'")) << no_type.body;
  auto last = Post(std::string(kBase) + "Build/disable-transition",
                   json{{"transitionType", "Outbound"}, {"reason", "x"}}.dump());
  EXPECT_EQ(last.status, 400) << last.body;
  EXPECT_TRUE(Contains(last.body, "no Outbound transition")) << last.body;
  auto anonymous =
      Http(port_, "POST", std::string(kBase) + "Build/enable-transition",
           json{{"transitionType", "Inbound"}}.dump(), {{"Content-Type", "application/json"}});
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  // Nothing of that changed the transition.
  EXPECT_EQ(StageState(State(), "Build")["inboundTransitionState"], json({{"enabled", true}}));
  // Source's Outbound transition is Build's Inbound.
  auto outbound = Post(std::string(kBase) + "Source/disable-transition",
                       json{{"transitionType", "Outbound"}, {"reason", "via source"}}.dump());
  ASSERT_EQ(outbound.status, 200) << outbound.body;
  EXPECT_EQ(outbound.Json()["stageName"], "Build");
  EXPECT_EQ(StageState(State(), "Build")["inboundTransitionState"]["disabledReason"], "via source");
}

// The CLI without --server writes the store; the server started later shows it. The CLI
// checks the stage and the reason itself.
TEST_F(ServerTransition, TheLocalCliChangesTheStoredTransition) {
  auto bad_stage =
      Kiln({"pipeline", "disable-transition", "backend-flask", "Ship", "--reason", "x"});
  EXPECT_NE(bad_stage.exit_code, 0);
  EXPECT_TRUE(Contains(bad_stage.err, "has no stage named 'Ship'")) << bad_stage.err;
  auto empty = Kiln({"pipeline", "disable-transition", "backend-flask", "Build", "--reason", ""});
  EXPECT_NE(empty.exit_code, 0);
  EXPECT_TRUE(Contains(empty.err, "--reason: must not be empty")) << empty.err;
  auto off =
      Kiln({"pipeline", "disable-transition", "backend-flask", "Build", "--reason", "local hold"});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  StartServer();
  json build = StageState(State(), "Build");
  EXPECT_EQ(build["inboundTransitionState"]["enabled"], false) << build.dump();
  EXPECT_EQ(build["inboundTransitionState"]["disabledReason"], "local hold");
}

// Without a server: `kiln pipeline run` holds in front of Build; the enable written by another
// process (the CLI) reaches it through the store, and it goes on to Succeeded.
TEST_F(ServerTransition, ALocalRunIsHeldAndAnotherProcessEnablesIt) {
  auto off = Kiln({"pipeline", "disable-transition", "backend-flask", "Build", "--reason", "x"});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  auto run = StartRun("backend-flask");
  std::string id = WaitForExecution("backend-flask", 1);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitUntil([&] {
    return StageState(Status(id), "Source")["latestExecution"]["status"] == "Succeeded";
  })) << run->Err();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  json held = Status(id);
  EXPECT_EQ(held["status"], "InProgress") << held.dump();
  EXPECT_TRUE(NotStarted(StageState(held, "Build"))) << held.dump();
  EXPECT_FALSE(run->Exited());
  auto on = Kiln({"pipeline", "enable-transition", "backend-flask", "Build"});
  ASSERT_EQ(on.exit_code, 0) << on.err;
  EXPECT_EQ(Parse(on)["enabled"], true) << on.out;
  auto ended = run->Wait(60);
  EXPECT_EQ(ended.exit_code, 0) << ended.err;
  json done = Status(id);
  EXPECT_EQ(done["status"], "Succeeded") << done.dump();
  EXPECT_EQ(ActionStatus(done, "Build", "bake"), "Succeeded");
}

}  // namespace
}  // namespace kiln::e2e
