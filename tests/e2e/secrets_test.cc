// Hardening, secrets: typed secrets (PARAMETER_STORE, SECRETS_MANAGER) of a pipeline's
// CodeBuild action and of an API build's overrides are masked in every output and never
// stored in clear; an empty webhook secret is refused; nothing under the state dir is open
// to group or other. See pipeline_fixture.h and server_fixture.h.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "server_fixture.h"

namespace kiln::e2e {
namespace {

constexpr char kDbValue[] = "db-pa55-canary";
constexpr char kTokenValue[] = "t0ken-canary";

// Echoes the typed variables, exports them, and a value that holds one.
constexpr char kEchoingBuildspec[] = R"Y(version: 0.2
env:
  exported-variables: [DB, TOKEN, DERIVED]
phases:
  build:
    commands:
      - echo "db=$DB token=$TOKEN"
      - export DERIVED="x-$TOKEN-y"
)Y";

json TypedVariables() {
  return json::array(
      {{{"name", "DB"}, {"value", "/app/db"}, {"type", "PARAMETER_STORE"}},
       {{"name", "TOKEN"}, {"value", "prod/api:token"}, {"type", "SECRETS_MANAGER"}}});
}

std::vector<std::string> SecretEnv() {
  return {std::string("KILN_TEST_DB=") + kDbValue,
          std::string("KILN_TEST_API={\"token\":\"") + kTokenValue + "\"}"};
}

// Every regular file under root with its text, for a search (kiln.db and its WAL included).
std::string AllFiles(const fs::path& root) {
  std::string all;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file() && !e.is_symlink())
      all += e.path().string() + "\n" + ReadText(e.path());
  }
  return all;
}

// Paths under root (root too) with a group or other permission bit, symlinks aside.
std::vector<std::string> OpenToOthers(const fs::path& root) {
  std::vector<std::string> found;
  auto check = [&](const fs::path& p) {
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0 && !S_ISLNK(st.st_mode) && (st.st_mode & 077) != 0) {
      found.push_back(p.string() + " " + std::to_string(st.st_mode & 0777));
    }
  };
  check(root);
  for (const auto& e : fs::recursive_directory_iterator(root)) check(e.path());
  return found;
}

class SecretsTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    config_extra_ = {{"parameters", {{"/app/db", {{"env", "KILN_TEST_DB"}}}}},
                     {"secrets", {{"prod/api", {{"env", "KILN_TEST_API"}}}}}};
    WriteConfig();
  }

  void ExpectNoSecretIn(const std::string& text, const std::string& where) {
    EXPECT_FALSE(Contains(text, kDbValue)) << where;
    EXPECT_FALSE(Contains(text, kTokenValue)) << where;
  }
};

TEST_F(SecretsTest, PipelineTypedSecretsAreMaskedInLogsVariablesRecordsAndStore) {
  Commit({{"secret.yml", kEchoingBuildspec},
          {"check.yml",
           "version: 0.2\nphases:\n  build:\n    commands:\n"
           "      - echo \"seen=$SEEN\"\n"}},
         "buildspecs");
  Project("secretive", "secret.yml");
  Project("check", "check.yml");
  json bake = BuildAction("bake", "secretive", {});
  bake["configuration"]["EnvironmentVariables"] = TypedVariables().dump();
  bake["namespace"] = "BuildVariables";
  json check = BuildAction("check", "check", {{"SEEN", "#{BuildVariables.TOKEN}"}});
  Pipeline("secretive", {SourceStage(), Stage("Build", {bake}), Stage("Check", {check})});

  auto run = Kiln({"pipeline", "run", "secretive"}, SecretEnv());
  json e = Parse(run);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(e["status"], "Succeeded");
  EXPECT_EQ(OutputVariable(e, "Build", "bake", "DB"), "***");
  EXPECT_EQ(OutputVariable(e, "Build", "bake", "TOKEN"), "***");
  EXPECT_EQ(OutputVariable(e, "Build", "bake", "DERIVED"), "x-***-y");
  std::string stored = AllFiles(state_);
  EXPECT_TRUE(Contains(stored, "db=*** token=***"));  // the build log
  EXPECT_TRUE(Contains(stored, "seen=***"));
  ExpectNoSecretIn(stored, "a file under the state dir");
  ExpectNoSecretIn(run.out + run.err, "kiln pipeline run");
  auto status = Kiln({"pipeline", "status", e["pipelineExecutionId"]});
  ExpectNoSecretIn(status.out + status.err, "kiln pipeline status");
  EXPECT_TRUE(Contains(status.out, "x-***-y"));
}

