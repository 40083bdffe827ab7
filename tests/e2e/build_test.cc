// `kiln build` end to end: the real binary, a real shell, real files. Each test writes a
// buildspec into a temp dir, runs `kiln --json build`, and asserts the CodeBuild record.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness.h"

namespace kiln::e2e {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

class BuildTest : public ::testing::Test {
 protected:
  // Runs `kiln --json build` on the temp dir with buildspec text; parses stdout.
  json Build(const std::string& buildspec, std::vector<std::string> extra = {},
             std::vector<std::string> env = {}) {
    tmp_.Write("src/buildspec.yml", buildspec);
    std::vector<std::string> args = {"--json", "--state-dir", (tmp_.path() / "state").string(),
                                     "build", (tmp_.path() / "src").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    last_ = RunKiln(args, tmp_.path(), env);
    auto doc = json::parse(last_.out, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << "stdout is not JSON: " << last_.out << last_.err;
    return doc;
  }
  // phaseType -> phaseStatus, in order.
  static std::vector<std::pair<std::string, std::string>> Phases(const json& b) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& p : b["phases"]) {
      out.emplace_back(p["phaseType"], p.value("phaseStatus", ""));
    }
    return out;
  }
  static std::string Exported(const json& b, const std::string& name) {
    for (const auto& v : b["exportedEnvironmentVariables"]) {
      if (v["name"] == name) return v["value"];
    }
    return "<absent>";
  }
  std::string Log(const json& b) { return ReadText(b["logs"]["path"].get<std::string>()); }

  TempDir tmp_;
  RunResult last_;
};

using P = std::vector<std::pair<std::string, std::string>>;
const P kHead = {{"SUBMITTED", "SUCCEEDED"},
                 {"QUEUED", "SUCCEEDED"},
                 {"PROVISIONING", "SUCCEEDED"},
                 {"DOWNLOAD_SOURCE", "SUCCEEDED"}};

P With(P tail) {
  P out = kHead;
  out.insert(out.end(), tail.begin(), tail.end());
  out.push_back({"FINALIZING", "SUCCEEDED"});
  out.push_back({"COMPLETED", ""});
  return out;
}

TEST_F(BuildTest, AllPhasesSucceedInOrder) {
  auto b = Build(R"Y(version: 0.2
phases:
  build:
    commands: [echo built]
  pre_build:
    commands: [echo pre]
)Y");
  EXPECT_EQ(last_.exit_code, 0) << last_.err;
  EXPECT_EQ(b["buildStatus"], "SUCCEEDED");
  EXPECT_EQ(Phases(b), With({{"INSTALL", "SUCCEEDED"},
                             {"PRE_BUILD", "SUCCEEDED"},
                             {"BUILD", "SUCCEEDED"},
                             {"POST_BUILD", "SUCCEEDED"},
                             {"UPLOAD_ARTIFACTS", "SUCCEEDED"}}));
  std::string log = Log(b);
  EXPECT_LT(log.find("] pre\n"), log.find("] built\n"));      // map order is not run order
  EXPECT_NE(last_.err.find("] built\n"), std::string::npos);  // the log streams to stderr
}

TEST_F(BuildTest, InstallFailureSkipsToFinalizing) {
  auto b = Build(R"Y(version: 0.2
phases:
  install: {commands: ["false"], finally: [echo install-finally]}
  pre_build: {commands: [echo never]}
  build: {commands: [echo never]}
  post_build: {commands: [echo never]}
artifacts: {files: [nothing]}
)Y");
  EXPECT_EQ(last_.exit_code, 1);
  EXPECT_EQ(b["buildStatus"], "FAILED");
  EXPECT_EQ(Phases(b), With({{"INSTALL", "FAILED"}}));
  EXPECT_EQ(b["phases"][4]["contexts"][0]["statusCode"], "COMMAND_EXECUTION_ERROR");
  EXPECT_EQ(b["phases"][4]["contexts"][0]["message"],
            "Error while executing command: false. Reason: exit status 1");
  std::string log = Log(b);
  EXPECT_NE(log.find("] install-finally\n"), std::string::npos);
  EXPECT_EQ(log.find("never"), log.rfind("never"));  // only in "Running command" lines: none
  EXPECT_EQ(log.find("] never\n"), std::string::npos);
}

TEST_F(BuildTest, PreBuildFailureSkipsToFinalizing) {
  auto b = Build(R"Y(version: 0.2
phases:
  pre_build: {commands: ["exit 4"]}
  build: {commands: [echo never]}
)Y");
  EXPECT_EQ(Phases(b), With({{"INSTALL", "SUCCEEDED"}, {"PRE_BUILD", "FAILED"}}));
  EXPECT_EQ(b["phases"][5]["contexts"][0]["message"],
            "Error while executing command: exit 4. Reason: exit status 4");
}

TEST_F(BuildTest, BuildFailureStillRunsPostBuildAndUpload) {
  auto b = Build(R"Y(version: 0.2
phases:
  build:
    commands:
      - echo one > out.txt
      - "false"
      - echo skipped-command
  post_build:
    commands:
      - echo "succeeding=$CODEBUILD_BUILD_SUCCEEDING"
artifacts:
  files: [out.txt]
)Y",
                 {"-o", (tmp_.path() / "out").string()});
  EXPECT_EQ(last_.exit_code, 1);
  EXPECT_EQ(b["buildStatus"], "FAILED");
  EXPECT_EQ(Phases(b), With({{"INSTALL", "SUCCEEDED"},
                             {"PRE_BUILD", "SUCCEEDED"},
                             {"BUILD", "FAILED"},
                             {"POST_BUILD", "SUCCEEDED"},
                             {"UPLOAD_ARTIFACTS", "SUCCEEDED"}}));
  std::string log = Log(b);
  EXPECT_NE(log.find("] succeeding=0\n"), std::string::npos);
  EXPECT_EQ(log.find("] skipped-command"), std::string::npos);
  EXPECT_EQ(ReadText(tmp_.path() / "out" / "out.txt"), "one\n");
}

