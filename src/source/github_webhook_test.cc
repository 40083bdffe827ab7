#include "source/github_webhook.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "base/conformance.h"

namespace kiln::source {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The webhook payloads of the shared corpus (base/conformance.h says where it is found).
std::string Webhooks() { return (base::ConformanceDir() / "webhooks").string() + "/"; }
const std::string kZeros = "0000000000000000000000000000000000000000";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Parses a conformance payload from folder event/ (the folder is the X-GitHub-Event).
WebhookEvent Parse(const std::string& event, const std::string& file) {
  std::string body = ReadFile(Webhooks() + event + "/" + file);
  EXPECT_FALSE(body.empty()) << file;
  base::Result<WebhookEvent> parsed = ParseGithubWebhook(event, body);
  EXPECT_TRUE(parsed.ok()) << file << ": " << (parsed.ok() ? "" : parsed.status().message());
  return parsed.ok() ? std::move(parsed).value() : WebhookEvent{};
}

TEST(GithubSignature, MatchesGithubsPublishedVector) {
  const std::string header =
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  EXPECT_EQ(GithubSignature("It's a Secret to Everybody", "Hello, World!"), header);
  EXPECT_TRUE(VerifyGithubSignature("It's a Secret to Everybody", "Hello, World!", header));
}

TEST(GithubSignature, RefusesWrongSecretBodyAndMalformedHeaders) {
  std::string good = GithubSignature("s3cret", "{}");
  EXPECT_TRUE(VerifyGithubSignature("s3cret", "{}", good));
  EXPECT_FALSE(VerifyGithubSignature("other", "{}", good));
  EXPECT_FALSE(VerifyGithubSignature("s3cret", "{} ", good));
  EXPECT_FALSE(VerifyGithubSignature("s3cret", "{}", ""));
  EXPECT_FALSE(VerifyGithubSignature("s3cret", "{}", good.substr(7)));  // no "sha256="
  EXPECT_FALSE(VerifyGithubSignature("s3cret", "{}", "sha1=" + good.substr(7)));
  EXPECT_FALSE(VerifyGithubSignature("s3cret", "{}", good.substr(0, good.size() - 1)));
  EXPECT_FALSE(VerifyGithubSignature("s3cret", "{}", good + "0"));
  std::string bad_hex = good;
  bad_hex.back() = 'g';
  EXPECT_FALSE(VerifyGithubSignature("s3cret", "{}", bad_hex));
}

TEST(GithubSignature, AcceptsUpperCaseHexAndEmptySecret) {
  std::string sig = GithubSignature("", "");
  for (size_t i = 7; i < sig.size(); ++i) sig[i] = static_cast<char>(std::toupper(sig[i]));
  EXPECT_TRUE(VerifyGithubSignature("", "", sig));
}

TEST(ParseGithubWebhook, OrdinaryBranchPush) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  WebhookEvent e = Parse("push", "drone__go-scm__scm_driver_github_testdata_webhooks_push.json");
  EXPECT_EQ(e.kind, WebhookKind::kPush);
  EXPECT_EQ(e.codebuild_event, "PUSH");
  EXPECT_EQ(e.head_ref, "refs/heads/master");
  EXPECT_EQ(e.fetch_ref, "refs/heads/master");
  EXPECT_TRUE(e.IsBranch());
  EXPECT_EQ(e.BranchName(), "master");
  EXPECT_EQ(e.TagName(), "");
  EXPECT_EQ(e.commit, "199eddf46df50de8d02e99bf1c5fdb4101338224");
  EXPECT_EQ(e.before, "a10867b14bb761a232cd80139fbd4c0d33264240");
  EXPECT_FALSE(e.deleted || e.created || e.forced);
  EXPECT_EQ(e.repository.full_name, "Codertocat/Hello-World");
  EXPECT_EQ(e.repository.clone_url, "https://github.com/Codertocat/Hello-World.git");
  EXPECT_EQ(e.repository.ssh_url, "git@github.com:Codertocat/Hello-World.git");
  EXPECT_EQ(e.repository.html_url, "https://github.com/Codertocat/Hello-World");
  EXPECT_THAT(e.changed_files, ElementsAre("README.md"));
  EXPECT_EQ(e.commit_message, "Update README");
  EXPECT_EQ(e.actor_account_id, "21031067");
}

