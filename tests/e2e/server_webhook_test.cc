// `kiln serve` and GitHub webhooks: the real payloads of ../shared/conformance/webhooks,
// re-signed and pointed at a local repository, start the right executions exactly once.
#include <future>

#include "server_fixture.h"

namespace kiln::e2e {
namespace {

using ServerWebhook = ServerFixture;

TEST_F(ServerWebhook, ConformancePushesStartOneExecutionEachAndOthersNone) {
  if (auto why = ConformanceMissing()) GTEST_SKIP() << *why;
  StartServer();
  // Each branch push gets its own new commit on prod; tags, deletions and PRs start nothing.
  struct Case {
    std::string event, file;
    bool starts;
  };
  const std::vector<Case> cases = {
      {"push", "octokit__webhooks__payload-examples_api.github.com_push_payload.json", false},
      {"push", "drone__go-scm__scm_driver_github_testdata_webhooks_push.json", true},
      {"push", "drone__go-scm__scm_driver_github_testdata_webhooks_push_branch_create.json", true},
      {"push", "drone__go-scm__scm_driver_github_testdata_webhooks_push_branch_delete.json", false},
      {"push", "drone__go-scm__scm_driver_github_testdata_webhooks_push_tag.json", false},
      {"push", "drone__go-scm__scm_driver_github_testdata_webhooks_push_tag_delete.json", false},
      {"push", "zulip__zulip__zerver_webhooks_github_fixtures_push__force_1_commit.json", true},
      {"push", "ailisp__reallyfastci__test_data_webhook_webhook-push-to-master.json", true},
      {"pull_request", "drone__go-scm__scm_driver_github_testdata_webhooks_pr_opened.json", false},
      {"pull_request", "ailisp__reallyfastci__test_data_webhook_webhook-pr-close.json", false},
      {"ping", "octokit__webhooks__payload-examples_api.github.com_ping_payload.json", false},
  };
  std::set<std::string> started_commits;
  int delivery = 0;
  for (const auto& c : cases) {
    json body = Payload(c.event, c.file);
    std::string commit;
    if (c.event == "push" && body["ref"].get<std::string>().starts_with("refs/heads/") &&
        !body.value("deleted", false)) {
      Commit({{"n", std::to_string(delivery)}}, "change " + std::to_string(delivery));
      commit = RevParse("HEAD");
      body["ref"] = "refs/heads/prod";
      body["after"] = commit;
    }
    auto r = Deliver(c.event, body.dump(), "delivery-" + std::to_string(++delivery));
    ASSERT_TRUE(r.status == 200 || r.status == 202) << c.file << ": " << r.status << r.body;
    json answer = r.Json();
    EXPECT_EQ(answer["executions"].size(), c.starts ? 1u : 0u) << c.file << ": " << r.body;
    EXPECT_EQ(r.status, c.starts ? 202 : 200) << c.file;
    if (c.starts) started_commits.insert(commit);
    if (c.event == "ping") {
      EXPECT_FALSE(answer.value("zen", "").empty()) << r.body;
    }
  }
  json list = Executions();
  ASSERT_EQ(list.size(), started_commits.size());
  // SUPERSEDED mode: an execution still waiting for Source when a newer one arrives is
  // superseded (CodePipeline); the newest always runs to the end.
  for (const auto& e : list) {
    std::string id = e["pipelineExecutionId"];
    ASSERT_TRUE(WaitUntil(
        [&] {
          std::string status = Execution(id).value("status", "");
          return status == "Succeeded" || status == "Superseded";
        },
        30000))
        << Execution(id).dump(2);
    json exec = Execution(id);
    EXPECT_EQ(exec["trigger"]["triggerType"], "Webhook");
    if (exec["status"] != "Succeeded") continue;
    std::string revision = exec["artifactRevisions"][0]["revisionId"];
    EXPECT_TRUE(started_commits.contains(revision)) << revision;
  }
  EXPECT_EQ(Execution(list[0]["pipelineExecutionId"])["status"], "Succeeded");
}

TEST_F(ServerWebhook, SameDeliveryTwentyTimesConcurrentlyStartsOne) {
  if (auto why = ConformanceMissing()) GTEST_SKIP() << *why;
  StartServer();
  json body = Payload("push", "drone__go-scm__scm_driver_github_testdata_webhooks_push.json");
  body["ref"] = "refs/heads/prod";
  body["after"] = RevParse("HEAD");
  std::string text = body.dump();
  std::vector<std::future<HttpReply>> replies;
  for (int i = 0; i < 20; ++i) {
    replies.push_back(
        std::async(std::launch::async, [&] { return Deliver("push", text, "same-id"); }));
  }
  int started = 0, duplicates = 0;
  for (auto& f : replies) {
    HttpReply r = f.get();
    ASSERT_TRUE(r.status == 202 || r.status == 200) << r.status << " " << r.body;
    if (r.Json()["outcome"] == "started") ++started;
    if (r.Json()["outcome"] == "duplicate") ++duplicates;
  }
  EXPECT_EQ(started, 1);
  EXPECT_EQ(duplicates, 19);
  // The same event under a new delivery id (a redelivery) starts nothing new either.
  auto again = Deliver("push", text, "another-id");
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Json()["alreadyStarted"].size(), 1u) << again.body;
  EXPECT_EQ(Executions().size(), 1u);
  auto metrics = Get("/metrics").body;
  EXPECT_TRUE(Contains(
      metrics, "kiln_webhook_deliveries_total{connection=\"cruddur\",outcome=\"duplicate\"} 19"))
      << metrics;
}

TEST_F(ServerWebhook, BadSignatureIsRefusedAndStartsNothing) {
  if (auto why = ConformanceMissing()) GTEST_SKIP() << *why;
  StartServer();
  json body = Payload("push", "drone__go-scm__scm_driver_github_testdata_webhooks_push.json");
  body["ref"] = "refs/heads/prod";
  body["after"] = RevParse("HEAD");
  auto r = Deliver("push", body.dump(), "bad-1", "not the secret");
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.Json()["error"]["code"], "bad_signature");
  auto unsigned_reply = Http(port_, "POST", "/webhooks/github/cruddur", body.dump(),
                             {{"X-GitHub-Event", "push"}, {"X-GitHub-Delivery", "bad-2"}});
  EXPECT_EQ(unsigned_reply.status, 401);
  auto unknown = Http(port_, "POST", "/webhooks/github/nope", body.dump(),
                      {{"X-GitHub-Event", "push"},
                       {"X-GitHub-Delivery", "bad-3"},
                       {"X-Hub-Signature-256", SignGithub(kSecret, body.dump())}});
  EXPECT_EQ(unknown.status, 404);
  // The signature covers the raw bytes: the same JSON re-serialised does not verify.
  std::string spaced = body.dump(1);
  auto tampered = Http(port_, "POST", "/webhooks/github/cruddur", spaced,
                       {{"X-GitHub-Event", "push"},
                        {"X-GitHub-Delivery", "bad-4"},
                        {"X-Hub-Signature-256", SignGithub(kSecret, body.dump())}});
  EXPECT_EQ(tampered.status, 401);
  EXPECT_EQ(Executions().size(), 0u);
}