TEST_F(BuildTest, PostBuildFailureStillUploads) {
  auto b = Build(R"Y(version: 0.2
phases:
  build: {commands: [echo x > a.txt]}
  post_build: {commands: ["exit 2"]}
artifacts: {files: [a.txt]}
)Y");
  EXPECT_EQ(Phases(b), With({{"INSTALL", "SUCCEEDED"},
                             {"PRE_BUILD", "SUCCEEDED"},
                             {"BUILD", "SUCCEEDED"},
                             {"POST_BUILD", "FAILED"},
                             {"UPLOAD_ARTIFACTS", "SUCCEEDED"}}));
  EXPECT_EQ(b["artifacts"]["files"], json::array({"a.txt"}));
}

TEST_F(BuildTest, FinallyRunsAndItsFailureFailsThePhase) {
  auto b = Build(R"Y(version: 0.2
phases:
  install:
    commands: [echo ok]
    finally: ["false", echo after-failed-finally]
)Y");
  EXPECT_EQ(Phases(b), With({{"INSTALL", "FAILED"}}));
  EXPECT_EQ(Log(b).find("] after-failed-finally"), std::string::npos);
}

TEST_F(BuildTest, OnFailureAbortStopsAtOnce) {
  auto b = Build(R"Y(version: 0.2
phases:
  build: {on-failure: ABORT, commands: ["false"]}
  post_build: {commands: [echo never]}
)Y");
  EXPECT_EQ(Phases(b),
            With({{"INSTALL", "SUCCEEDED"}, {"PRE_BUILD", "SUCCEEDED"}, {"BUILD", "FAILED"}}));
}

TEST_F(BuildTest, OnFailureContinueRunsNextPhaseButBuildFails) {
  auto b = Build(R"Y(version: 0.2
phases:
  pre_build: {on-failure: CONTINUE, commands: ["false"]}
  build: {commands: ["echo build-ran succeeding=$CODEBUILD_BUILD_SUCCEEDING"]}
)Y");
  EXPECT_EQ(b["buildStatus"], "FAILED");
  EXPECT_EQ(Phases(b), With({{"INSTALL", "SUCCEEDED"},
                             {"PRE_BUILD", "FAILED"},
                             {"BUILD", "SUCCEEDED"},
                             {"POST_BUILD", "SUCCEEDED"},
                             {"UPLOAD_ARTIFACTS", "SUCCEEDED"}}));
  EXPECT_NE(Log(b).find("] build-ran succeeding=0\n"), std::string::npos);
}

