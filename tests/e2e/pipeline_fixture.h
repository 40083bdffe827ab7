// Fixture for the `kiln pipeline` end-to-end tests: real git repositories, real builds,
// several kiln processes sharing one state directory. A test builds a repository with the git
// CLI, writes kiln.yml and a CodePipeline JSON definition, and asserts what `--json` reports.
//
// Timing: builds coordinate with the test through files (a times file each build appends
// "LABEL start|end NANOS" to, and a gate file a build waits for), so nothing depends on a
// sleep being long enough; every wait is bounded.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace kiln::e2e {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

inline constexpr char kArn[] = "arn:aws:codestar-connections:us-east-1:123456789012:connection/abc";

// Appends start/end stamps to $TIMES around an optional sleep and a wait for $GATE (at most
// 30 s). The pid line lets a test find the build's shell.
inline constexpr char kTimedBuildspec[] = R"Y(version: 0.2
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
inline json StageState(const json& e, const std::string& stage) {
  for (const auto& s : e.value("stageStates", json::array())) {
    if (s["stageName"] == stage) return s;
  }
  return nullptr;
}

inline json ActionState(const json& e, const std::string& stage, const std::string& action) {
  json s = StageState(e, stage);
  if (s.is_null()) return nullptr;
  for (const auto& a : s["actionStates"]) {
    if (a["actionName"] == action) return a;
  }
  return nullptr;
}

// A field of an action's latestExecution: "<absent>" for an action the state does not list,
// "<not started>" for one listed without a latestExecution (as AWS shows it).
inline std::string ActionLatest(const json& e, const std::string& stage, const std::string& action,
                                const char* field) {
  json a = ActionState(e, stage, action);
  if (a.is_null()) return "<absent>";
  if (!a.contains("latestExecution")) return "<not started>";
  return a["latestExecution"].value(field, "<no " + std::string(field) + ">");
}

inline std::string ActionStatus(const json& e, const std::string& stage,
                                const std::string& action) {
  return ActionLatest(e, stage, action, "status");
}

inline std::string ActionSummary(const json& e, const std::string& stage,
                                 const std::string& action) {
  return ActionLatest(e, stage, action, "summary");
}

// A stage listed (every stage of the definition is) that the execution never entered.
inline bool NotStarted(const json& stage) {
  return stage.is_object() && !stage.contains("latestExecution");
}

inline std::string OutputVariable(const json& e, const std::string& stage,
                                  const std::string& action, const std::string& name) {
  json a = ActionState(e, stage, action);
  if (a.is_null() || !a["outputVariables"].contains(name)) return "<absent>";
  return a["outputVariables"][name];
}

inline json Parse(const RunResult& r) {
  json doc = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << "stdout is not JSON: " << r.out << "\nstderr: " << r.err;
  return doc.is_discarded() ? json::object() : doc;
}

inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Pipeline definitions, CodePipeline JSON.
inline json SourceStage(const std::string& branch = "prod") {
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
inline json BuildAction(const std::string& name, const std::string& project,
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

inline json Stage(const std::string& name, json actions) {
  return {{"name", name}, {"actions", std::move(actions)}};
}

inline json ApprovalStage() {
  return Stage(
      "Approve",
      {{{"name", "Approval"},
        {"actionTypeId",
         {{"category", "Approval"}, {"owner", "AWS"}, {"provider", "Manual"}, {"version", "1"}}}}});
}

// A git repository (branches main and prod), a kiln.yml naming it as connection cruddur, and
// a state dir, all in one temp dir.
class PipelineFixture : public ::testing::Test {
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
    json connection = {{"url", repo_.string()}, {"arn", kArn}};
    connection.update(connection_extra_);
    json config = {{"connections", {{"cruddur", connection}}},
                   {"projects", projects_},
                   {"pipelines", pipelines_}};
    config.update(config_extra_);
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

  // Retries stage Build (action bake) of execution id, which must then succeed in place.
  RunResult RetryBuildSucceeds(const std::string& id) {
    auto retry = Kiln({"pipeline", "retry", id, "--stage", "Build"});
    json again = Parse(retry);
    EXPECT_EQ(retry.exit_code, 0) << retry.err;
    EXPECT_EQ(again["pipelineExecutionId"], id);
    EXPECT_EQ(again["status"], "Succeeded");
    EXPECT_EQ(StageState(again, "Build")["latestExecution"]["attempt"], 2);
    EXPECT_EQ(ActionStatus(again, "Build", "bake"), "Succeeded");
    return retry;
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
  json connection_extra_ = json::object();  // more keys for connection cruddur
  json config_extra_ = json::object();      // more top-level keys of kiln.yml
};

}  // namespace kiln::e2e
