// `kiln serve`: the REST API, auth, malformed requests, the CLI with --server, live logs,
// restarts (kill -9 and SIGTERM), and the double-trigger refusal.
#include "server_fixture.h"

namespace kiln::e2e {
namespace {

using ServerApi = ServerFixture;

std::string Hex256(const std::string& text) {
  // sha256 of the token, via the system's sha256sum (independent of Kiln's code).
  TempDir d;
  auto f = d.Write("t", text);
  auto r = RunProcess({"sha256sum", f.string()}, d.path());
  return r.out.substr(0, 64);
}

TEST_F(ServerApi, MutationsNeedATokenWithTheRole) {
  config_extra_ = {{"server",
                    {{"tokens",
                      {{{"name", "viewer"}, {"role", "read"}, {"sha256", Hex256("read-token")}},
                       {{"name", "ops"}, {"role", "operate"}, {"sha256", Hex256("ops-token")}}}}}}};
  WriteConfig();
  StartServer();
  const std::string target = "/api/v1/pipelines/backend-flask/executions";
  EXPECT_EQ(Http(port_, "POST", target, "{}").status, 401);
  EXPECT_EQ(Http(port_, "POST", target, "{}", {{"Authorization", "Bearer wrong"}}).status, 401);
  auto viewer = Http(port_, "POST", target, "{}", {{"Authorization", "Bearer read-token"}});
  EXPECT_EQ(viewer.status, 403) << viewer.body;
  auto ops = Http(port_, "POST", target, "{}", {{"Authorization", "Bearer ops-token"}});
  EXPECT_EQ(ops.status, 201) << ops.body;
  EXPECT_EQ(Get("/api/v1/pipelines").status, 200);  // reads are open by default
  // The CLI passes --token.
  auto cli = RunKiln(
      {"pipeline", "run", "backend-flask", "--server", Url(), "--token", "ops-token", "--json"},
      tmp_.path());
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(Parse(cli)["status"], "Succeeded");
  auto refused = RunKiln({"pipeline", "run", "backend-flask", "--server", Url()}, tmp_.path());
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_TRUE(Contains(refused.err, "needs a bearer token with role operate")) << refused.err;
}

TEST_F(ServerApi, MalformedRequestsGetA4xxAndTheServerStaysUp) {
  config_extra_ = {{"server", {{"limits", {{"header_timeout", "1s"}}}}}};
  WriteConfig();
  StartServer();
  const std::string t = "/api/v1/pipelines/backend-flask/executions";
  EXPECT_EQ(Post(t, "{not json").status, 400);
  EXPECT_EQ(Post(t, "[1,2]").status, 400);
  EXPECT_EQ(Http(port_, "POST", t, "a=b",
                 {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Authorization", "Bearer " + Token()}})
                .status,
            415);
  EXPECT_EQ(Post(t, R"({"variables": 3})").status, 400);
  EXPECT_EQ(Get("/api/v1/pipelines/nope/state").status, 404);
  EXPECT_EQ(Get("/api/v1/executions/nope").status, 404);
  EXPECT_EQ(Get("/api/v1/nothing").status, 404);
  std::string huge(40000, 'a');
  EXPECT_EQ(Http(port_, "GET", "/healthz", "", {{"X-Big", huge}}).status, 431);
  // A body larger than the limit is refused from its Content-Length, before it is read.
  const std::string auth = "Authorization: Bearer " + Token() +
                           "\r\nContent-Type: application/json\r\nHost: 127.0.0.1\r\n";
  std::string raw = RawExchange(
      port_, "POST " + t + " HTTP/1.1\r\n" + auth + "Content-Length: 900000000\r\n\r\n{");
  EXPECT_TRUE(Contains(raw, "413")) << raw;
  // Truncated body: the client goes away; nothing is started.
  RawExchange(port_, "POST " + t + " HTTP/1.1\r\n" + auth + "Content-Length: 100\r\n\r\n{\"va",
              200);
  std::string garbage = RawExchange(port_, "\x16\x03\x01 not http at all\r\n\r\n");
  EXPECT_TRUE(Contains(garbage, "400")) << garbage;
  // Slowloris: a head that never completes is cut off after the header timeout.
  auto begin = Clock::now();
  std::string slow = RawExchange(port_, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", 5000);
  EXPECT_LT(Clock::now() - begin, std::chrono::milliseconds(4000));
  EXPECT_EQ(Executions().size(), 0u);
  EXPECT_EQ(Get("/healthz").Json()["status"], "ok");
}

TEST_F(ServerApi, CliWorksThroughTheServer) {
  StartServer();
  auto run = RunKiln({"pipeline", "run", "backend-flask", "--server", Url()}, tmp_.path());
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_TRUE(Contains(run.out, "[bake] ")) << run.out;  // the build's log, live
  EXPECT_TRUE(Contains(run.out, "built " + RevParse("HEAD"))) << run.out;
  auto history = RunKiln({"pipeline", "history", "backend-flask", "--server", Url()}, tmp_.path());
  EXPECT_EQ(history.exit_code, 0) << history.err;
  EXPECT_TRUE(Contains(history.out, "Succeeded")) << history.out;
  auto list = RunKiln({"pipeline", "list", "--server", Url(), "--json"}, tmp_.path());
  EXPECT_EQ(Parse(list)["pipelines"][0]["latestExecutionStatus"], "Succeeded");
  json exec = Executions()[0];
  json full = Execution(exec["pipelineExecutionId"]);
  std::string build = ActionState(full, "Build", "bake")["latestExecution"]["externalExecutionId"];
  auto logs = RunKiln({"logs", build, "--server", Url()}, tmp_.path(), {});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_TRUE(Contains(logs.out, "built " + RevParse("HEAD"))) << logs.out;
  auto followed = RunKiln({"logs", build, "-f"}, tmp_.path(), {"KILN_SERVER=" + Url()});
  EXPECT_EQ(followed.out, logs.out);
  // The same JSON as in-process `--json`.
  auto remote =
      RunKiln({"pipeline", "status", exec["pipelineExecutionId"], "--json", "--server", Url()},
              tmp_.path());
  auto local = Kiln({"pipeline", "status", exec["pipelineExecutionId"]});
  EXPECT_EQ(Parse(remote), Parse(local));
}

// Seen by a new user: build log lines arrived after the output had moved on to the next stage.
// Each action's log is whole before its end is printed, and before the next action's log.
TEST_F(ServerApi, FollowKeepsEachActionsLogTogetherAndInOrder) {
  Commit({{"slow.yml",
           "version: 0.2\nphases:\n  build:\n    commands:\n"
           "      - for i in $(seq 1 40); do echo \"line $i\"; sleep 0.01; done\n"}},
         "a slow buildspec");
  Project("slow", "slow.yml");
  Pipeline("two", {SourceStage(), Stage("First", {BuildAction("one", "slow", {})}),
                   Stage("Second", {BuildAction("two", "slow", {})})});
  StartServer();
  auto run = RunKiln({"pipeline", "run", "two", "--server", Url(), "--no-color"}, tmp_.path());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string& out = run.out;
  size_t last_one = out.rfind("[one] ");
  size_t one_done = out.find("[First] one: Succeeded");
  size_t first_two = out.find("[two] ");
  ASSERT_NE(last_one, std::string::npos) << out;
  ASSERT_NE(one_done, std::string::npos) << out;
  ASSERT_NE(first_two, std::string::npos) << out;
  EXPECT_LT(last_one, one_done) << out;
  EXPECT_LT(one_done, first_two) << out;
  EXPECT_LT(out.rfind("[two] "), out.find("[Second] two: Succeeded")) << out;
  for (int i = 1; i <= 40; ++i) {  // whole and in order
    EXPECT_NE(out.find("[one] ", 0), std::string::npos);
    EXPECT_LT(out.find("line " + std::to_string(i) + "\n"),
              out.find("line " + std::to_string(i) + "\n", one_done))
        << i;
  }
}

TEST_F(ServerApi, BuildLogTailsLiveAndResumesFromLastEventId) {
  Project("printer", "printer.yml");
  tmp_.Write("printer.yml",
             "version: 0.2\nphases:\n  build:\n    commands:\n"
             "      - for i in $(seq 1 30); do echo line-$i; sleep 0.02; done\n");
  StartServer();
  auto started = Post("/api/v1/projects/printer/builds");
  ASSERT_EQ(started.status, 201) << started.body;
  std::string id = started.Json()["build"]["id"];
  std::string text, last_id;
  int events = 0;
  ReadEvents(port_, "/api/v1/builds/" + id + "/log", "",
             [&](const std::string& type, const std::string& eid, const std::string& data) {
               if (type == "end") return false;
               text += data + "\n";
               last_id = eid;
               return ++events < 1000;
             });
  for (int i = 1; i <= 30; ++i)
    EXPECT_TRUE(Contains(text, "line-" + std::to_string(i) + "\n")) << i;
  auto build = Get("/api/v1/builds/" + id).Json()["build"];
  EXPECT_EQ(build["buildStatus"], "SUCCEEDED");
  // Resuming from the middle gives exactly the rest.
  auto whole = Get("/api/v1/builds/" + id + "/log");
  EXPECT_EQ(whole.body, text);
  size_t half = whole.body.find("line-15\n") + 8;
  std::string rest;
  ReadEvents(port_, "/api/v1/builds/" + id + "/log", std::to_string(half),
             [&](const std::string& type, const std::string&, const std::string& data) {
               if (type == "end") return false;
               rest += data + "\n";
               return true;
             });
  EXPECT_EQ(rest, whole.body.substr(half));
  EXPECT_TRUE(last_id == std::to_string(whole.body.size())) << last_id;
}

TEST_F(ServerApi, RestartAfterKill9FailsTheRunningExecutionAndRunsTheQueuedOne) {
  Project("backend-flask", "buildspec.yml", {{"SLEEP", "30"}});
  StartServer({"--max-executions", "1"});
  auto first = Post("/api/v1/pipelines/backend-flask/executions");
  ASSERT_EQ(first.status, 201);
  std::string running = first.Json()["pipelineExecutionId"];
  ASSERT_TRUE(
      WaitUntil([&] { return ActionStatus(Execution(running), "Build", "bake") == "InProgress"; }));
  Project("backend-flask", "buildspec.yml", {{"SLEEP", "0"}});  // the next build is quick
  auto second = Post("/api/v1/pipelines/backend-flask/executions");
  std::string queued = second.Json()["pipelineExecutionId"];
  EXPECT_EQ(Execution(queued)["status"],
            "InProgress");  // waiting for a slot, as CodePipeline shows it
  for (const auto& stage : Execution(queued).value("stageStates", json::array())) {
    EXPECT_FALSE(stage.contains("latestExecution")) << stage.dump();  // no stage started
  }
  std::string build =
      ActionState(Execution(running), "Build", "bake")["latestExecution"]["externalExecutionId"];
  ASSERT_TRUE(
      WaitUntil([&] { return Contains(Get("/api/v1/builds/" + build + "/log").body, "sleep"); }));
  server_->Signal(SIGKILL);
  server_->Wait(10);
  StartServer({"--max-executions", "1"});
  json failed = Execution(running);
  EXPECT_EQ(failed["status"], "Failed");
  EXPECT_TRUE(Contains(failed.value("statusSummary", ""), "server restarted")) << failed.dump(2);
  EXPECT_TRUE(Contains(Get("/api/v1/builds/" + build + "/log").body, "Running command"))
      << "log kept";
  ASSERT_TRUE(WaitForStatus(queued, "Succeeded", 60000)) << Execution(queued).dump(2);
  // Nothing ran twice: two executions, the interrupted one not restarted.
  EXPECT_EQ(Executions().size(), 2u);
  EXPECT_EQ(Execution(running)["status"], "Failed");
}

TEST_F(ServerApi, SigtermLetsARunningBuildFinishWithinTheGrace) {
  Project("backend-flask", "buildspec.yml", {{"SLEEP", "1"}});
  StartServer();
  auto started = Post("/api/v1/pipelines/backend-flask/executions");
  std::string id = started.Json()["pipelineExecutionId"];
  ASSERT_TRUE(
      WaitUntil([&] { return ActionStatus(Execution(id), "Build", "bake") == "InProgress"; }));
  server_->Signal(SIGTERM);
  auto done = server_->Wait(30);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_TRUE(Contains(done.err, "shutting down")) << done.err;
  auto status = Kiln({"pipeline", "status", id});
  EXPECT_EQ(Parse(status)["status"], "Succeeded") << status.out;
}

TEST_F(ServerApi, ProjectWebhookOnThePipelinesBranchIsRefused) {
  projects_["backend-flask"]["webhook"] = {
      {"connection", "cruddur"},
      {"filter_groups",
       {{{{"type", "EVENT"}, {"pattern", "PUSH"}},
         {{"type", "HEAD_REF"}, {"pattern", "^refs/heads/prod$"}}}}}};
  WriteConfig();
  auto serve = RunKiln({"--state-dir", state_.string(), "serve", "--listen", "127.0.0.1:0"},
                       tmp_.path(), {std::string("KILN_TEST_WEBHOOK_SECRET=") + kSecret}, 30);
  EXPECT_EQ(serve.exit_code, 2) << serve.err;
  EXPECT_TRUE(Contains(serve.err, "project 'backend-flask' has its own webhook")) << serve.err;
  EXPECT_TRUE(Contains(serve.err, "pipeline 'backend-flask'")) << serve.err;
  auto validate = RunKiln({"validate", "kiln.yml"}, tmp_.path(),
                          {std::string("KILN_TEST_WEBHOOK_SECRET=") + kSecret});
  EXPECT_EQ(validate.exit_code, 2) << validate.out << validate.err;
  EXPECT_TRUE(Contains(validate.err + validate.out, "would build twice")) << validate.err;
}

}  // namespace
}  // namespace kiln::e2e

namespace kiln::e2e {
namespace {

TEST_F(ServerApi, WebUiPageIsServedAndReadsThePublicApi) {
  StartServer();
  auto page = Get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_TRUE(Contains(page.headers["content-type"], "text/html")) << page.headers["content-type"];
  EXPECT_TRUE(Contains(page.body, "<script type=\"module\" src=\"/ui.js\">")) << page.body;
  // No inline code: the policy forbids it, so an injected <script> or onclick= cannot run.
  EXPECT_FALSE(Contains(page.body, "onclick")) << page.body;
  EXPECT_TRUE(Contains(page.headers["content-security-policy"], "script-src 'self'"))
      << page.headers["content-security-policy"];
  EXPECT_EQ(page.headers["x-frame-options"], "DENY");
  EXPECT_EQ(page.headers["x-content-type-options"], "nosniff");
  auto script = Get("/ui.js");
  EXPECT_TRUE(Contains(script.headers["content-type"], "javascript"));
  EXPECT_TRUE(Contains(script.body, "new EventSource('/api/v1/events')"))
      << script.body.substr(0, 200);
  EXPECT_TRUE(Contains(script.body, "fetch('/api/v1'")) << script.body.substr(0, 200);
  EXPECT_FALSE(Contains(script.body, "onclick=")) << script.body;
  EXPECT_TRUE(Contains(Get("/ui.css").headers["content-type"], "text/css"));
  // What the page reads answers, with no token needed for reads.
  EXPECT_EQ(Get("/api/v1/services").Json()["services"].size(), 0u);
  EXPECT_EQ(Get("/api/v1/pipelines").Json()["pipelines"][0]["name"], "backend-flask");
}

}  // namespace
}  // namespace kiln::e2e

namespace kiln::e2e {
namespace {

TEST_F(ServerApi, ScheduleStartsThePipelineOnTheMinute) {
  config_extra_ = {
      {"schedules",
       {{"every-minute", {{"pipeline", "backend-flask"}, {"expression", "rate(1 minute)"}}}}}};
  WriteConfig();
  StartServer();
  // rate(1 minute) fires at the next whole minute (UTC), so within 61 s.
  ASSERT_TRUE(WaitUntil([&] { return Executions().size() >= 1; }, 65000));
  json e = Execution(Executions()[0]["pipelineExecutionId"]);
  EXPECT_EQ(e["trigger"]["triggerType"], "CloudWatchEvent");
  EXPECT_TRUE(Contains(e["trigger"]["triggerDetail"], "schedule every-minute")) << e.dump(2);
  EXPECT_EQ(Executions().size(), 1u);
  auto bad = RunKiln({"validate", "kiln.yml"}, tmp_.path());
  EXPECT_EQ(bad.exit_code, 0) << bad.err;
  config_extra_["schedules"]["every-minute"]["expression"] = "61 * * * *";
  config_extra_["schedules"]["nightly"] = {{"pipeline", "nope"}, {"expression", "0 3 * * *"}};
  WriteConfig();
  bad = RunKiln({"validate", "kiln.yml"}, tmp_.path());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(Contains(bad.out + bad.err, "schedules.every-minute.expression: minute"))
      << bad.out << bad.err;
  EXPECT_TRUE(Contains(bad.out + bad.err, "names pipeline 'nope'")) << bad.out << bad.err;
}

}  // namespace
}  // namespace kiln::e2e