TEST_F(BuildTest, OnFailureRetryReRunsTheBuild) {
  // Fails twice, then succeeds: a counter file in the workspace survives the retries.
  auto b = Build(R"Y(version: 0.2
phases:
  build:
    on-failure: RETRY-3
    commands:
      - echo x >> attempts
      - '[ $(wc -l < attempts) -ge 3 ]'
)Y");
  EXPECT_EQ(b["buildStatus"], "SUCCEEDED") << Log(b);
  EXPECT_EQ(b["attempts"], 3);
}

TEST_F(BuildTest, OnFailureRetryStopsWhenTheRegexDoesNotMatch) {
  auto b = Build(R"Y(version: 0.2
phases:
  build:
    on-failure: RETRY-3-timeout
    commands: ["exit 1"]
)Y");
  EXPECT_EQ(b["buildStatus"], "FAILED");
  EXPECT_EQ(b["attempts"], 1);
}

TEST_F(BuildTest, OneShellSessionAcrossCommandsAndPhases) {
  auto b = Build(R"Y(version: 0.2
env:
  exported-variables: [EXPORTED, PLAIN, WHERE]
phases:
  install:
    commands:
      - mkdir -p deep/dir && cd deep/dir
      - export EXPORTED=from-install
      - PLAIN="plain value"
  pre_build:
    commands:
      - exit 0
  build:
    commands:
      - WHERE=$(basename "$(pwd)")
      - sh -c 'echo "child sees [$EXPORTED] [$PLAIN]"'
)Y");
  EXPECT_EQ(b["buildStatus"], "SUCCEEDED") << Log(b);
  EXPECT_EQ(Exported(b, "EXPORTED"), "from-install");
  EXPECT_EQ(Exported(b, "PLAIN"), "plain value");
  EXPECT_EQ(Exported(b, "WHERE"), "dir");
  EXPECT_NE(Log(b).find("] child sees [from-install] []\n"), std::string::npos);
}

TEST_F(BuildTest, ExitInACommandFailsTheCommandNotTheBuildProcess) {
  auto b = Build(R"Y(version: 0.2
phases:
  build:
    commands: ["exit 3"]
  post_build:
    commands: ["echo post-build-still-runs"]
)Y");
  EXPECT_EQ(b["phases"][6]["contexts"][0]["message"],
            "Error while executing command: exit 3. Reason: exit status 3");
  EXPECT_NE(Log(b).find("] post-build-still-runs\n"), std::string::npos);
}

TEST_F(BuildTest, MultiLineCommandIsOneCommand) {
  auto b = Build(R"Y(version: 0.2
phases:
  build:
    commands:
      - |
        false
        echo last-line-wins
)Y");
  EXPECT_EQ(b["buildStatus"], "SUCCEEDED");  // sh without set -e: only the last line counts
}

TEST_F(BuildTest, DefaultShellIsShAndBashCanBeChosen) {
  auto sh = Build("version: 0.2\nphases:\n  build:\n    commands: ['[[ 1 == 1 ]]']\n");
  EXPECT_EQ(sh["buildStatus"], "FAILED");
  auto bash = Build(
      "version: 0.2\nenv:\n  shell: bash\nphases:\n  build:\n    commands: ['[[ 1 == 1 ]]']\n");
  EXPECT_EQ(bash["buildStatus"], "SUCCEEDED");
}

TEST_F(BuildTest, EnvValuesAreLiteralAndOverridesWin) {
  auto b = Build(R"Y(version: 0.2
env:
  variables:
    LITERAL: "$HOME:/x"
    OVERRIDDEN: from-buildspec
    ACCOUNT: 010116213471
  exported-variables: [LITERAL, OVERRIDDEN, ACCOUNT]
phases:
  build: {commands: [echo ok]}
)Y",
                 {"-e", "OVERRIDDEN=from-command-line"});
  EXPECT_EQ(Exported(b, "LITERAL"), "$HOME:/x");
  EXPECT_EQ(Exported(b, "OVERRIDDEN"), "from-command-line");
  EXPECT_EQ(Exported(b, "ACCOUNT"), "010116213471");
}

