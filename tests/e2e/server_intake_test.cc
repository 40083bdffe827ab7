// `kiln serve` against hostile input: request bodies whose fields have the wrong type answer
// 400 naming the field, and rows written straight into kiln.db (wrong types, not JSON, huge,
// empty or "..'" ids, unknown statuses) fail with a reason at the next start instead of
// killing the daemon at every restart.
#include "server_fixture.h"

namespace kiln::e2e {
namespace {

using ServerIntake = ServerFixture;

// Runs SQL on the stopped server's database with the sqlite3 shell (not Kiln's code).
std::string Sql(const fs::path& db, const std::string& sql) {
  auto r = RunProcess({"sqlite3", db.string(), sql}, db.parent_path());
  EXPECT_EQ(r.exit_code, 0) << sql << "\n" << r.err;
  return r.out;
}

std::string BuildId(char digit) {
  return "backend-flask:" + std::string(8, digit) + "-0000-4000-8000-000000000000";
}
std::string ExecutionId(char digit) {
  return std::string(8, digit) + "-0000-4000-8000-000000000000";
}

TEST_F(ServerIntake, WrongTypedBodiesAnswer400NamingTheFieldAndTheServerStaysUp) {
  StartServer();
  auto started = Post("/api/v1/pipelines/backend-flask/executions");
  ASSERT_EQ(started.status, 201) << started.body;
  std::string id = started.Json()["pipelineExecutionId"];
  ASSERT_TRUE(WaitForStatus(id, "Succeeded"));
  struct Case {
    std::string target, body, message;
  };
  const std::string exec = "/api/v1/executions/" + id;
  const std::vector<Case> cases = {
      {exec + "/stop", R"({"abandon":"yes"})", "field 'abandon': expected a boolean, got string"},
      {exec + "/retry", R"({"stageName":"Build","retryMode":5})",
       "field 'retryMode': expected one of FAILED_ACTIONS, ALL_ACTIONS, got number"},
      {exec + "/approve", R"({"summary":["ok"]})", "field 'summary': expected a string, got array"},
      {"/api/v1/pipelines/backend-flask/executions", R"({"variables":[{"name":"A","value":5}]})",
       "field 'variables[0].value': expected a string, got number"},
      {"/api/v1/pipelines/backend-flask/executions", R"({"sourceRevisions":{"revisionValue":"x"}})",
       "field 'sourceRevisions': expected an array, got object"},
      {"/api/v1/projects/backend-flask/builds",
       R"({"environmentVariablesOverride":[{"name":5,"value":"x"}]})",
       "field 'environmentVariablesOverride[0].name': expected a string, got number"},
      {"/api/v1/projects/backend-flask/builds", R"({"environmentVariablesOverride":{"A":"1"}})",
       "field 'environmentVariablesOverride': expected an array, got object"},
      {"/api/v1/projects/backend-flask/builds", R"({"timeoutInMinutesOverride":99999})",
       "field 'timeoutInMinutesOverride': expected an integer from 5 to 2160, got 99999"},
      {"/api/v1/projects/backend-flask/builds",
       R"({"buildspecOverride":")" + std::string(600 * 1024, 'b') + R"("})",
       "field 'buildspecOverride': at most 524288 bytes, got 614400"},
      {"/api/v1/projects/backend-flask/builds", R"({"computeTypeOverride":"BUILD_GENERAL1_TINY"})",
       "field 'computeTypeOverride': expected one of BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM, "
       "BUILD_GENERAL1_LARGE, BUILD_GENERAL1_XLARGE, BUILD_GENERAL1_2XLARGE, got "
       "\"BUILD_GENERAL1_TINY\""},
      {"/api/v1/projects/backend-flask/builds", R"({"imageOverride":"busybox; rm -rf /"})",
       "field 'imageOverride': expected an image reference (REPOSITORY[:TAG] or "
       "REPOSITORY@DIGEST), got \"busybox; rm -rf /\""},
      {"/api/v1/projects/backend-flask/builds", R"({"privilegedModeOverride":"yes"})",
       "field 'privilegedModeOverride': expected a boolean, got string"},
      {"/api/v1/projects/backend-flask/builds",
       R"({"environmentTypeOverride":"WINDOWS_CONTAINER"})",
       "field 'environmentTypeOverride': expected one of LINUX_CONTAINER, got "
       "\"WINDOWS_CONTAINER\""},
  };
  for (const auto& c : cases) {
    auto r = Post(c.target, c.body);
    EXPECT_EQ(r.status, 400) << c.target << " " << c.body.substr(0, 100) << ": " << r.body;
    json j = r.Json();
    json error = j.is_object() ? j.value("error", json::object()) : json::object();
    EXPECT_EQ(error.value("code", ""), "bad_request") << r.body;
    EXPECT_EQ(error.value("message", ""), c.message) << r.body;
    ASSERT_EQ(Get("/healthz").status, 200) << "after " << c.body.substr(0, 100);
  }
  // Nothing was queued by a refused body: one execution, and its own build.
  EXPECT_EQ(Executions().size(), 1u);
  EXPECT_EQ(Get("/api/v1/projects/backend-flask/builds").Json()["builds"].size(), 1u);
  EXPECT_FALSE(server_->Exited());
}

// StartBuild's environment overrides win over the project's environment, and the build's
// record shows the environment it ran with (CodeBuild's Build.environment).
TEST_F(ServerIntake, EnvironmentOverridesReachTheBuildAndShowInItsRecord) {
  StartServer();
  json body = {
      {"buildspecOverride", "version: 0.2\nphases:\n  build:\n    commands:\n      - echo sized\n"},
      {"computeTypeOverride", "BUILD_GENERAL1_MEDIUM"},
      {"privilegedModeOverride", false},
      {"environmentTypeOverride", "LINUX_CONTAINER"}};
  auto started = Post("/api/v1/projects/backend-flask/builds?wait=true", body.dump());
  ASSERT_EQ(started.status, 200) << started.body;
  std::string id = started.Json()["build"]["id"];
  json build = Get("/api/v1/builds/" + id).Json()["build"];
  EXPECT_EQ(build["buildStatus"], "SUCCEEDED") << build.dump();
  EXPECT_EQ(build["environment"]["computeType"], "BUILD_GENERAL1_MEDIUM") << build.dump();
  EXPECT_EQ(build["environment"]["type"], "LINUX_CONTAINER");
  EXPECT_EQ(build["environment"]["privilegedMode"], false);
  EXPECT_EQ(build["environment"]["image"], "");  // no imageOverride: the host executor
  // Without overrides, the project's own (default) compute type.
  body.erase("computeTypeOverride");
  auto plain = Post("/api/v1/projects/backend-flask/builds?wait=true", body.dump());
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.Json()["build"]["environment"]["computeType"], "BUILD_GENERAL1_SMALL")
      << plain.body;
}

std::string Join(const std::vector<std::string>& rows) {
  std::string out;
  for (const auto& r : rows) out += (out.empty() ? "" : ", ") + r;
  return out;
}

std::string BuildRow(const std::string& id, const std::string& status, const std::string& record,
                     int start_ms) {
  return "('" + id + "', 'backend-flask', 0, '" + status + "', " + record + ", '', " +
         std::to_string(start_ms) + ")";
}

std::string ExecutionRow(const std::string& id, const std::string& pipeline,
                         const std::string& version, const std::string& status, int start_ms,
                         const std::string& start_json) {
  return "('" + id + "', '" + pipeline + "', " + version + ", '" + status + "', " +
         std::to_string(start_ms) + ", '" + start_json + "')";
}

// Rows a buggy older version, a hand edit or an attacker with the file could leave behind.
void InsertHostileRows(const fs::path& db) {
  Sql(db,
      "INSERT INTO builds (id, project, number, status, record_json, log_path, start_ms) "
      "VALUES " +
          Join({BuildRow(BuildId('1'), "QUEUED",
                         R"('{"environmentVariablesOverride":[{"name":5,"value":"x"}]}')", 1),
                BuildRow(BuildId('2'), "QUEUED", "'not json at all'", 2),
                BuildRow(BuildId('3'), "QUEUED", R"('{"timeoutInMinutesOverride":"60"}')", 3),
                BuildRow(BuildId('4'), "QUEUED",
                         "'{\"buildspecOverride\":\"' || hex(zeroblob(400000)) || '\"}'", 4),
                BuildRow("", "QUEUED", "'{}'", 5),
                BuildRow("backend-flask:..", "QUEUED", "'{}'", 6),
                BuildRow(BuildId('5'), "EXPLODING", "'{}'", 7),
                BuildRow(BuildId('6'), "IN_PROGRESS", "'[1,2'", 8),
                BuildRow(BuildId('9'), "QUEUED", R"('{"projectName":"backend-flask"}')", 100)}));
  // pipeline_version 'abc' is kept as text by SQLite and read back as 0.
  Sql(db,
      "INSERT INTO executions (id, pipeline, pipeline_version, status, start_ms, start_json) "
      "VALUES " +
          Join({ExecutionRow(ExecutionId('a'), "backend-flask", "1", "Queued", 1,
                             R"({"variables":{"A":5}})"),
                ExecutionRow(ExecutionId('b'), "backend-flask", "1", "Queued", 2, "{not json"),
                ExecutionRow("", "backend-flask", "1", "Queued", 3, "{}"),
                ExecutionRow(ExecutionId('c'), "backend-flask", "1", "Exploding", 4, "{}"),
                ExecutionRow(ExecutionId('d'), "no-such-pipeline", "'abc'", "Queued", 5, "{}"),
                ExecutionRow(ExecutionId('e'), "backend-flask", "1", "InProgress", 6, "{}")}));
}

TEST_F(ServerIntake, HostileStoredRowsFailWithAReasonAndTheDaemonRunsTheNextBuild) {
  // Builds without a source read the project's buildspec beside kiln.yml.
  tmp_.Write("buildspec.yml",
             "version: 0.2\nphases:\n  build:\n    commands:\n      - echo good\n");
  StartServer();  // creates kiln.db and stores the pipeline as version 1
  server_->Signal(SIGTERM);
  ASSERT_EQ(server_->Wait(30).exit_code, 0);
  fs::path db = state_ / "kiln.db";
  ASSERT_EQ(Sql(db, "SELECT version FROM pipelines WHERE name = 'backend-flask'"), "1\n");
  InsertHostileRows(db);

  StartServer();
  ASSERT_EQ(Get("/healthz").status, 200) << server_->Err();
  // The good build queued after them all runs.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Get("/api/v1/builds/" + BuildId('9')).Json()["build"].value("buildStatus", "") ==
               "SUCCEEDED";
      },
      60000))
      << Get("/api/v1/builds/" + BuildId('9')).body << server_->Err();
  EXPECT_TRUE(WaitUntil([&] {
    return Sql(db, "SELECT count(*) FROM builds WHERE status = 'QUEUED'") == "0\n";
  })) << Sql(db, "SELECT id, status FROM builds");
  auto reason = [&](char digit) {
    json b = Get("/api/v1/builds/" + BuildId(digit)).Json()["build"];
    EXPECT_EQ(b.value("buildStatus", ""), "FAILED") << digit << ": " << b;
    return b.value("statusReason", "");
  };
  EXPECT_EQ(reason('1'),
            "the stored build request is not valid: field "
            "'environmentVariablesOverride[0].name': expected a string, got number");
  EXPECT_EQ(reason('2'), "the stored build request is not valid: the text is not JSON");
  EXPECT_EQ(reason('3'),
            "the stored build request is not valid: field 'timeoutInMinutesOverride': expected "
            "an integer from 5 to 2160, got string");
  EXPECT_EQ(reason('4'),
            "the stored build request is not valid: field 'buildspecOverride': at most 524288 "
            "bytes, got 800000");
  EXPECT_EQ(reason('5'), "the stored build status is not a CodeBuild status");
  EXPECT_TRUE(Contains(reason('6'), "server restarted")) << reason('6');
  // Ids that cannot be named in a URL (or would name a folder outside the state dir).
  EXPECT_EQ(Sql(db,
                "SELECT status, json_extract(record_json, '$.statusReason') FROM builds "
                "WHERE id = ''"),
            "FAILED|the stored build id '' is not valid\n");
  EXPECT_EQ(Sql(db,
                "SELECT status, json_extract(record_json, '$.statusReason') FROM builds "
                "WHERE id = 'backend-flask:..'"),
            "FAILED|the stored build id 'backend-flask:..' is not valid\n");
  EXPECT_TRUE(fs::exists(db));

  auto summary = [&](char digit) {
    json e = Execution(ExecutionId(digit));
    EXPECT_EQ(e.value("status", ""), "Failed") << digit << ": " << e;
    return e.value("statusSummary", "");
  };
  EXPECT_TRUE(WaitUntil([&] {
    return Sql(db, "SELECT count(*) FROM executions WHERE status = 'Queued'") == "0\n";
  })) << Sql(db, "SELECT id, status FROM executions");
  EXPECT_EQ(summary('a'),
            "the stored start options are not valid: field 'variables.A': expected a string, "
            "got number");
  EXPECT_EQ(summary('b'), "the stored start options are not a JSON object");
  EXPECT_EQ(summary('c'), "the stored status 'Exploding' is not an execution status");
  EXPECT_EQ(summary('d'), "pipeline 'no-such-pipeline' version 0 is not known to this server");
  EXPECT_TRUE(Contains(summary('e'), "server restarted")) << summary('e');
  EXPECT_EQ(Sql(db, "SELECT status, summary FROM executions WHERE id = ''"),
            "Failed|the stored execution id '' is not valid\n");
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_FALSE(server_->Exited()) << server_->Err();
}

}  // namespace
}  // namespace kiln::e2e