TEST_F(ServerWebhook, MergedPullRequestAndItsPushStartOneExecution) {
  if (auto why = ConformanceMissing()) GTEST_SKIP() << *why;
  // A V2 pipeline triggered by pushes to prod and by pull requests closed into prod: GitHub
  // sends both for one merge, and they name the same merge commit.
  json pipeline = {
      {"name", "backend-flask"},
      {"pipelineType", "V2"},
      {"stages", {SourceStage(), Stage("Build", {BuildAction("bake", "backend-flask", {})})}},
      {"triggers",
       {{{"providerType", "CodeStarSourceConnection"},
         {"gitConfiguration",
          {{"sourceActionName", "Source"},
           {"push", {{{"branches", {{"includes", {"prod"}}}}}}},
           {"pullRequest",
            {{{"events", {"CLOSED"}}, {"branches", {{"includes", {"prod"}}}}}}}}}}}}};
  tmp_.Write("backend-flask.json", json({{"pipeline", pipeline}}).dump(2));
  Commit({{"feature", "x"}}, "merge feature");
  std::string merge = RevParse("HEAD");
  StartServer();
  json pr =
      Payload("pull_request", "ailisp__reallyfastci__test_data_webhook_webhook-pr-close.json");
  pr["pull_request"]["base"]["ref"] = "prod";
  pr["pull_request"]["merge_commit_sha"] = merge;
  auto first = Deliver("pull_request", pr.dump(), "pr-merged");
  EXPECT_EQ(first.status, 202) << first.body;
  json push =
      Payload("push", "ailisp__reallyfastci__test_data_webhook_webhook-push-to-master.json");
  push["ref"] = "refs/heads/prod";
  push["after"] = merge;
  auto second = Deliver("push", push.dump(), "push-of-merge");
  EXPECT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.Json()["alreadyStarted"][0], "backend-flask@" + merge);
  json list = Executions();
  ASSERT_EQ(list.size(), 1u);
  std::string id = list[0]["pipelineExecutionId"];
  EXPECT_TRUE(WaitForStatus(id, "Succeeded")) << Execution(id).dump(2);
  EXPECT_EQ(Execution(id)["trigger"]["triggerType"], "WebhookV2");
}

TEST_F(ServerWebhook, EventsStreamShowsExecutionFromStartToSucceeded) {
  StartServer();
  std::vector<std::string> statuses;
  std::thread reader([&] {
    ReadEvents(port_, "/api/v1/events?pipeline=backend-flask&type=execution", "",
               [&](const std::string& type, const std::string&, const std::string& data) {
                 if (type != "execution") return true;
                 statuses.push_back(json::parse(data).value("status", ""));
                 return statuses.back() != "Succeeded" && statuses.back() != "Failed";
               });
  });
  // Subscribed before the start (a stream without Last-Event-ID gets only new events).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto started = Post("/api/v1/pipelines/backend-flask/executions");
  EXPECT_EQ(started.status, 201) << started.body;
  reader.join();
  // Waiting for a slot and then running are one InProgress, as CodePipeline shows them: the
  // claim of a queued execution says nothing new, so it is not said twice.
  EXPECT_EQ(statuses, (std::vector<std::string>{"InProgress", "Succeeded"}));
}

}  // namespace
}  // namespace kiln::e2e