TEST_F(BuildTest, CodebuildVariables) {
  ASSERT_EQ(RunProcess({"git", "init", "-q", "src"}, tmp_.path()).exit_code, 0);
  tmp_.Write("src/buildspec.yml", "x");
  ASSERT_EQ(RunProcess({"git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "m",
                        "--allow-empty"},
                       tmp_.path() / "src")
                .exit_code,
            0);
  std::string spec = R"Y(version: 0.2
env:
  exported-variables: [CODEBUILD_BUILD_ID, CODEBUILD_BUILD_NUMBER, CODEBUILD_SRC_DIR,
                       CODEBUILD_START_TIME, CODEBUILD_RESOLVED_SOURCE_VERSION,
                       CODEBUILD_BUILD_ARN, CODEBUILD_INITIATOR, CODEBUILD_BUILD_SUCCEEDING]
phases:
  build: {commands: ["test \"$(pwd)\" = \"$CODEBUILD_SRC_DIR\""]}
)Y";
  auto first = Build(spec, {"--project", "demo"});
  auto second = Build(spec, {"--project", "demo"});
  EXPECT_EQ(second["buildStatus"], "SUCCEEDED") << Log(second);
  std::string id = Exported(second, "CODEBUILD_BUILD_ID");
  EXPECT_EQ(id, second["id"]);
  EXPECT_TRUE(id.starts_with("demo:")) << id;
  EXPECT_EQ(id.size(), 5u + 36u);
  EXPECT_EQ(Exported(first, "CODEBUILD_BUILD_NUMBER"), "1");
  EXPECT_EQ(Exported(second, "CODEBUILD_BUILD_NUMBER"), "2");
  EXPECT_EQ(Exported(second, "CODEBUILD_BUILD_ARN"),
            "arn:aws:codebuild:local:000000000000:build/" + id);
  EXPECT_EQ(Exported(second, "CODEBUILD_START_TIME").size(), 13u);  // epoch milliseconds
  EXPECT_EQ(Exported(second, "CODEBUILD_BUILD_SUCCEEDING"), "1");
  auto head = RunProcess({"git", "rev-parse", "HEAD"}, tmp_.path() / "src");
  EXPECT_EQ(Exported(second, "CODEBUILD_RESOLVED_SOURCE_VERSION") + "\n", head.out);
  EXPECT_EQ(second["resolvedSourceVersion"].get<std::string>() + "\n", head.out);
  // The build ran in a fresh copy, not in the source dir.
  EXPECT_NE(Exported(second, "CODEBUILD_SRC_DIR"), (tmp_.path() / "src").string());
}

TEST_F(BuildTest, SecretsAndParametersAreResolvedAndMasked) {
  tmp_.Write("params.yml", "/app/db-url: postgres://user:hunter2@db/app\n");
  tmp_.Write("secrets.yml",
             "prod/api: '{\"token\": \"s3cr3t-t0ken-value\", \"user\": \"bob\"}'\n"
             "plain: whole-secret-text\n");
  auto b = Build(R"Y(version: 0.2
env:
  parameter-store:
    DB_URL: /app/db-url
  secrets-manager:
    TOKEN: prod/api:token
    WHOLE: plain
  exported-variables: [TOKEN]
phases:
  build:
    commands:
      - echo "db=$DB_URL token=$TOKEN whole=$WHOLE"
      - printf '%s' "$TOKEN" | head -c 7; sleep 0.3; printf '%s split\n' "$(printf '%s' "$TOKEN" | tail -c +8)"
)Y",
                 {"--params-file", (tmp_.path() / "params.yml").string(), "--secrets-file",
                  (tmp_.path() / "secrets.yml").string()});
  EXPECT_EQ(b["buildStatus"], "SUCCEEDED") << last_.err;
  std::string log = Log(b);
  EXPECT_NE(log.find("] db=*** token=*** whole=***\n"), std::string::npos) << log;
  EXPECT_NE(log.find("] *** split\n"), std::string::npos) << log;  // split across chunks
  for (std::string secret : {"hunter2", "s3cr3t", "whole-secret-text"}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret;
    EXPECT_EQ(last_.err.find(secret), std::string::npos) << secret;
    EXPECT_EQ(last_.out.find(secret), std::string::npos) << secret;
  }
  EXPECT_EQ(Exported(b, "TOKEN"), "***");
}

