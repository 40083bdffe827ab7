// `kiln pipeline` end to end: real git repositories, real builds, several kiln processes
// sharing one state directory. Each test builds a repository with the git CLI, writes a
// kiln.yml and a CodePipeline JSON definition, and asserts what `--json` reports.
//
// Timing: builds coordinate with the test through files (a times file each build appends
// "LABEL start|end NANOS" to, and a gate file a build waits for), so nothing depends on a
// sleep being long enough; every wait is bounded.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "harness.h"

namespace kiln::e2e {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr char kArn[] = "arn:aws:codestar-connections:us-east-1:123456789012:connection/abc";

// Appends start/end stamps to $TIMES around an optional sleep and a wait for $GATE (at most
// 30 s). The pid line lets a test find the build's shell.
constexpr char kTimedBuildspec[] = R"Y(version: 0.2
phases:
  build:
    commands:
      - echo "$LABEL pid $$" >> "$TIMES"
      - echo "$LABEL start $(date +%s%N)" >> "$TIMES"
      - echo "waiting at the gate"
      - sleep "$SLEEP"
      - i=0; while [ ! -e "$GATE" ] && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i+1)); done
      - echo "$LABEL end $(date +%s%N)" >> "$TIMES"
)Y";

struct Interval {
  int64_t start = 0, end = 0;
  int pid = 0;
};

template <typename Done>
bool WaitUntil(Done done, int timeout_ms = 20000) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

// A stage's state from GetPipelineState-shaped JSON, or null.
json StageState(const json& e, const std::string& stage) {
  for (const auto& s : e.value("stageStates", json::array())) {
    if (s["stageName"] == stage) return s;
  }
  return nullptr;
}

json ActionState(const json& e, const std::string& stage, const std::string& action) {
  json s = StageState(e, stage);
  if (s.is_null()) return nullptr;
  for (const auto& a : s["actionStates"]) {
    if (a["actionName"] == action) return a;
  }
  return nullptr;
}

std::string ActionStatus(const json& e, const std::string& stage, const std::string& action) {
  json a = ActionState(e, stage, action);
  return a.is_null() ? "<absent>" : a["latestExecution"]["status"].get<std::string>();
}

std::string ActionSummary(const json& e, const std::string& stage, const std::string& action) {
  json a = ActionState(e, stage, action);
  return a.is_null() ? "<absent>" : a["latestExecution"]["summary"].get<std::string>();
}

std::string OutputVariable(const json& e, const std::string& stage, const std::string& action,
                           const std::string& name) {
  json a = ActionState(e, stage, action);
  if (a.is_null() || !a["outputVariables"].contains(name)) return "<absent>";
  return a["outputVariables"][name];
}