TEST(ParseGithubWebhook, TagDeletion) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  WebhookEvent e =
      Parse("push", "octokit__webhooks__payload-examples_api.github.com_push_payload.json");
  EXPECT_EQ(e.head_ref, "refs/tags/simple-tag");
  EXPECT_TRUE(e.IsTag());
  EXPECT_EQ(e.TagName(), "simple-tag");
  EXPECT_TRUE(e.deleted);
  EXPECT_EQ(e.commit, kZeros);
  EXPECT_THAT(e.changed_files, IsEmpty());
  EXPECT_EQ(e.commit_message, "");  // head_commit is null
}

TEST(ParseGithubWebhook, BranchDeletion) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  WebhookEvent e =
      Parse("push", "drone__go-scm__scm_driver_github_testdata_webhooks_push_branch_delete.json");
  EXPECT_EQ(e.head_ref, "refs/heads/feature-branch");
  EXPECT_TRUE(e.deleted);
  EXPECT_FALSE(e.created);
  EXPECT_EQ(e.before, "d2b75aa7797ec26b088fa2dd527e9d2c052fcedd");
}

TEST(ParseGithubWebhook, AllZeroAfterIsADeletionEvenWithoutTheFlag) {
  std::string body = R"({"ref":"refs/heads/x","before":"1","after":")" + kZeros +
                     R"(","repository":{"full_name":"o/r"}})";
  base::Result<WebhookEvent> e = ParseGithubWebhook("push", body);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_TRUE(e->deleted);
}

TEST(ParseGithubWebhook, TagCreations) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  WebhookEvent drone =
      Parse("push", "drone__go-scm__scm_driver_github_testdata_webhooks_push_tag.json");
  EXPECT_EQ(drone.head_ref, "refs/tags/v0.0.1");
  EXPECT_TRUE(drone.created);
  EXPECT_FALSE(drone.deleted);
  EXPECT_EQ(drone.commit, "d2b75aa7797ec26b088fa2dd527e9d2c052fcedd");
  WebhookEvent ghes =
      Parse("push", "octokit__webhooks__payload-examples_ghes-34_push_payload.json");
  EXPECT_EQ(ghes.TagName(), "simple-tag");
  EXPECT_TRUE(ghes.created);
  EXPECT_EQ(ghes.repository.clone_url, "https://octocoders.github.io/Codertocat/Hello-World.git");
}

TEST(ParseGithubWebhook, ForcedPush) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  WebhookEvent e =
      Parse("push", "zulip__zulip__zerver_webhooks_github_fixtures_push__force_1_commit.json");
  EXPECT_TRUE(e.forced);
  EXPECT_EQ(e.head_ref, "refs/heads/temp");
  EXPECT_EQ(e.before, "b6de8891fc10adb01e608ea01db326e99278fc70");
  EXPECT_EQ(e.commit, "971d76ca309446a9c20381f6271cea8a59b4e40a");
  EXPECT_THAT(e.changed_files, ElementsAre("important.txt"));
}

TEST(ParseGithubWebhook, MergePushLandsTheMergedPullRequestsCommit) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  WebhookEvent push =
      Parse("push", "ailisp__reallyfastci__test_data_webhook_webhook-push-to-master.json");
  WebhookEvent pr =
      Parse("pull_request", "ailisp__reallyfastci__test_data_webhook_webhook-pr-close.json");
  EXPECT_EQ(push.commit, "a21683865c088b5fe1906cf6552d15a285a4986d");
  EXPECT_EQ(pr.commit, push.commit);
  EXPECT_THAT(push.commit_message, HasSubstr("Merge pull request #3"));
}

TEST(ParseGithubWebhook, MergedPullRequest) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  WebhookEvent e =
      Parse("pull_request", "ailisp__reallyfastci__test_data_webhook_webhook-pr-close.json");
  EXPECT_EQ(e.kind, WebhookKind::kPullRequest);
  EXPECT_EQ(e.action, "closed");
  EXPECT_TRUE(e.merged);
  EXPECT_EQ(e.codebuild_event, "PULL_REQUEST_MERGED");
  EXPECT_EQ(e.commit, "a21683865c088b5fe1906cf6552d15a285a4986d");
  EXPECT_EQ(e.head_sha, "7b5a809ab03679215c55926f7d111156ec98b865");
  EXPECT_EQ(e.head_ref, "refs/heads/byao1276-patch-1");
  EXPECT_EQ(e.base_ref, "refs/heads/master");
  EXPECT_EQ(e.BaseBranchName(), "master");
  EXPECT_EQ(e.fetch_ref, "refs/pull/3/head");
  EXPECT_EQ(e.head_repository, "byao1276/gcbapp-buildconfig-example");
  EXPECT_EQ(e.repository.full_name, "ailisp/gcbapp-buildconfig-example");
  EXPECT_EQ(e.pull_request_number, 3);
  EXPECT_EQ(e.commit_message, "Byao1276 patch 1");
  EXPECT_EQ(e.actor_account_id, "13259400");
  EXPECT_THAT(e.changed_files, IsEmpty());  // pull_request payloads carry no file list
}