TEST_F(BuildTest, MissingSecretFailsProvisioning) {
  tmp_.Write("secrets.yml", "other: x\n");
  auto b = Build(
      "version: 0.2\nenv:\n  secrets-manager:\n    T: missing:key\nphases:\n"
      "  build: {commands: [echo x]}\n",
      {"--secrets-file", (tmp_.path() / "secrets.yml").string()});
  EXPECT_EQ(b["buildStatus"], "FAILED");
  EXPECT_EQ(b["phases"][2]["phaseType"], "PROVISIONING");
  EXPECT_EQ(b["phases"][2]["phaseStatus"], "FAILED");
  EXPECT_EQ(b["phases"][2]["contexts"][0]["statusCode"], "CLIENT_ERROR");
}

// Regression: `kiln build .` with the state dir inside the source copied the state dir into
// itself until the path was too long (the source "/x/." did not match the state dir "/x/st").
TEST_F(BuildTest, BuildOfDotLeavesTheStateDirInsideItOut) {
  for (std::string state : {".kiln", "./st"}) {
    std::string dir = "src-" + state.substr(state.rfind('/') + 1);
    tmp_.Write(dir + "/buildspec.yml",
               "version: 0.2\nphases:\n  build:\n    commands: [ls -a > listing.txt]\n"
               "artifacts:\n  files: [listing.txt]\n");
    auto r =
        RunKiln({"--json", "--state-dir", state, "build", ".", "-o", "out"}, tmp_.path() / dir);
    ASSERT_EQ(r.exit_code, 0) << state << ": " << r.out.substr(0, 2000) << r.err;
    std::string listing = ReadText(tmp_.path() / dir / "out" / "listing.txt");
    EXPECT_EQ(listing, ".\n..\nbuildspec.yml\nlisting.txt\n") << state;
  }
}

// --image asks for a container: with no engine there, the build fails in PROVISIONING and not
// one command runs on the host. (Builds that do run in a container: codebuild_engine_test.)
TEST_F(BuildTest, ImageWithoutAnEngineFailsInProvisioningAndRunsNothingHere) {
  fs::path marker = tmp_.path() / "ran-on-the-host";
  auto b = Build(
      "version: 0.2\nphases:\n  build:\n    commands:\n      - touch " + marker.string() + "\n",
      {"--image", "127.0.0.1:1/kiln/standard:1", "--compute-type", "BUILD_GENERAL1_MEDIUM"},
      {"DOCKER_HOST=unix://" + (tmp_.path() / "no-engine.sock").string()});
  EXPECT_EQ(last_.exit_code, 1) << last_.err;
  EXPECT_EQ(b["buildStatus"], "FAILED");
  std::string provisioning;
  for (const auto& p : b["phases"]) {
    if (p["phaseType"] == "PROVISIONING") provisioning = p.value("phaseStatus", "");
  }
  EXPECT_EQ(provisioning, "FAILED") << b.dump(2);
  EXPECT_NE(b.dump().find("DOCKER_HOST"), std::string::npos) << b.dump(2);
  EXPECT_FALSE(fs::exists(marker));
}

TEST_F(BuildTest, ContainerFlagsAreCheckedBeforeAnythingRuns) {
  tmp_.Write("src/buildspec.yml", "version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n");
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--state-dir", (tmp_.path() / "state").string(), "build",
                                     (tmp_.path() / "src").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunKiln(args, tmp_.path());
  };
  auto bogus = run({"--image", "x", "--compute-type", "BUILD_GENERAL1_HUGE"});
  EXPECT_EQ(bogus.exit_code, 2);
  EXPECT_NE(bogus.err.find("--compute-type BUILD_GENERAL1_HUGE"), std::string::npos) << bogus.err;
  auto no_image = run({"--privileged"});
  EXPECT_EQ(no_image.exit_code, 2);
  EXPECT_NE(no_image.err.find("give --image too"), std::string::npos) << no_image.err;
}

