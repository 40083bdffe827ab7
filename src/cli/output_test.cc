// The CLI's human output and its options, without a server or a store.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/api_client.h"
#include "cli/context.h"
#include "cli/pipeline_output.h"

namespace kiln::cli {
namespace {

using nlohmann::json;

json RunningExecution() {
  return json::parse(R"({
    "pipelineExecutionId": "e-1", "pipelineName": "web", "pipelineVersion": 3,
    "status": "InProgress", "statusSummary": "",
    "stageStates": [
      {"stageName": "Source", "latestExecution": {"status": "Succeeded"},
       "actionStates": [{"actionName": "Source",
                         "latestExecution": {"status": "Succeeded",
                                             "summary": "fix: the header\nlong body"}}]},
      {"stageName": "Approve", "latestExecution": {"status": "InProgress"},
       "actionStates": [{"actionName": "Gate",
                         "latestExecution": {"status": "InProgress", "token": "tok-9"}}]},
      {"stageName": "Deploy", "actionStates": [{"actionName": "ecs"}]}
    ]})");
}

TEST(ExecutionTableTest, ShowsEveryStageWithNotStartedOnesAndTheApprovalToken) {
  std::string table = ExecutionTable(RunningExecution(), false);
  EXPECT_NE(table.find("Deploy"), std::string::npos);
  EXPECT_NE(table.find("not started"), std::string::npos) << table;
  EXPECT_NE(table.find("waiting for approval, token tok-9"), std::string::npos) << table;
  EXPECT_NE(table.find("fix: the header"), std::string::npos);
  EXPECT_EQ(table.find("long body"), std::string::npos) << "only a summary's first line";
  EXPECT_NE(table.find("Execution e-1 of web (version 3): InProgress"), std::string::npos) << table;
  EXPECT_EQ(table.find("\033["), std::string::npos) << "no colour codes when not asked";
}

TEST(ExecutionTableTest, ColoursStatusesOnlyWhenAskedAndSurvivesJunk) {
  std::string table = ExecutionTable(RunningExecution(), true);
  EXPECT_NE(table.find("\033[32mSucceeded\033[0m"), std::string::npos);
  EXPECT_NE(table.find("\033[2mnot started\033[0m"), std::string::npos);
  // Whatever the server answers, the table is drawn (with what can be read) and never throws.
  for (const char* junk : {"null", "[]", R"({"stageStates": 7})",
                           R"({"stageStates": [1, {"actionStates": "x"}], "status": 5})"}) {
    std::string t = ExecutionTable(json::parse(junk), false);
    EXPECT_NE(t.find("STAGE"), std::string::npos) << junk;
    EXPECT_NE(t.find("(version ?)"), std::string::npos) << junk;
  }
}

TEST(LiveLinesTest, PrintsEachTransitionOnItsOwnLineAndKeepsTheExecutionId) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  LiveLines live(p[1], false);
  live.OnExecution("e-7", "InProgress", "");
  live.OnStage("Build", "InProgress");
  live.OnAction("Build", "bake", "Failed", "Build b:1 FAILED\nsecond line");
  live.OnExecution("e-8", "Failed", "Action bake failed");
  ::close(p[1]);
  std::string out(4096, '\0');
  out.resize(static_cast<size_t>(::read(p[0], out.data(), out.size())));
  ::close(p[0]);
  EXPECT_EQ(out,
            "execution e-7: InProgress\n"
            "stage Build: InProgress\n"
            "  [Build] bake: Failed (Build b:1 FAILED)\n"
            "execution e-8: Failed (Action bake failed)\n");
  EXPECT_EQ(live.execution_id(), "e-7") << "the first execution named is the one run";
}

TEST(ApiClientTest, TakesOnlyAnHttpServerAddress) {
  GlobalOptions g;
  g.server = "http://127.0.0.1:8080";
  auto ok = ApiClient::FromGlobal(g);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->url(), "http://127.0.0.1:8080");
  for (const char* bad : {"ftp://127.0.0.1:21", "127.0.0.1:8080", "https//x"}) {
    g.server = bad;
    auto refused = ApiClient::FromGlobal(g);
    EXPECT_FALSE(refused.ok()) << bad;
    if (!refused.ok()) {
      EXPECT_EQ(refused.status().kind(), base::ErrorKind::kInvalidInput) << bad;
    }
  }
}

TEST(ContextTest, StateDirComesFromTheFlagFirst) {
  GlobalOptions g;
  g.state_dir = "/tmp/kiln-flag-state";
  EXPECT_EQ(StateDir(g), std::filesystem::path("/tmp/kiln-flag-state"));
  GlobalOptions color;
  color.no_color = true;
  EXPECT_FALSE(UseColor(color, STDOUT_FILENO));
}

}  // namespace
}  // namespace kiln::cli