json Parse(const RunResult& r) {
  json doc = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << "stdout is not JSON: " << r.out << "\nstderr: " << r.err;
  return doc.is_discarded() ? json::object() : doc;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Pipeline definitions, CodePipeline JSON.
json SourceStage(const std::string& branch = "prod") {
  return {
      {"name", "Source"},
      {"actions",
       {{{"name", "Source"},
         {"actionTypeId",
          {{"category", "Source"},
           {"owner", "AWS"},
           {"provider", "CodeStarSourceConnection"},
           {"version", "1"}}},
         {"configuration",
          {{"ConnectionArn", kArn}, {"FullRepositoryId", "acme/cruddur"}, {"BranchName", branch}}},
         {"outputArtifacts", {{{"name", "SourceArtifact"}}}},
         {"namespace", "SourceVariables"}}}}};
}

// A CodeBuild action; env maps variable names to (unresolved) values.
json BuildAction(const std::string& name, const std::string& project,
                 const std::map<std::string, std::string>& env, int run_order = 1) {
  json vars = json::array();
  for (const auto& [k, v] : env) vars.push_back({{"name", k}, {"value", v}, {"type", "PLAINTEXT"}});
  return {{"name", name},
          {"actionTypeId",
           {{"category", "Build"}, {"owner", "AWS"}, {"provider", "CodeBuild"}, {"version", "1"}}},
          {"configuration", {{"ProjectName", project}, {"EnvironmentVariables", vars.dump()}}},
          {"inputArtifacts", {{{"name", "SourceArtifact"}}}},
          {"runOrder", run_order}};
}

json Stage(const std::string& name, json actions) {
  return {{"name", name}, {"actions", std::move(actions)}};
}

json ApprovalStage() {
  return Stage(
      "Approve",
      {{{"name", "Approval"},
        {"actionTypeId",
         {{"category", "Approval"}, {"owner", "AWS"}, {"provider", "Manual"}, {"version", "1"}}}}});
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(repo_);
    Git({"init", "-q", "-b", "main"});
    Commit({{"README", "cruddur\n"}}, "initial commit");
    Git({"checkout", "-q", "-b", "prod"});
  }

  RunResult Git(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"git", "-C", repo_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunProcess(argv, tmp_.path(),
                        {"GIT_AUTHOR_NAME=Ann", "GIT_AUTHOR_EMAIL=ann@example.com",
                         "GIT_COMMITTER_NAME=Ann", "GIT_COMMITTER_EMAIL=ann@example.com",
                         "GIT_CONFIG_NOSYSTEM=1", "HOME=" + tmp_.path().string()});
    EXPECT_EQ(r.exit_code, 0) << "git " << args[0] << ": " << r.err;
    return r;
  }

  std::string RevParse(const std::string& ref) {
    std::string out = Git({"rev-parse", ref}).out;
    return out.substr(0, out.find('\n'));
  }

  // Writes files into the repository and commits them (message from a file: taken verbatim).
  void Commit(const std::map<std::string, std::string>& files, const std::string& message) {
    for (const auto& [name, text] : files) tmp_.Write("repo/" + name, text);
    fs::path msg = tmp_.Write("commit-message", message);
    Git({"add", "-A"});
    Git({"commit", "-q", "--allow-empty", "-F", msg.string()});
  }

  // Adds a CodeBuild project to kiln.yml; variables become its environment.
  void Project(const std::string& name, const std::string& buildspec,
               const std::map<std::string, std::string>& variables = {}) {
    projects_[name] = {
        {"buildspec", buildspec}, {"timeout", "5m"}, {"environment", {{"variables", variables}}}};
    WriteConfig();
  }

  // A project running kTimedBuildspec, with its times file, gate and sleep.
  void TimedProject(const std::string& name, const std::string& sleep = "0",
                    const fs::path& gate = "/") {
    Project(name, "timed.yml",
            {{"TIMES", Times().string()}, {"SLEEP", sleep}, {"GATE", gate.string()}});
  }

  // Writes the pipeline file and names it in kiln.yml; returns its name.
  std::string Pipeline(const std::string& name, json stages, const std::string& mode = "") {
    json p = {{"name", name}, {"stages", std::move(stages)}};
    if (!mode.empty()) {
      p["pipelineType"] = "V2";
      p["executionMode"] = mode;
    }
    tmp_.Write(name + ".json", json({{"pipeline", p}}).dump(2));
    pipelines_[name] = name + ".json";
    WriteConfig();
    return name;
  }

  // kiln.yml as JSON (which is YAML): the connection, projects and pipelines so far.
  void WriteConfig() {
    json config = {{"connections", {{"cruddur", {{"url", repo_.string()}, {"arn", kArn}}}}},
                   {"projects", projects_},
                   {"pipelines", pipelines_}};
    tmp_.Write("kiln.yml", config.dump(2));
  }

  RunResult Kiln(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {"--json", "--state-dir", state_.string(), "--config",
                               (tmp_.path() / "kiln.yml").string()});
    return RunKiln(args, tmp_.path(), env);
  }

  std::unique_ptr<BackgroundProcess> StartRun(const std::string& name,
                                              const std::vector<std::string>& env = {}) {
    return StartKiln({"--json", "--state-dir", state_.string(), "--config",
                      (tmp_.path() / "kiln.yml").string(), "pipeline", "run", name},
                     tmp_.path(), env);
  }

  json Status(const std::string& id) { return Parse(Kiln({"pipeline", "status", id})); }

  // Execution summaries, newest first.
  json History(const std::string& name) {
    return Parse(Kiln({"pipeline", "history", name}))["pipelineExecutionSummaries"];
  }

  // Waits until the pipeline has `count` executions; returns the newest one's id.
  std::string WaitForExecution(const std::string& name, size_t count) {
    json list;
    bool ok = WaitUntil([&] { return (list = History(name)).size() >= count; });
    EXPECT_TRUE(ok) << "no execution #" << count << " of " << name;
    return ok ? list[0]["pipelineExecutionId"].get<std::string>() : "";
  }

  bool WaitForAction(const std::string& id, const std::string& stage, const std::string& action,
                     const std::string& status) {
    return WaitUntil([&] { return ActionStatus(Status(id), stage, action) == status; });
  }

  fs::path Times() const { return tmp_.path() / "times"; }

  // label -> interval, from the times file.
  std::map<std::string, Interval> Intervals() const {
    std::map<std::string, Interval> out;
    std::istringstream in(ReadText(Times()));
    std::string label, what;
    int64_t value = 0;
    while (in >> label >> what >> value) {
      if (what == "start") out[label].start = value;
      if (what == "end") out[label].end = value;
      if (what == "pid") out[label].pid = static_cast<int>(value);
    }
    return out;
  }

  bool Started(const std::string& label) const { return Intervals()[label].start > 0; }

  // Files whose name starts with prefix anywhere under the temp dir.
  std::vector<fs::path> FindNamed(const std::string& prefix) const {
    std::vector<fs::path> found;
    for (const auto& e : fs::recursive_directory_iterator(tmp_.path())) {
      if (e.path().filename().string().starts_with(prefix)) found.push_back(e.path());
    }
    return found;
  }

  TempDir tmp_;
  fs::path repo_ = tmp_.path() / "repo";
  fs::path state_ = tmp_.path() / "state";
  json projects_ = json::object();
  json pipelines_ = json::object();
};

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
  auto retry = Kiln({"pipeline", "retry", id, "--stage", "Build"});
  json again = Parse(retry);
  EXPECT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_EQ(again["pipelineExecutionId"], id);
  EXPECT_EQ(again["status"], "Succeeded");
  EXPECT_EQ(StageState(again, "Build")["latestExecution"]["attempt"], 2);
  EXPECT_EQ(StageState(again, "Source")["latestExecution"]["attempt"], 1);
  EXPECT_EQ(ActionStatus(again, "Build", "bake"), "Succeeded");
  EXPECT_EQ(again["artifactRevisions"][0]["revisionId"], built);
  EXPECT_TRUE(Contains(retry.err, "building " + built)) << retry.err;
  EXPECT_EQ(History("flaky").size(), 1u);

  auto twice = Kiln({"pipeline", "retry", id, "--stage", "Build"});
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_TRUE(Contains(twice.err, "Succeeded")) << twice.err;
}