TEST_F(BuildTest, TimeoutKillsTheWholeTree) {
  auto b = Build(R"Y(version: 0.2
phases:
  build:
    commands:
      - (sleep 300; echo leaked) & echo $! > "$CODEBUILD_SRC_DIR/../../bg.pid"
      - sleep 300
  post_build:
    commands: [echo never]
)Y",
                 {"--timeout", "1s"});
  EXPECT_EQ(b["buildStatus"], "TIMED_OUT");
  EXPECT_EQ(last_.exit_code, 1);
  EXPECT_EQ(Phases(b),
            With({{"INSTALL", "SUCCEEDED"}, {"PRE_BUILD", "SUCCEEDED"}, {"BUILD", "TIMED_OUT"}}));
  std::string pid = ReadText(tmp_.path() / "state" / "workspaces" / "bg.pid");
  ASSERT_FALSE(pid.empty());
  EXPECT_FALSE(Running(std::stoi(pid))) << "background job " << pid << " survived";
  EXPECT_EQ(Log(b).find("leaked"), Log(b).rfind("leaked"));  // only the "Running command" line
}

TEST_F(BuildTest, SigtermStopsTheBuild) {
  tmp_.Write("src/buildspec.yml", "version: 0.2\nphases:\n  build:\n    commands: [sleep 300]\n");
  auto r = RunProcess({"timeout", "-s", "TERM", "1.5", KilnBinary(), "--json", "--state-dir",
                       (tmp_.path() / "state").string(), "build", (tmp_.path() / "src").string()},
                      tmp_.path());
  auto b = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(b.is_discarded()) << r.out << r.err;
  EXPECT_EQ(b["buildStatus"], "STOPPED");
  EXPECT_EQ(b["phases"][6]["phaseStatus"], "STOPPED");
}