TEST_F(SecretsTest, ApiBuildTypedOverridesAreMaskedInTheAnswerLogAndStore) {
  tmp_.Write("secret.yml", kEchoingBuildspec);
  Project("secretive", "secret.yml");
  StartServer({}, SecretEnv());
  json body = {{"environmentVariablesOverride", TypedVariables()}};
  auto built = Post("/api/v1/projects/secretive/builds?wait=true", body.dump());
  ASSERT_TRUE(built.status == 200 || built.status == 201) << built.body;
  ExpectNoSecretIn(built.body, "the StartBuild answer");
  std::string id = built.Json()["build"]["id"];
  ASSERT_TRUE(WaitUntil([&] {
    return Get("/api/v1/builds/" + id).Json()["build"].value("buildStatus", "") == "SUCCEEDED";
  }));
  auto record = Get("/api/v1/builds/" + id);
  ExpectNoSecretIn(record.body, "GET /builds/{id}");
  EXPECT_TRUE(Contains(record.body, "x-***-y")) << record.body;
  auto log = Get("/api/v1/builds/" + id + "/log");
  EXPECT_TRUE(Contains(log.body, "db=*** token=***")) << log.body;
  ExpectNoSecretIn(log.body, "the log");
  ExpectNoSecretIn(AllFiles(state_), "a file under the state dir");
}

TEST_F(SecretsTest, ValidateRefusesAnEmptyWebhookSecretWithItsPosition) {
  tmp_.Write("bad/kiln.yml",
             "connections:\n  cruddur:\n    url: /srv/x\n    webhook_secret: \"\"\n");
  auto r = RunKiln({"validate", "bad/kiln.yml"}, tmp_.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err + r.out,
                       "bad/kiln.yml:4:21: error: connection 'cruddur': webhook_secret is empty"))
      << r.err << r.out;
}

TEST_F(SecretsTest, ServeRefusesAWebhookSecretThatResolvesEmpty) {
  auto r = RunKiln({"--state-dir", state_.string(), "--config", (tmp_.path() / "kiln.yml").string(),
                    "serve", "--listen", "127.0.0.1:0"},
                   tmp_.path(), {"KILN_TEST_WEBHOOK_SECRET="}, 30);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "connection 'cruddur': webhook_secret is empty")) << r.err;
  EXPECT_FALSE(Contains(r.out, "listening"));
}

TEST_F(SecretsTest, NothingUnderTheStateDirIsOpenToGroupOrOther) {
  fs::create_directories(state_ / "builds");
  fs::path old = tmp_.Write("state/builds/old-record.json", "{}");
  fs::permissions(old, fs::perms(0644));
  fs::permissions(state_, fs::perms(0755));
  fs::permissions(state_ / "builds", fs::perms(0755));
  tmp_.Write("src/buildspec.yml",
             "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi > made.txt\n"
             "artifacts:\n  files: [made.txt]\n");
  auto built = Kiln({"build", (tmp_.path() / "src").string()});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  EXPECT_EQ(fs::status(old).permissions(), fs::perms(0600));
  auto run = Kiln({"pipeline", "run", "backend-flask"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<std::string> open = OpenToOthers(state_);
  EXPECT_TRUE(open.empty()) << open.size() << " open, first: " << open.front();
}

}  // namespace
}  // namespace kiln::e2e