// Equal runOrder runs in parallel; a higher runOrder waits for both.
TEST_F(PipelineTest, ActionsWithTheSameRunOrderRunTogetherAndTheNextOrderAfterThem) {
  Commit({{"timed.yml", kTimedBuildspec}}, "timed");
  TimedProject("timed", "1");
  Pipeline("fan", {SourceStage(),
                   Stage("Build", {BuildAction("left", "timed", {{"LABEL", "left"}}, 1),
                                   BuildAction("right", "timed", {{"LABEL", "right"}}, 1),
                                   BuildAction("after", "timed", {{"LABEL", "after"}}, 2)})});
  auto r = Kiln({"pipeline", "run", "fan"});
  json e = Parse(r);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t = Intervals();
  ASSERT_EQ(t.size(), 3u) << ReadText(Times());
  EXPECT_LT(std::max(t["left"].start, t["right"].start), std::min(t["left"].end, t["right"].end))
      << "left and right did not overlap";
  EXPECT_GE(t["after"].start, std::max(t["left"].end, t["right"].end));
  for (const char* a : {"left", "right", "after"}) {
    EXPECT_EQ(ActionStatus(e, "Build", a), "Succeeded") << a;
  }
}

class ApprovalTest : public PipelineTest {
 protected:
  void SetUp() override {
    PipelineTest::SetUp();
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

TEST_F(ApprovalTest, ApprovedFromAnotherProcess) {
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

TEST_F(ApprovalTest, ApprovedWithoutACommentSaysJustApproved) {
  std::string id = StartWaiting();
  auto approve = Kiln({"pipeline", "approve", id, "--stage", "Approve", "--action", "Approval"});
  EXPECT_EQ(approve.exit_code, 0) << approve.err;
  auto r = run_->Wait(60);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ActionSummary(Parse(r), "Approve", "Approval"), "Approved");
}

TEST_F(ApprovalTest, Rejected) {
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

TEST_F(ApprovalTest, TimesOut) {
  auto start = Clock::now();
  auto r = Kiln({"pipeline", "run", "gated"}, {"KILN_APPROVAL_TIMEOUT=1s"});
  json e = Parse(r);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(e["status"], "Failed");
  EXPECT_EQ(ActionSummary(e, "Approve", "Approval"), "Approval timed out");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(20));
}

// Several `kiln pipeline run` processes against one state dir. Each build stamps its
// execution id into the times file.
class ExecutionModeTest : public PipelineTest {
 protected:
  void SetUp() override {
    PipelineTest::SetUp();
    Commit({{"timed.yml", kTimedBuildspec}}, "timed");
  }
  json BuildStage() {
    return Stage("Build", {BuildAction("bake", "timed",
                                       {{"LABEL", "#{codepipeline.PipelineExecutionId}"}})});
  }
  // Ids in start order (history lists newest first).
  std::vector<std::string> IdsInStartOrder(const std::string& name) {
    std::vector<std::string> ids;
    for (const auto& s : History(name)) ids.insert(ids.begin(), s["pipelineExecutionId"]);
    return ids;
  }
};

TEST_F(ExecutionModeTest, ParallelExecutionsOverlap) {
  TimedProject("timed", "2");
  Pipeline("par", {SourceStage(), BuildStage()}, "PARALLEL");
  std::vector<std::unique_ptr<BackgroundProcess>> runs;
  for (int i = 0; i < 3; ++i) runs.push_back(StartRun("par"));
  for (auto& run : runs) {
    auto r = run->Wait(60);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  auto t = Intervals();
  ASSERT_EQ(t.size(), 3u) << ReadText(Times());
  int64_t last_start = 0, first_end = std::numeric_limits<int64_t>::max(), first_start = first_end,
          last_end = 0;
  for (const auto& [id, i] : t) {
    last_start = std::max(last_start, i.start);
    first_start = std::min(first_start, i.start);
    first_end = std::min(first_end, i.end);
    last_end = std::max(last_end, i.end);
  }
  EXPECT_LT(last_start, first_end) << "the three builds were not all running at once";
  EXPECT_LT(last_end - first_start, int64_t{3} * 2'000'000'000) << "as slow as one at a time";
  for (const auto& s : History("par")) EXPECT_EQ(s["executionMode"], "PARALLEL");
}

TEST_F(ExecutionModeTest, QueuedExecutionsRunOneAtATimeInStartOrder) {
  TimedProject("timed", "1");
  Pipeline("queue", {SourceStage(), BuildStage()}, "QUEUED");
  std::vector<std::unique_ptr<BackgroundProcess>> runs;
  for (size_t i = 1; i <= 3; ++i) {
    runs.push_back(StartRun("queue"));
    WaitForExecution("queue", i);  // so the start order is known
  }
  for (auto& run : runs) {
    auto r = run->Wait(60);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  auto ids = IdsInStartOrder("queue");
  auto t = Intervals();
  ASSERT_EQ(ids.size(), 3u);
  ASSERT_EQ(t.size(), 3u) << ReadText(Times());
  for (size_t i = 0; i + 1 < ids.size(); ++i) {
    EXPECT_LE(t[ids[i]].end, t[ids[i + 1]].start) << "execution " << i + 2 << " overlapped";
  }
}

// A is in Build; B waits in front of Build and is superseded by C; C runs after A.
TEST_F(ExecutionModeTest, SupersededWaitingExecutionIsReplacedByTheNewerOne) {
  fs::path gate = tmp_.path() / "gate";
  TimedProject("timed", "0", gate);
  Pipeline("sup", {SourceStage(), BuildStage()});
  auto a = StartRun("sup");
  std::string a_id = WaitForExecution("sup", 1);
  ASSERT_TRUE(WaitUntil([&] { return Started(a_id); })) << a->Err();
  auto b = StartRun("sup");
  std::string b_id = WaitForExecution("sup", 2);
  ASSERT_TRUE(WaitUntil([&] {
    return StageState(Status(b_id), "Source")["latestExecution"]["status"] == "Succeeded";
  }));
  auto c = StartRun("sup");
  std::string c_id = WaitForExecution("sup", 3);
  EXPECT_TRUE(WaitUntil([&] { return Status(b_id)["status"] == "Superseded"; })) << b->Err();
  EXPECT_EQ(Status(a_id)["status"], "InProgress");
  tmp_.Write("gate", "");
  auto ra = a->Wait(60), rb = b->Wait(60), rc = c->Wait(60);
  EXPECT_EQ(ra.exit_code, 0) << ra.err;
  EXPECT_EQ(rc.exit_code, 0) << rc.err;
  EXPECT_EQ(rb.exit_code, 1);
  json eb = Parse(rb);
  EXPECT_EQ(eb["status"], "Superseded");
  EXPECT_TRUE(Contains(eb["statusSummary"], "Build")) << eb["statusSummary"];
  EXPECT_TRUE(StageState(eb, "Build").is_null()) << "B entered Build";
  auto t = Intervals();
  EXPECT_FALSE(t.contains(b_id));
  EXPECT_GE(t[c_id].start, t[a_id].end) << "C entered Build while A held it";
  // AWS-SEMANTICS.md 2.4: a superseded execution cannot be retried.
  EXPECT_EQ(Kiln({"pipeline", "retry", b_id, "--stage", "Build"}).exit_code, 1);
}

// kill -9 of the process running an execution: the next kiln command marks it Failed; the log
// written before the kill is kept. A live run is never marked Failed by another process.
TEST_F(PipelineTest, KilledRunIsMarkedFailedAndItsLogIsKept) {
  Commit({{"timed.yml", kTimedBuildspec}}, "timed");
  TimedProject("timed", "0", tmp_.path() / "never");
  Pipeline("doomed",
           {SourceStage(), Stage("Build", {BuildAction("bake", "timed", {{"LABEL", "bake"}})})});
  auto run = StartRun("doomed");
  std::string id = WaitForExecution("doomed", 1);
  ASSERT_TRUE(WaitUntil([&] { return Started("bake"); })) << run->Err();
  fs::path logs = state_ / "logs" / "timed";
  auto log_with_marker = [&] {
    if (!fs::is_directory(logs)) return fs::path();
    for (const auto& f : fs::directory_iterator(logs)) {
      if (Contains(ReadText(f.path()), "waiting at the gate")) return f.path();
    }
    return fs::path();
  };
  ASSERT_TRUE(WaitUntil([&] { return !log_with_marker().empty(); }));
  // Another process looking at the state while the run is alive leaves it alone.
  auto alive = History("doomed");
  EXPECT_EQ(alive[0]["status"], "InProgress");
  EXPECT_EQ(ActionStatus(Status(id), "Build", "bake"), "InProgress");

  run->Signal(SIGKILL);
  EXPECT_EQ(run->Wait(10).exit_code, 128 + SIGKILL);
  auto h = Kiln({"pipeline", "history", "doomed"});
  EXPECT_TRUE(Contains(h.err, "1 interrupted execution(s) marked Failed")) << h.err;
  json dead = Parse(h)["pipelineExecutionSummaries"][0];
  EXPECT_EQ(dead["pipelineExecutionId"], id);
  EXPECT_EQ(dead["status"], "Failed");
  EXPECT_TRUE(Contains(dead["statusSummary"], "stopped before it finished")) << dead.dump();
  json e = Status(id);
  EXPECT_EQ(StageState(e, "Build")["latestExecution"]["status"], "Failed");
  EXPECT_EQ(ActionStatus(e, "Build", "bake"), "Failed");
  EXPECT_TRUE(Contains(ReadText(log_with_marker()), "Running command sleep"));

  // The build's shell outlived kiln (nothing re-attaches to it): end its group.
  int pid = Intervals()["bake"].pid;
  if (pid > 0 && Running(pid)) ::kill(-::getpgid(pid), SIGKILL);
  ASSERT_TRUE(WaitUntil([&] { return !Running(pid); }));

  // The interrupted execution is restarted from its failed stage.
  tmp_.Write("never", "");
  auto retry = Kiln({"pipeline", "retry", id, "--stage", "Build"});
  EXPECT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_EQ(Parse(retry)["status"], "Succeeded");
  EXPECT_EQ(StageState(Parse(retry), "Build")["latestExecution"]["attempt"], 2);
}

// Stop and wait: the running build finishes, nothing after it starts.
TEST_F(PipelineTest, StopAndWaitLetsTheRunningActionFinish) {
  Commit({{"timed.yml", kTimedBuildspec}}, "timed");
  TimedProject("timed", "0", tmp_.path() / "gate");
  Pipeline("stoppable",
           {SourceStage(), Stage("Build", {BuildAction("bake", "timed", {{"LABEL", "bake"}})}),
            Stage("After", {BuildAction("after", "timed", {{"LABEL", "after"}})})});
  auto run = StartRun("stoppable");
  std::string id = WaitForExecution("stoppable", 1);
  ASSERT_TRUE(WaitUntil([&] { return Started("bake"); })) << run->Err();
  auto stop = Kiln({"pipeline", "stop", id});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_EQ(Status(id)["status"], "Stopping");
  tmp_.Write("gate", "");
  auto r = run->Wait(60);
  json e = Parse(r);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(e["status"], "Stopped");
  EXPECT_EQ(ActionStatus(e, "Build", "bake"), "Succeeded");
  EXPECT_TRUE(StageState(e, "After").is_null()) << e.dump();
  auto t = Intervals();
  EXPECT_GT(t["bake"].end, 0) << "the build was not allowed to finish";
  EXPECT_FALSE(t.contains("after"));
  EXPECT_EQ(Kiln({"pipeline", "stop", id}).exit_code, 1) << "stopping a Stopped execution";
}

// Stop and abandon: the build is cancelled at once, the action is Abandoned, and the stopped
// execution can be retried.
TEST_F(PipelineTest, StopAndAbandonCancelsTheBuildAndTheStageCanBeRetried) {
  Commit({{"timed.yml", kTimedBuildspec}}, "timed");
  TimedProject("timed", "0", tmp_.path() / "gate");
  Pipeline("abandon",
           {SourceStage(), Stage("Build", {BuildAction("bake", "timed", {{"LABEL", "bake"}})})});
  auto run = StartRun("abandon");
  std::string id = WaitForExecution("abandon", 1);
  ASSERT_TRUE(WaitUntil([&] { return Started("bake"); })) << run->Err();
  auto stopped_at = Clock::now();
  auto stop = Kiln({"pipeline", "stop", id, "--abandon"});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  auto r = run->Wait(60);
  EXPECT_LT(Clock::now() - stopped_at, std::chrono::seconds(15)) << "the build was not cancelled";
  json e = Parse(r);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(e["status"], "Stopped");
  EXPECT_EQ(ActionStatus(e, "Build", "bake"), "Abandoned");
  EXPECT_EQ(StageState(e, "Build")["latestExecution"]["status"], "Stopped");
  auto t = Intervals();
  EXPECT_EQ(t["bake"].end, 0);
  EXPECT_FALSE(Running(t["bake"].pid)) << "the build's shell survived the abandon";

  tmp_.Write("gate", "");
  auto retry = Kiln({"pipeline", "retry", id, "--stage", "Build"});
  json again = Parse(retry);
  EXPECT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_EQ(again["pipelineExecutionId"], id);
  EXPECT_EQ(again["status"], "Succeeded");
  EXPECT_EQ(StageState(again, "Build")["latestExecution"]["attempt"], 2);
  EXPECT_EQ(ActionStatus(again, "Build", "bake"), "Succeeded");
}

// CodePipeline: a stop-and-wait that is still Stopping can be turned into an abandon.
TEST_F(PipelineTest, StoppingExecutionCanStillBeAbandoned) {
  Commit({{"timed.yml", kTimedBuildspec}}, "timed");
  TimedProject("timed", "0", tmp_.path() / "gate");
  Pipeline("change-of-mind",
           {SourceStage(), Stage("Build", {BuildAction("bake", "timed", {{"LABEL", "bake"}})})});
  auto run = StartRun("change-of-mind");
  std::string id = WaitForExecution("change-of-mind", 1);
  ASSERT_TRUE(WaitUntil([&] { return Started("bake"); })) << run->Err();
  EXPECT_EQ(Kiln({"pipeline", "stop", id}).exit_code, 0);
  auto abandon = Kiln({"pipeline", "stop", id, "--abandon"});
  EXPECT_EQ(abandon.exit_code, 0) << abandon.err;
  auto r = run->Wait(20);
  json e = Parse(r);
  EXPECT_EQ(e["status"], "Stopped");
  EXPECT_EQ(ActionStatus(e, "Build", "bake"), "Abandoned");
  EXPECT_EQ(Intervals()["bake"].end, 0);
}

// Two retries of one failed stage started together: one runs it, the other is refused.
TEST_F(PipelineTest, ConcurrentRetriesOfOneStageRunItOnce) {
  Commit({{"timed.yml", kTimedBuildspec}}, "timed");
  TimedProject("timed", "0", tmp_.path() / "gate");
  Pipeline("once",
           {SourceStage(), Stage("Build", {BuildAction("bake", "timed", {{"LABEL", "bake"}})})});
  auto first = StartRun("once");
  std::string id = WaitForExecution("once", 1);
  ASSERT_TRUE(WaitUntil([&] { return Started("bake"); })) << first->Err();
  EXPECT_EQ(Kiln({"pipeline", "stop", id, "--abandon"}).exit_code, 0);
  EXPECT_EQ(first->Wait(20).exit_code, 1);
  fs::remove(Times());
  std::vector<std::unique_ptr<BackgroundProcess>> retries;
  for (int i = 0; i < 4; ++i) {
    retries.push_back(StartKiln(
        {"--json", "--state-dir", state_.string(), "--config", (tmp_.path() / "kiln.yml").string(),
         "pipeline", "retry", id, "--stage", "Build"},
        tmp_.path()));
  }
  ASSERT_TRUE(WaitUntil([&] { return Started("bake"); }))
      << retries[0]->Err() << retries[1]->Err() << retries[2]->Err() << retries[3]->Err();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // room for a second build
  tmp_.Write("gate", "");
  int succeeded = 0;
  for (auto& retry : retries) {
    auto r = retry->Wait(30);
    succeeded += r.exit_code == 0;
  }
  EXPECT_EQ(succeeded, 1);
  std::string times = ReadText(Times());
  size_t starts = 0;
  for (size_t at = 0; (at = times.find(" start ", at)) != std::string::npos; ++at) ++starts;
  EXPECT_EQ(starts, 1u) << times;
}

// Regression: a refused retry removed the running execution's work folder (its build's
// source) on the way out.
TEST_F(PipelineTest, RefusedRetryLeavesTheRunningExecutionAlone) {
  Commit({{"timed.yml", kTimedBuildspec}}, "timed");
  TimedProject("timed", "0", tmp_.path() / "gate");
  Pipeline("busy",
           {SourceStage(), Stage("Build", {BuildAction("bake", "timed", {{"LABEL", "bake"}})})});
  auto run = StartRun("busy");
  std::string id = WaitForExecution("busy", 1);
  ASSERT_TRUE(WaitUntil([&] { return Started("bake"); })) << run->Err();
  auto retry = Kiln({"pipeline", "retry", id, "--stage", "Build"});
  EXPECT_EQ(retry.exit_code, 1);
  EXPECT_TRUE(Contains(retry.err, "is InProgress")) << retry.err;
  EXPECT_TRUE(fs::is_directory(state_ / "executions" / id));
  tmp_.Write("gate", "");
  auto r = run->Wait(60);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Parse(r)["status"], "Succeeded");
}

// AWS-SEMANTICS.md 2.4: a newer execution entering a failed stage supersedes the failed one,
// which can no longer be retried (it would build older code after newer code).
TEST_F(PipelineTest, FailedExecutionIsNotRetriedAfterANewerOneEnteredItsStage) {
  Commit({{"buildspec.yml",
           "version: 0.2\nphases:\n  build:\n    commands:\n"
           "      - test \"$SHOULD_FAIL\" != 1\n"}},
         "flaky build");
  Project("flaky", "buildspec.yml", {{"SHOULD_FAIL", "1"}});
  Pipeline("flaky", {SourceStage(), Stage("Build", {BuildAction("bake", "flaky", {})})});
  auto failed = Kiln({"pipeline", "run", "flaky"});
  EXPECT_EQ(failed.exit_code, 1);
  std::string old_id = Parse(failed)["pipelineExecutionId"];
  Project("flaky", "buildspec.yml", {{"SHOULD_FAIL", "0"}});
  EXPECT_EQ(Kiln({"pipeline", "run", "flaky"}).exit_code, 0);
  auto retry = Kiln({"pipeline", "retry", old_id, "--stage", "Build"});
  EXPECT_EQ(retry.exit_code, 1);
  EXPECT_TRUE(Contains(retry.err, "newer execution")) << retry.err;
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

}  // namespace
}  // namespace kiln::e2e
