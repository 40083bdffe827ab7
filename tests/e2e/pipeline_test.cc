// `kiln pipeline` end to end: source and build, retry, runOrder, manual approvals, hostile
// input, CloudFormation import and invalid definitions. See pipeline_fixture.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "pipeline_fixture.h"

namespace kiln::e2e {
namespace {

class PipelineTest : public PipelineFixture {};

// Source (CodeStarSourceConnection on branch prod) -> Build (bake) -> Check (reads the
// ImageDefinition artifact and #{BuildVariables.*}).
TEST_F(PipelineTest, SourceArtifactAndCommitIdFlowIntoTheBuild) {
  Commit({{"buildspec.yml", R"Y(version: 0.2
env:
  exported-variables: [COMMIT_SEEN]
phases:
  build:
    commands:
      - test -f README
      - export COMMIT_SEEN="$COMMIT"
      - mkdir -p out
      - printf '[{"name":"backend-flask","imageUri":"cruddur:%s"}]' "$COMMIT" > out/imagedefinitions.json
artifacts:
  files: [imagedefinitions.json]
  base-directory: out
)Y"},
          {"check.yml", R"Y(version: 0.2
phases:
  build:
    commands:
      - grep -q "cruddur:$SEEN" "$CODEBUILD_SRC_DIR_ImageDefinition/imagedefinitions.json"
)Y"}},
         "add the buildspecs");
  std::string prod = RevParse("prod");
  Git({"checkout", "-q", "main"});
  Commit({{"README", "main moved on\n"}}, "not on prod");  // the branch, not HEAD, is built
  Project("backend-flask", "buildspec.yml");
  Project("check", "check.yml");
  json bake = BuildAction("bake", "backend-flask", {{"COMMIT", "#{SourceVariables.CommitId}"}});
  bake["outputArtifacts"] = {{{"name", "ImageDefinition"}}};
  bake["namespace"] = "BuildVariables";
  json check = BuildAction("check", "check", {{"SEEN", "#{BuildVariables.COMMIT_SEEN}"}});
  check["inputArtifacts"] = {{{"name", "SourceArtifact"}}, {{"name", "ImageDefinition"}}};
  check["configuration"]["PrimarySource"] = "SourceArtifact";
  Pipeline("backend-flask", {SourceStage(), Stage("Build", {bake}), Stage("Check", {check})});

  auto r = Kiln({"pipeline", "run", "backend-flask"});
  json e = Parse(r);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(e["status"], "Succeeded");
  EXPECT_EQ(OutputVariable(e, "Source", "Source", "CommitId"), prod);
  EXPECT_EQ(OutputVariable(e, "Source", "Source", "BranchName"), "prod");
  EXPECT_EQ(OutputVariable(e, "Source", "Source", "CommitMessage"), "add the buildspecs");
  EXPECT_EQ(OutputVariable(e, "Build", "bake", "COMMIT_SEEN"), prod);
  EXPECT_EQ(ActionStatus(e, "Check", "check"), "Succeeded");
  ASSERT_EQ(e["artifactRevisions"].size(), 1u);
  EXPECT_EQ(e["artifactRevisions"][0]["revisionId"], prod);
  EXPECT_EQ(e["artifactRevisions"][0]["revisionSummary"], "add the buildspecs");
  std::map<std::string, std::string> artifacts;
  for (const auto& a : e["artifacts"]) artifacts[a["name"]] = a["sha256"];
  EXPECT_EQ(artifacts["ImageDefinition"].size(), 64u) << e["artifacts"].dump();
  EXPECT_EQ(artifacts["SourceArtifact"].size(), 64u);
  auto history = History("backend-flask");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["pipelineExecutionId"], e["pipelineExecutionId"]);
  EXPECT_EQ(history[0]["status"], "Succeeded");
}

// The build depends on a project variable in kiln.yml, outside the source artifact: the retry
// runs the same commit in the same execution after the variable is fixed.
TEST_F(PipelineTest, FailedBuildFailsTheExecutionAndRetrySucceedsInTheSameExecution) {
  Commit({{"buildspec.yml", R"Y(version: 0.2
phases:
  build:
    commands:
      - echo "building $CODEBUILD_RESOLVED_SOURCE_VERSION"
      - test "$SHOULD_FAIL" != 1
)Y"}},
         "flaky build");
  std::string built = RevParse("prod");
  Project("flaky", "buildspec.yml", {{"SHOULD_FAIL", "1"}});
  Pipeline("flaky", {SourceStage(), Stage("Build", {BuildAction("bake", "flaky", {})})});

  auto r = Kiln({"pipeline", "run", "flaky"});
  json e = Parse(r);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(e["status"], "Failed");
  EXPECT_TRUE(Contains(e["statusSummary"], "bake")) << e["statusSummary"];
  EXPECT_EQ(StageState(e, "Build")["latestExecution"]["status"], "Failed");
  EXPECT_EQ(ActionStatus(e, "Build", "bake"), "Failed");
  EXPECT_TRUE(Contains(ActionSummary(e, "Build", "bake"), "FAILED"));
  std::string id = e["pipelineExecutionId"];

  Commit({{"later.txt", "x\n"}}, "a later commit the retry must not pick up");
  Project("flaky", "buildspec.yml", {{"SHOULD_FAIL", "0"}});
  auto retry = RetryBuildSucceeds(id);
  json again = Parse(retry);
  EXPECT_EQ(StageState(again, "Source")["latestExecution"]["attempt"], 1);
  EXPECT_EQ(again["artifactRevisions"][0]["revisionId"], built);
  EXPECT_TRUE(Contains(retry.err, "building " + built)) << retry.err;
  EXPECT_EQ(History("flaky").size(), 1u);

  auto twice = Kiln({"pipeline", "retry", id, "--stage", "Build"});
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_TRUE(Contains(twice.err, "Succeeded")) << twice.err;
}

// A project that names an image Kiln cannot run (no engine answers here, or the image cannot
// be pulled) fails in PROVISIONING: its commands never fall back to the host. Builds that do
// run in a container: src/codebuild/container_executor_engine_test.cc.
TEST_F(PipelineTest, AProjectWhoseImageCannotRunFailsInProvisioningAndRunsNothingOnTheHost) {
  fs::path marker = tmp_.path() / "touched-the-host";
  Commit({{"buildspec.yml", "version: 0.2\nphases:\n  build:\n    commands:\n      - touch " +
                                marker.string() + "\n"}},
         "buildspec");
  projects_["boxed"] = {
      {"buildspec", "buildspec.yml"},
      {"environment", {{"type", "LINUX_CONTAINER"}, {"image", "127.0.0.1:1/kiln/standard:1"}}}};
  Pipeline("boxed", {SourceStage(), Stage("Build", {BuildAction("bake", "boxed", {})})});
  // No engine at this address: the build cannot start, and no pull can leave the machine.
  auto run = Kiln({"pipeline", "run", "boxed"},
                  {"DOCKER_HOST=unix://" + (tmp_.path() / "no-engine.sock").string()});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  json e = Parse(run);
  EXPECT_EQ(e["status"], "Failed");
  std::string summary = ActionState(e, "Build", "bake")["latestExecution"].value("summary", "");
  EXPECT_TRUE(Contains(summary, "PROVISIONING") || Contains(run.err, "environment.image"))
      << summary << run.err;
  EXPECT_FALSE(fs::exists(marker));
}

// The CodeBuild action builds with the project's environment (ApplyProjectSettings): its
// computeType shows in the build's record, as CodeBuild's Build.environment does.
TEST_F(PipelineTest, TheBuildActionRunsWithTheProjectsEnvironment) {
  Commit({{"buildspec.yml", "version: 0.2\nphases:\n  build:\n    commands:\n      - true\n"}},
         "buildspec");
  projects_["sized"] = {{"buildspec", "buildspec.yml"},
                        {"environment", {{"computeType", "BUILD_GENERAL1_LARGE"}}}};
  Pipeline("sized", {SourceStage(), Stage("Build", {BuildAction("bake", "sized", {})})});
  auto run = Kiln({"pipeline", "run", "sized"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json record = json::parse(ReadText(state_ / "builds" / "sized" / "1.json"), nullptr, false);
  ASSERT_TRUE(record.is_object()) << ReadText(state_ / "builds" / "sized" / "1.json");
  EXPECT_EQ(record["environment"]["computeType"], "BUILD_GENERAL1_LARGE") << record.dump();
  EXPECT_EQ(record["environment"]["type"], "LINUX_CONTAINER");
  EXPECT_EQ(record["environment"]["image"], "");
  EXPECT_EQ(record["environment"]["executor"], "host");
}

// Equal runOrder runs in parallel; a higher runOrder waits for both.
TEST_F(PipelineTest, ActionsWithTheSameRunOrderRunTogetherAndTheNextOrderAfterThem) {
  Commit({{"timed.yml", kTimedBuildspec}}, "timed");
  TimedProject("timed", "0.3", tmp_.path() / "gate");
  Pipeline("fan", {SourceStage(),
                   Stage("Build", {BuildAction("left", "timed", {{"LABEL", "left"}}, 1),
                                   BuildAction("right", "timed", {{"LABEL", "right"}}, 1),
                                   BuildAction("after", "timed", {{"LABEL", "after"}}, 2)})});
  auto run = StartRun("fan");
  // Both builds of runOrder 1 are inside their build at once: the gate opens only then.
  EXPECT_TRUE(WaitUntil([&] { return Started("left") && Started("right"); }))
      << ReadText(Times()) << run->Err();
  EXPECT_FALSE(Started("after"));
  tmp_.Write("gate", "");
  auto r = run->Wait(60);
  json e = Parse(r);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t = Intervals();
  ASSERT_EQ(t.size(), 3u) << ReadText(Times());
  EXPECT_LT(std::max(t["left"].start, t["right"].start), std::min(t["left"].end, t["right"].end))
      << ReadText(Times());
  EXPECT_GE(t["after"].start, std::max(t["left"].end, t["right"].end)) << ReadText(Times());
  for (const char* a : {"left", "right", "after"}) {
    EXPECT_EQ(ActionStatus(e, "Build", a), "Succeeded") << a;
  }
}

// Branch names and commit messages are data: never evaluated by a shell.
TEST_F(PipelineTest, HostileBranchNamesAndCommitMessagesAreData) {
  const std::string message =
      "it's \"quoted\" $(touch pwned2) `touch pwned3`\n\nsecond line; touch pwned4\n";
  const std::string branch = "$(touch${IFS}pwned)";  // a valid git ref name
  Git({"checkout", "-q", "-b", branch});
  Commit({{"buildspec.yml", R"Y(version: 0.2
env:
  exported-variables: [BRANCH_SEEN, MSG_SEEN]
phases:
  build:
    commands:
      - echo "branch=$BRANCH message=$MSG"
      - export BRANCH_SEEN="$BRANCH"
      - export MSG_SEEN="$MSG"
)Y"}},
         message);
  Project("echo", "buildspec.yml");
  json build = Stage("Build", {BuildAction("bake", "echo",
                                           {{"BRANCH", "#{SourceVariables.BranchName}"},
                                            {"MSG", "#{SourceVariables.CommitMessage}"}})});
  Pipeline("hostile", {SourceStage(branch), build});
  auto r = Kiln({"pipeline", "run", "hostile"});
  json e = Parse(r);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(OutputVariable(e, "Source", "Source", "BranchName"), branch);
  std::string commit_message = OutputVariable(e, "Source", "Source", "CommitMessage");
  EXPECT_TRUE(commit_message.starts_with("it's \"quoted\" $(touch pwned2) `touch pwned3`\n"))
      << commit_message;
  EXPECT_TRUE(Contains(commit_message, "second line; touch pwned4"));
  EXPECT_EQ(OutputVariable(e, "Build", "bake", "BRANCH_SEEN"), branch);
  EXPECT_EQ(OutputVariable(e, "Build", "bake", "MSG_SEEN"), commit_message);

  // Not a valid ref name (a space): refused, not run.
  Pipeline("spaced", {SourceStage("$(touch pwned)"), build});
  auto spaced = Kiln({"pipeline", "run", "spaced"});
  EXPECT_EQ(spaced.exit_code, 1);
  EXPECT_EQ(Parse(spaced)["status"], "Failed");
  EXPECT_TRUE(
      Contains(ActionSummary(Parse(spaced), "Source", "Source"), "is not a valid git branch"))
      << spaced.out;
  EXPECT_TRUE(FindNamed("pwned").empty()) << FindNamed("pwned")[0];
}

// The conformance CloudFormation templates: the cruddur ones (CodeStarSourceConnection ->
// CodeBuild -> ECS) import; the others name the provider Kiln does not have.
struct Template {
  std::string file;
  std::vector<std::string> args;  // --parameter / --export
  std::string unsupported;        // the provider named in the refusal, or empty
};

std::vector<Template> Templates() {
  const std::string cluster = "--export=CrdClusterClusterName=CrdClusterFargateCluster";
  return {
      {"annleefores__cruddur__aws_cfn_cicd_template.yaml",
       {"--parameter=ClusterStack=CrdCluster", "--parameter=ServiceStack=CrdSrvBackendFlask",
        "--parameter=ArtifactBucketName=artifacts", "--parameter=BuildSpec=buildspec.yml",
        "--parameter=GetAtt:CodeBuild.Outputs.CodeBuildProjectName=backend-flask", cluster},
       ""},
      {"iffydopsqueen__aws-bootcamp-cruddur-2023__aws_cfn_cicd_template.yaml",
       {"--parameter=ClusterStack=CrdCluster", "--parameter=ServiceStack=CrdSrvBackendFlask",
        "--parameter=ArtifactBucketName=artifacts",
        "--parameter=GetAtt:CodeBuildBakeImageStack.Outputs.CodeBuildProjectName=backend-flask",
        cluster, "--export=CrdSrvBackendFlaskServiceName=backend-flask"},
       ""},
      {"k-paulius__aws-bootcamp-cruddur-2023__aws_cfn_cicd_template.yaml",
       {"--parameter=pAppEnvironment=prod", std::string("--parameter=pCodeStarConnection=") + kArn,
        "--parameter=pGitHubRepoName=k-paulius/aws-bootcamp-cruddur-2023",
        "--parameter=pGitHubBranchName=prod",
        "--parameter=GetAtt:rCodeBuildStack.Outputs.oCodeBuildProjectName=backend-flask",
        "--parameter=pParentECRStack=ecr", "--parameter=pParentClusterStack=cluster",
        "--parameter=pParentServiceStack=svc", "--export=ecr-BackendRepositoryName=backend-flask",
        "--export=ecr-PythonRepositoryName=python",
        "--export=cluster-ClusterArn=CrdClusterFargateCluster",
        "--export=svc-BackendECSServiceName=backend-flask"},
       ""},
      {"awslabs__ecs-refarch-continuous-deployment__templates_deployment-pipeline.yaml",
       {"--parameter=GitHubUser=u", "--parameter=GitHubRepo=r", "--parameter=GitHubBranch=main",
        "--parameter=GitHubToken=t", "--parameter=Cluster=c", "--parameter=Service=s"},
       "provider GitHub"},
      {"laser__cloudformation-fargate-codepipeline-ecs-refarch__infrastructure_cloud-formation_"
       "templates_deployment-pipeline.yml",
       {"--parameter=EnvironmentName=e", "--parameter=ClusterName=c", "--parameter=ServiceArn=s",
        "--parameter=RepositoryArn=ra", "--parameter=RepositoryUri=ru", "--parameter=GitHubUser=u",
        "--parameter=GitHubBranch=main", "--parameter=GitHubRepo=r", "--parameter=GitHubToken=t"},
       "provider GitHub"},
      {"aws-samples__ecs-blue-green-deployment-with-codedeploy__iac_pipeline_code-pipeline.yaml",
       {"--parameter=pApplicationName=app", "--parameter=GetAtt:rCodeCommitRepo.Name=app",
        "--parameter=GetAtt:rCloudFormationServiceRole.Arn=arn:aws:iam::1:role/cfn"},
       "provider CodeDeployToECS"},
  };
}

std::vector<std::string> StageProviders(const json& pipeline) {
  std::vector<std::string> out;
  for (const auto& s : pipeline["stages"]) {
    out.push_back(s["name"].get<std::string>() + ":" +
                  s["actions"][0]["actionTypeId"]["provider"].get<std::string>());
  }
  return out;
}

TEST_F(PipelineTest, ConformanceTemplatesImportOrNameTheMissingProvider) {
  if (auto why = ConformanceMissing()) GTEST_SKIP() << *why;
  const std::vector<std::string> cruddur = {"Source:CodeStarSourceConnection", "Build:CodeBuild",
                                            "Deploy:ECS"};
  json config = {
      {"projects", {{"backend-flask", {{"buildspec", "backend-flask/buildspec.yml"}}}}},
      {"clusters", {{"CrdClusterFargateCluster", {{"provider", "process"}}}}},
      {"services",
       {{"backend-flask",
         {{"cluster", "CrdClusterFargateCluster"},
          {"taskDefinition", {{"containerDefinitions", {{{"name", "backend-flask"}}}}}}}}}},
      {"connections", json::object()},
      {"pipelines", json::object()}};
  fs::path dir = ConformanceDir() / "pipelines";
  for (const auto& t : Templates()) {
    SCOPED_TRACE(t.file);
    fs::path out = tmp_.path() / (t.file.substr(0, t.file.find("__")) + ".json");
    std::vector<std::string> args = {"pipeline", "import", (dir / t.file).string(), "-o",
                                     out.string()};
    args.insert(args.end(), t.args.begin(), t.args.end());
    auto r = RunKiln(args, tmp_.path());
    if (!t.unsupported.empty()) {
      EXPECT_EQ(r.exit_code, 2) << r.err;
      EXPECT_TRUE(Contains(r.err, t.unsupported + " ")) << r.err;
      EXPECT_TRUE(Contains(r.err, "not supported by Kiln")) << r.err;
      continue;
    }
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json p = json::parse(ReadText(out))["pipeline"];
    EXPECT_EQ(StageProviders(p), cruddur);
    EXPECT_EQ(p["stages"][1]["actions"][0]["configuration"]["ProjectName"], "backend-flask");
    json deploy = p["stages"][2]["actions"][0]["configuration"];
    EXPECT_EQ(deploy["ServiceName"], "backend-flask");
    EXPECT_EQ(deploy["ClusterName"], "CrdClusterFargateCluster");
    // The connection is named by what ConnectionArn holds: an ARN, or the Ref'd resource's name.
    std::string connection = p["stages"][0]["actions"][0]["configuration"]["ConnectionArn"];
    if (connection.starts_with("arn:")) {
      config["connections"]["cruddur"] = {{"url", repo_.string()}, {"arn", connection}};
    } else {
      config["connections"][connection] = {{"url", repo_.string()}};
    }
    config["pipelines"][out.stem().string()] = out.filename().string();
  }
  EXPECT_EQ(config["pipelines"].size(), 3u);
  EXPECT_EQ(config["connections"].size(), 3u);
  tmp_.Write("kiln.yml", config.dump(2));
  auto v = RunKiln({"validate", "kiln.yml"}, tmp_.path());
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  for (const auto& [name, file] : config["pipelines"].items()) {
    auto show = RunKiln({"--config", "kiln.yml", "pipeline", "show", name}, tmp_.path());
    EXPECT_EQ(show.exit_code, 0) << name << ": " << show.err;
    EXPECT_EQ(Parse(show)["pipeline"]["name"], name);
  }
}

TEST_F(PipelineTest, InvalidPipelineFileExitsTwoWithLocatedDiagnostics) {
  json bad_source = SourceStage();
  bad_source["actions"][0]["configuration"].erase("BranchName");
  json build = BuildAction("bake", "p", {});
  build["inputArtifacts"] = {{{"name", "Missing"}}};
  tmp_.Write(
      "bad.json",
      json({{"pipeline", {{"name", "bad"}, {"stages", {bad_source, Stage("Build", {build})}}}}})
          .dump(2));
  fs::path file = tmp_.path() / "bad.json";
  auto r = RunKiln({"--state-dir", state_.string(), "pipeline", "run", file.string()}, tmp_.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, file.string() + ":")) << r.err;
  EXPECT_TRUE(Contains(r.err, "BranchName")) << r.err;
  EXPECT_TRUE(Contains(r.err, "'Missing'")) << r.err;
  EXPECT_FALSE(fs::exists(state_ / "kiln.db")) << "an invalid pipeline created state";

  tmp_.Write("syntax.json", "{\"pipeline\": {\"name\": \"x\",\n  \"stages\": [}\n}\n");
  auto syntax =
      RunKiln({"--state-dir", state_.string(), "pipeline", "run", "syntax.json"}, tmp_.path());
  EXPECT_EQ(syntax.exit_code, 2);
  EXPECT_TRUE(Contains(syntax.err, "syntax.json:2:")) << syntax.err;

  json queued = {{"pipeline",
                  {{"name", "q"},
                   {"executionMode", "QUEUED"},
                   {"stages", {SourceStage(), Stage("Build", {BuildAction("b", "p", {})})}}}}};
  tmp_.Write("queued.json", queued.dump(2));
  auto v1 =
      RunKiln({"--state-dir", state_.string(), "pipeline", "run", "queued.json"}, tmp_.path());
  EXPECT_EQ(v1.exit_code, 2);
  EXPECT_TRUE(Contains(v1.err, "queued.json:")) << v1.err;
  EXPECT_TRUE(Contains(v1.err, "V2")) << v1.err;
}

class PipelineApprovalTest : public PipelineFixture {
 protected:
  void SetUp() override {
    PipelineFixture::SetUp();
    Pipeline("gated", {SourceStage(), ApprovalStage()});
  }
  // Starts a run and waits until its approval is waiting; returns the execution id.
  std::string StartWaiting() {
    run_ = StartRun("gated");
    std::string id = WaitForExecution("gated", 1);
    EXPECT_TRUE(WaitForAction(id, "Approve", "Approval", "InProgress")) << run_->Err();
    return id;
  }
  std::unique_ptr<BackgroundProcess> run_;
};

TEST_F(PipelineApprovalTest, ApprovedFromAnotherProcess) {
  std::string id = StartWaiting();
  auto approve = Kiln(
      {"pipeline", "approve", id, "--stage", "Approve", "--action", "Approval", "--summary", "ok"});
  EXPECT_EQ(approve.exit_code, 0) << approve.err;
  auto r = run_->Wait(60);
  json e = Parse(r);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(e["status"], "Succeeded");
  EXPECT_EQ(ActionStatus(e, "Approve", "Approval"), "Succeeded");
  EXPECT_TRUE(Contains(ActionSummary(e, "Approve", "Approval"), "Approved")) << e.dump();
  // Decided once: a second decision is refused.
  auto again = Kiln({"pipeline", "reject", id, "--stage", "Approve", "--action", "Approval"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(Contains(again.err, "not waiting for approval")) << again.err;
}

TEST_F(PipelineApprovalTest, ApprovedWithoutACommentSaysJustApproved) {
  std::string id = StartWaiting();
  auto approve = Kiln({"pipeline", "approve", id, "--stage", "Approve", "--action", "Approval"});
  EXPECT_EQ(approve.exit_code, 0) << approve.err;
  auto r = run_->Wait(60);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ActionSummary(Parse(r), "Approve", "Approval"), "Approved");
}

TEST_F(PipelineApprovalTest, Rejected) {
  std::string id = StartWaiting();
  auto reject = Kiln({"pipeline", "reject", id, "--stage", "Approve", "--action", "Approval",
                      "--summary", "not today"});
  EXPECT_EQ(reject.exit_code, 0) << reject.err;
  auto r = run_->Wait(60);
  json e = Parse(r);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(e["status"], "Failed");
  EXPECT_EQ(ActionStatus(e, "Approve", "Approval"), "Failed");
  EXPECT_TRUE(Contains(ActionSummary(e, "Approve", "Approval"), "Rejected")) << e.dump();
  EXPECT_TRUE(Contains(ActionSummary(e, "Approve", "Approval"), "not today"));
}

TEST_F(PipelineApprovalTest, OnlyTheWaitingApprovalsTokenDecides) {
  std::string id = StartWaiting();
  std::string token =
      ActionState(Status(id), "Approve", "Approval")["latestExecution"].value("token", "");
  ASSERT_EQ(token.size(), 36u) << "a UUID";
  auto decide = [&](const std::string& token) {
    return Kiln({"pipeline", "approve", id, "--stage", "Approve", "--action", "Approval",
                 "--approval-token", token});
  };
  auto wrong = decide("nope");
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_TRUE(Contains(wrong.err, "approval token 'nope'")) << wrong.err;
  EXPECT_EQ(decide(token).exit_code, 0);
  EXPECT_EQ(run_->Wait(60).exit_code, 0);
}

TEST_F(PipelineApprovalTest, TimesOut) {
  auto start = Clock::now();
  auto r = Kiln({"pipeline", "run", "gated"}, {"KILN_APPROVAL_TIMEOUT=1s"});
  json e = Parse(r);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(e["status"], "Failed");
  EXPECT_EQ(ActionSummary(e, "Approve", "Approval"), "Approval timed out");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(20));
}

}  // namespace
}  // namespace kiln::e2e

namespace kiln::e2e {
namespace {

// A store write that fails mid-execution (here: the artifact's row, refused by a trigger, as
// a full disk would) is not swallowed: the execution ends Failed and says what it lost.
TEST_F(PipelineTest, AStoreWriteThatFailsFailsTheExecutionWithTheReason) {
  Commit({{"buildspec.yml",
           "version: 0.2\nphases:\n  build:\n    commands:\n      - echo x > f\n"
           "artifacts:\n  files: [f]\n"}},
         "buildspec");
  Project("backend-flask", "buildspec.yml");
  json bake = BuildAction("bake", "backend-flask", {});
  bake["outputArtifacts"] = {{{"name", "ImageDefinition"}}};
  Pipeline("backend-flask", {SourceStage(), Stage("Build", {bake})});
  ASSERT_EQ(Kiln({"pipeline", "list"}).exit_code, 0);  // creates the store
  auto trigger = RunProcess(
      {"sqlite3", (state_ / "kiln.db").string(),
       "CREATE TRIGGER refuse_artifacts BEFORE INSERT ON artifacts "
       "WHEN NEW.name = 'ImageDefinition' BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END;"},
      tmp_.path());
  ASSERT_EQ(trigger.exit_code, 0) << trigger.err;

  auto r = Kiln({"pipeline", "run", "backend-flask"});
  json e = Parse(r);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(e["status"], "Failed") << r.out;
  EXPECT_EQ(e["statusSummary"],
            "the store could not record output artifact ImageDefinition: sqlite: disk full (test)")
      << r.out;
  EXPECT_NE(r.err.find("could not record output artifact ImageDefinition"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace kiln::e2e