TEST(ParseGithubWebhook, ClosedWithoutMerging) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  for (const char* file : {"octokit__webhooks__payload-examples_api.github.com_pull_request_"
                           "closed.payload.json",
                           "drone__go-scm__scm_driver_github_testdata_webhooks_pr_closed.json"}) {
    WebhookEvent e = Parse("pull_request", file);
    EXPECT_FALSE(e.merged) << file;
    EXPECT_EQ(e.codebuild_event, "PULL_REQUEST_CLOSED") << file;
    EXPECT_EQ(e.commit, e.head_sha) << file;  // nothing landed: the head commit
  }
}

TEST(ParseGithubWebhook, PullRequestActionsMapAsCodeBuildNamesThem) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  const std::string octokit = "octokit__webhooks__payload-examples_api.github.com_pull_request_";
  WebhookEvent opened = Parse("pull_request", octokit + "opened.payload.json");
  EXPECT_EQ(opened.codebuild_event, "PULL_REQUEST_CREATED");
  EXPECT_EQ(opened.head_ref, "refs/heads/changes");
  EXPECT_EQ(opened.commit, "ec26c3e57ca3a959ca5aad62de7213c562f8c821");
  EXPECT_EQ(opened.commit_message, "Update the README with new information.");
  EXPECT_EQ(Parse("pull_request", octokit + "opened.with-null-body.json").codebuild_event,
            "PULL_REQUEST_CREATED");
  EXPECT_EQ(Parse("pull_request", octokit + "reopened.payload.json").codebuild_event,
            "PULL_REQUEST_REOPENED");
  EXPECT_EQ(Parse("pull_request", octokit + "synchronize.payload.json").codebuild_event,
            "PULL_REQUEST_UPDATED");
  WebhookEvent fork =
      Parse("pull_request", "ailisp__reallyfastci__test_data_webhook_webhook-pr-from-fork.json");
  EXPECT_EQ(fork.codebuild_event, "PULL_REQUEST_UPDATED");
  EXPECT_EQ(fork.commit, "7d1b24db3fde2747f9dadfb0f8abf0c8e6f40cad");  // head.sha == `after`
  EXPECT_EQ(fork.before, "411a0fbb93b25e1ba1d7ef7d437315c2a411ed52");
}

std::string PullRequestBody(const std::string& action, const std::string& extra = "") {
  return R"({"action":")" + action + R"(","number":9,"pull_request":{"number":9,)" +
         R"("head":{"ref":"f","sha":"abc"},"base":{"ref":"main"},"merged":false},)" +
         R"("repository":{"full_name":"o/r"})" + extra + "}";
}

TEST(ParseGithubWebhook, EditedCountsAsUpdatedOnlyWhenTheBaseChanged) {
  base::Result<WebhookEvent> retarget =
      ParseGithubWebhook("pull_request", PullRequestBody("edited", R"(,"changes":{"base":{}})"));
  ASSERT_TRUE(retarget.ok());
  EXPECT_EQ(retarget->codebuild_event, "PULL_REQUEST_UPDATED");
  base::Result<WebhookEvent> title =
      ParseGithubWebhook("pull_request", PullRequestBody("edited", R"(,"changes":{"title":{}})"));
  ASSERT_TRUE(title.ok());
  EXPECT_EQ(title->kind, WebhookKind::kIgnored);
  EXPECT_THAT(title->ignored_reason, HasSubstr("'edited'"));
  base::Result<WebhookEvent> labeled =
      ParseGithubWebhook("pull_request", PullRequestBody("labeled"));
  ASSERT_TRUE(labeled.ok());
  EXPECT_EQ(labeled->kind, WebhookKind::kIgnored);
}