TEST_F(BuildTest, ArtifactsWithBaseDirectoryDiscardPathsAndSecondaries) {
  auto b = Build(R"Y(version: 0.2
phases:
  build:
    commands:
      - mkdir -p dist-1/sub dist-1/skip docs
      - echo a > dist-1/a.txt; echo b > dist-1/sub/b.txt; echo s > dist-1/skip/s.txt
      - echo d > docs/readme.md
artifacts:
  base-directory: 'dist-*'
  files: ['**/*']
  exclude-paths: ['skip/**/*']
  secondary-artifacts:
    docs:
      files: [docs/*.md]
      discard-paths: yes
)Y",
                 {"-o", (tmp_.path() / "out").string()});
  EXPECT_EQ(b["buildStatus"], "SUCCEEDED") << Log(b);
  EXPECT_EQ(b["artifacts"]["files"], json::array({"a.txt", "sub/b.txt"}));
  EXPECT_EQ(b["secondaryArtifacts"][0]["artifactIdentifier"], "docs");
  EXPECT_EQ(b["secondaryArtifacts"][0]["files"], json::array({"readme.md"}));
  EXPECT_EQ(ReadText(tmp_.path() / "out" / "sub" / "b.txt"), "b\n");
  EXPECT_EQ(ReadText(tmp_.path() / "out" / "docs" / "readme.md"), "d\n");
}

TEST_F(BuildTest, ArtifactPatternMatchingNothingIsClientError) {
  auto b = Build(
      "version: 0.2\nphases:\n  build: {commands: [echo]}\n"
      "artifacts:\n  files: [missing.json]\n");
  EXPECT_EQ(b["buildStatus"], "FAILED");
  auto upload = b["phases"][8];
  EXPECT_EQ(upload["phaseType"], "UPLOAD_ARTIFACTS");
  EXPECT_EQ(upload["phaseStatus"], "FAILED");
  EXPECT_EQ(upload["contexts"][0]["statusCode"], "CLIENT_ERROR");
  EXPECT_NE(
      upload["contexts"][0]["message"].get<std::string>().find("no matching artifact paths found"),
      std::string::npos);
}

TEST_F(BuildTest, ArtifactsCannotEscapeTheWorkspace) {
  for (const char* files : {"../../../../etc/passwd", "/etc/passwd", "link"}) {
    auto b = Build(
        "version: 0.2\nphases:\n  build: {commands: [ln -sf /etc/passwd link]}\n"
        "artifacts:\n  files: ['" +
            std::string(files) + "']\n",
        {"-o", (tmp_.path() / "out").string()});
    EXPECT_EQ(b["buildStatus"], "FAILED") << files;
    EXPECT_EQ(b["phases"][8]["contexts"][0]["statusCode"], "CLIENT_ERROR") << files;
    EXPECT_FALSE(fs::exists(tmp_.path() / "out" / "passwd")) << files;
    EXPECT_FALSE(fs::exists(tmp_.path() / "out" / "link")) << files;
  }
}

TEST_F(BuildTest, ArtifactNameIsEvaluatedByTheShell) {
  auto b = Build(
      "version: 0.2\nphases:\n  build: {commands: [touch f, export V=7]}\n"
      "artifacts:\n  name: build-$V-$(echo x)\n  files: [f]\n");
  EXPECT_EQ(b["artifacts"]["overrideArtifactName"], "build-7-x");
}

TEST_F(BuildTest, ReportsAreSummarised) {
  auto b = Build(R"Y(version: 0.2
phases:
  build:
    commands:
      - mkdir -p r
      - printf '<testsuite><testcase classname="c" name="ok"/><testcase classname="c" name="bad"><failure/></testcase><testcase classname="c" name="skip"><skipped/></testcase></testsuite>' > r/junit.xml
reports:
  unit:
    files: ['r/*.xml']
)Y");
  ASSERT_EQ(b["reports"].size(), 1u);
  EXPECT_EQ(b["reports"][0]["total"], 3);
  EXPECT_EQ(b["reports"][0]["passed"], 1);
  EXPECT_EQ(b["reports"][0]["failed"], 1);
  EXPECT_EQ(b["reports"][0]["skipped"], 1);
}

TEST_F(BuildTest, CacheIsRestoredByTheNextBuild) {
  std::string spec = R"Y(version: 0.2
phases:
  build:
    commands:
      - 'if [ -f deps/cached.txt ]; then echo "cache hit: $(cat deps/cached.txt)"; else mkdir -p deps; echo v1 > deps/cached.txt; fi'
cache:
  key: deps-v1
  paths: ['deps/**/*']
)Y";
  auto first = Build(spec);
  EXPECT_EQ(Log(first).find("] cache hit: "), std::string::npos);
  auto second = Build(spec);
  EXPECT_NE(Log(second).find("] cache hit: v1\n"), std::string::npos) << Log(second);
}

TEST_F(BuildTest, InvalidBuildspecExitsTwoWithPosition) {
  tmp_.Write("src/buildspec.yml", "version: 0.2\nphases:\n  during_build:\n    commands: [x]\n");
  auto r = RunKiln(
      {"--state-dir", (tmp_.path() / "state").string(), "build", (tmp_.path() / "src").string()},
      tmp_.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("buildspec.yml:3:3: error:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("during_build"), std::string::npos) << r.err;
}

TEST_F(BuildTest, BatchBuildsAreRefusedClearly) {
  tmp_.Write("src/buildspec.yml",
             "version: 0.2\nbatch:\n  build-list:\n    - identifier: a\n"
             "phases:\n  build: {commands: [x]}\n");
  auto r = RunKiln({"build", (tmp_.path() / "src").string()}, tmp_.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("batch builds (build-list) are not supported yet"), std::string::npos)
      << r.err;
}

TEST_F(BuildTest, BuildspecYamlIsFoundWhenYmlIsAbsent) {
  tmp_.Write("src/buildspec.yaml", "version: 0.2\nphases:\n  build: {commands: [echo yaml]}\n");
  auto r = RunKiln({"--state-dir", "st", "build", "src"}, tmp_.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(BuildTest, GlobalOptionsWorkAfterTheSubcommand) {
  tmp_.Write("src/buildspec.yml", "version: 0.2\nphases:\n  build: {commands: [echo hi]}\n");
  auto r = RunKiln({"build", "src", "--json", "--state-dir", "st2"}, tmp_.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(json::parse(r.out, nullptr, false).is_discarded()) << r.out;
  EXPECT_TRUE(fs::exists(tmp_.path() / "st2" / "logs"));
}

}  // namespace
}  // namespace kiln::e2e