TEST(ParseGithubWebhook, Pings) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  const std::string octokit = "octokit__webhooks__payload-examples_api.github.com_ping_";
  WebhookEvent repo = Parse("ping", octokit + "payload.json");
  EXPECT_EQ(repo.kind, WebhookKind::kPing);
  EXPECT_EQ(repo.hook_id, 109948940);
  EXPECT_FALSE(repo.zen.empty());
  EXPECT_EQ(repo.action, "");
  EXPECT_EQ(repo.codebuild_event, "");
  WebhookEvent org = Parse("ping", octokit + "with-organization.payload.json");
  EXPECT_EQ(org.hook_id, 109948940);
  EXPECT_EQ(org.repository.full_name, "");  // an organization hook has no repository
  WebhookEvent captured =
      Parse("ping", "ailisp__reallyfastci__test_data_webhook_webhook-ping.json");
  EXPECT_EQ(captured.hook_id, 155602458);
  EXPECT_EQ(captured.repository.full_name, "ailisp/gcbapp-buildconfig-example");
}

TEST(ParseGithubWebhook, OtherEventTypesAreIgnoredNotErrors) {
  base::Result<WebhookEvent> e = ParseGithubWebhook("issues", "not even json");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->kind, WebhookKind::kIgnored);
  EXPECT_THAT(e->ignored_reason, HasSubstr("'issues'"));
}

struct BadPayload {
  const char* event;
  std::string body;
  const char* message;
};

TEST(ParseGithubWebhook, ErrorsNameTheField) {
  const BadPayload cases[] = {
      {"push", R"({"after":"a","before":"b","repository":{"full_name":"o/r"}})",
       "push payload: 'ref' is missing or not a string"},
      {"push", R"({"ref":5,"after":"a","before":"b","repository":{"full_name":"o/r"}})",
       "push payload: 'ref' is missing or not a string"},
      {"push", R"({"ref":"refs/heads/x","after":"a","before":"b"})",
       "push payload: 'repository.full_name' is missing or not a string"},
      {"pull_request", R"({"action":"opened","repository":{"full_name":"o/r"}})",
       "pull_request payload: 'pull_request' is missing or not an object"},
      {"pull_request", R"({"action":"opened","pull_request":{"number":"1"}})",
       "pull_request payload: 'pull_request.number' is missing or not an integer"},
      {"pull_request",
       R"({"action":"closed","pull_request":{"number":1,"head":{"ref":"f","sha":"s"},)"
       R"("base":{"ref":"m"},"merged":true},"repository":{"full_name":"o/r"}})",
       "pull_request payload: 'pull_request.merge_commit_sha' is missing or not a string"},
      {"push", "[1, 2]", "push payload: not a JSON object"},
      {"push", "{\"ref\": ", "push payload: not a JSON object"},
      {"ping", std::string(65, '[') + std::string(65, ']'),
       "ping payload: nested deeper than 64 levels"},
  };
  for (const BadPayload& c : cases) {
    base::Result<WebhookEvent> e = ParseGithubWebhook(c.event, c.body);
    ASSERT_FALSE(e.ok()) << c.body;
    EXPECT_EQ(e.status().kind(), base::ErrorKind::kInvalidInput);
    EXPECT_EQ(e.status().message(), c.message);
  }
}

TEST(ParseGithubWebhook, DepthLimitIgnoresBracketsInsideStrings) {
  std::string body = R"({"zen":")" + std::string(100, '[') + R"(\"{{","hook_id":7})";
  base::Result<WebhookEvent> e = ParseGithubWebhook("ping", body);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->hook_id, 7);
}

TEST(ParseGithubWebhook, RefusesBodiesOverGithubsLimit) {
  std::string body(kMaxWebhookBodyBytes + 1, ' ');
  base::Result<WebhookEvent> e = ParseGithubWebhook("push", body);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("25 MiB"));
}

TEST(ParseGithubWebhook, ChangedFilesAreTheDeduplicatedUnionOfEveryCommit) {
  std::string body = R"({"ref":"refs/heads/x","before":"1","after":"2",)"
                     R"("repository":{"full_name":"o/r"},"sender":{"id":42},"commits":[)"
                     R"({"added":["a"],"modified":["b"],"removed":[]},)"
                     R"({"added":["c"],"modified":["a"],"removed":["b", 7]}]})";
  base::Result<WebhookEvent> e = ParseGithubWebhook("push", body);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_THAT(e->changed_files, ElementsAre("a", "b", "c"));
  EXPECT_EQ(e->actor_account_id, "42");
}

}  // namespace
}  // namespace kiln::source
