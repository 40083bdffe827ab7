#include "source/trigger_filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/conformance.h"

namespace kiln::source {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The webhook payloads of the shared corpus (base/conformance.h says where it is found).
std::string Webhooks() { return (base::ConformanceDir() / "webhooks").string() + "/"; }
constexpr std::string_view kConnection = "cruddur";

WebhookEvent Conformance(const std::string& event, const std::string& file) {
  std::ifstream in(Webhooks() + event + "/" + file, std::ios::binary);
  std::stringstream body;
  body << in.rdbuf();
  base::Result<WebhookEvent> parsed = ParseGithubWebhook(event, body.str());
  EXPECT_TRUE(parsed.ok()) << file;
  return parsed.ok() ? std::move(parsed).value() : WebhookEvent{};
}

WebhookEvent Push(std::string ref, std::vector<std::string> files = {}) {
  WebhookEvent e{.kind = WebhookKind::kPush, .codebuild_event = "PUSH"};
  e.head_ref = std::move(ref);
  e.changed_files = std::move(files);
  e.commit_message = "fix things";
  e.actor_account_id = "42";
  return e;
}

WebhookEvent PullRequest(std::string codebuild_event, std::string base,
                         std::string head = "feature") {
  WebhookEvent e{.kind = WebhookKind::kPullRequest, .codebuild_event = std::move(codebuild_event)};
  e.base_ref = "refs/heads/" + base;
  e.head_ref = "refs/heads/" + head;
  return e;
}

spec::Action Source(std::string name, std::vector<std::pair<std::string, std::string>> config,
                    std::string provider = "CodeStarSourceConnection") {
  return {.name = std::move(name),
          .type = {.category = "Source", .owner = "AWS", .provider = std::move(provider)},
          .configuration = std::move(config)};
}

spec::Pipeline PipelineWith(std::vector<spec::Action> sources,
                            std::vector<spec::Trigger> triggers = {}) {
  spec::Pipeline p{.name = "backend-flask"};
  p.stages.push_back({.name = "Source", .actions = std::move(sources)});
  p.stages.push_back({.name = "Build"});
  p.triggers = std::move(triggers);
  return p;
}

spec::Action ProdSource(std::string detect = "") {
  std::vector<std::pair<std::string, std::string>> config = {
      {"ConnectionArn", std::string(kConnection)}, {"BranchName", "prod"}};
  if (!detect.empty()) config.emplace_back("DetectChanges", detect);
  return Source("Source", config);
}

std::vector<std::string> Started(const spec::Pipeline& p, const WebhookEvent& e) {
  return MatchPipelineTriggers(p, e, kConnection).source_actions;
}

spec::Trigger PushTrigger(spec::GitPushFilter filter) {
  return {.provider_type = "CodeStarSourceConnection",
          .source_action_name = "Source",
          .push = {std::move(filter)}};
}

spec::Trigger PullRequestTrigger(spec::GitPullRequestFilter filter) {
  return {.provider_type = "CodeStarSourceConnection",
          .source_action_name = "Source",
          .pull_request = {std::move(filter)}};
}

struct GlobCase {
  const char* pattern;
  std::vector<const char*> matches, misses;
};

TEST(CodePipelineGlobMatch, FollowsTheSyntaxGlobRules) {
  const GlobCase cases[] = {
      {"*.java", {"Foo.java", ".java"}, {"src/Foo.java"}},
      {"*.*", {"a.b"}, {"ab"}},
      {"*.{java,class}", {"A.class", "A.java"}, {"A.jar"}},
      {"foo.?", {"foo.c"}, {"foo.cc", "foo./"}},
      {"**", {"a/b/c", ""}, {}},
      {"feature/**", {"feature/x/y", "feature/"}, {"feature"}},
      {"feature/*", {"feature/x"}, {"feature/x/y"}},
      {"common/**/*.js", {"common/a/b.js"}, {"common/b.js"}},
      {"prod", {"prod"}, {"production", "Prod"}},
      {"v1.*", {"v1.2"}, {"v1x2"}},
      {"[abc]x", {"bx"}, {"dx"}},
      {"[!a]x", {"bx"}, {"ax", "/x"}},
      {"[a-c]", {"b"}, {"d"}},
      {"[-a]", {"-", "a"}, {"b"}},
      {"[a-]", {"-", "a"}, {"b"}},
      {"[_&^[]", {"_", "&", "^", "["}, {"a"}},  // '^' does not negate; Java's rules
      {"[!-a]", {"b"}, {"-", "a"}},
      {"[*?\\]", {"\\", "*"}, {"x"}},  // inside brackets *?\ are literal
      {"[+-0]", {"+", "0"}, {"/"}},    // a class never matches '/'
      {"\\*", {"*"}, {"a"}},
      {"a,b}", {"a,b}"}, {}},
      {"r\u00e9lease-?", {"r\u00e9lease-\u00e9"}, {}},
      // Malformed patterns match nothing.
      {"{a,b", {}, {"a", "{a,b"}},
      {"[abc", {}, {"a", "[abc"}},
      {"{a,{b}}", {}, {"b"}},
      {"abc\\", {}, {"abc\\", "abc"}},
      {"[]", {}, {"]", "[]"}},
      {"[/]", {}, {"/"}},
  };
  for (const GlobCase& c : cases) {
    for (const char* text : c.matches) {
      EXPECT_TRUE(CodePipelineGlobMatch(c.pattern, text)) << c.pattern << " vs " << text;
    }
    for (const char* text : c.misses) {
      EXPECT_FALSE(CodePipelineGlobMatch(c.pattern, text)) << c.pattern << " vs " << text;
    }
  }
}

TEST(MatchGitFilter, ExcludesWinAndNoIncludesMeansAll) {
  spec::GitFilter filter{.includes = {"release/**"}, .excludes = {"release/old"}};
  EXPECT_TRUE(MatchGitFilter(filter, "release/1.0"));
  EXPECT_FALSE(MatchGitFilter(filter, "release/old"));
  EXPECT_FALSE(MatchGitFilter(filter, "main"));
  spec::GitFilter only_excludes{.excludes = {"wip-*"}};
  EXPECT_TRUE(MatchGitFilter(only_excludes, "main"));
  EXPECT_FALSE(MatchGitFilter(only_excludes, "wip-1"));
}

TEST(MatchPipelineTriggers, WithoutTriggersPushesToBranchNameStartTheSource) {
  spec::Pipeline p = PipelineWith({ProdSource()});
  TriggerMatch prod = MatchPipelineTriggers(p, Push("refs/heads/prod"), kConnection);
  EXPECT_THAT(prod.source_actions, ElementsAre("Source"));
  EXPECT_EQ(prod.reason, "push to refs/heads/prod starts source action 'Source'");
  TriggerMatch main = MatchPipelineTriggers(p, Push("refs/heads/main"), kConnection);
  EXPECT_FALSE(main.matched());
  EXPECT_EQ(main.reason, "push to refs/heads/main matches no trigger of pipeline 'backend-flask'");
  EXPECT_THAT(Started(p, Push("refs/tags/prod")), IsEmpty());
  EXPECT_THAT(Started(p, PullRequest("PULL_REQUEST_CREATED", "prod")), IsEmpty());
  EXPECT_THAT(Started(PipelineWith({ProdSource("false")}), Push("refs/heads/prod")), IsEmpty());
  EXPECT_THAT(Started(PipelineWith({ProdSource("FALSE")}), Push("refs/heads/prod")), IsEmpty());
  EXPECT_THAT(Started(PipelineWith({ProdSource("true")}), Push("refs/heads/prod")),
              ElementsAre("Source"));
}

TEST(MatchPipelineTriggers, OnlySourceActionsOnTheWebhooksConnection) {
  spec::Pipeline p = PipelineWith({ProdSource()});
  TriggerMatch other = MatchPipelineTriggers(p, Push("refs/heads/prod"), "elsewhere");
  EXPECT_FALSE(other.matched());
  EXPECT_EQ(other.reason, "no source action of pipeline 'backend-flask' uses this connection");
  spec::Pipeline git = PipelineWith(
      {Source("G", {{"ConnectionName", "cruddur"}, {"BranchName", "prod"}}, "Git"),
       Source("C", {{"RepositoryName", "cruddur"}, {"BranchName", "prod"}}, "CodeCommit"),
       Source("U", {{"Url", "https://x/y.git"}, {"BranchName", "prod"}}, "Git")});
  EXPECT_THAT(Started(git, Push("refs/heads/prod")), ElementsAre("G", "C"));
}

TEST(MatchPipelineTriggers, DeletionsPingsAndIgnoredEventsStartNothing) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  spec::Pipeline p = PipelineWith({ProdSource()});
  WebhookEvent deleted = Push("refs/heads/prod");
  deleted.deleted = true;
  EXPECT_EQ(MatchPipelineTriggers(p, deleted, kConnection).reason,
            "deletion of refs/heads/prod starts nothing");
  spec::Pipeline tags =
      PipelineWith({ProdSource()}, {PushTrigger({.tags = spec::GitFilter{.includes = {"v*"}}})});
  WebhookEvent tag_delete =
      Conformance("push", "octokit__webhooks__payload-examples_api.github.com_push_payload.json");
  tag_delete.head_ref = "refs/tags/v1";
  EXPECT_THAT(Started(tags, tag_delete), IsEmpty());
  EXPECT_EQ(MatchPipelineTriggers(p, WebhookEvent{.kind = WebhookKind::kPing}, kConnection).reason,
            "ping starts nothing");
}

TEST(MatchPipelineTriggers, PushBranchFilters) {
  spec::Pipeline p = PipelineWith(
      {ProdSource()}, {PushTrigger({.branches = spec::GitFilter{.includes = {"main", "release/**"},
                                                                .excludes = {"release/old"}}})});
  EXPECT_THAT(Started(p, Push("refs/heads/main")), ElementsAre("Source"));
  EXPECT_THAT(Started(p, Push("refs/heads/release/1.2")), ElementsAre("Source"));
  EXPECT_THAT(Started(p, Push("refs/heads/release/old")), IsEmpty());
  // The trigger replaces change detection: BranchName no longer starts it.
  EXPECT_THAT(Started(p, Push("refs/heads/prod")), IsEmpty());
  EXPECT_THAT(Started(p, Push("refs/tags/main")), IsEmpty());  // branches filter: branches only
  EXPECT_THAT(Started(p, PullRequest("PULL_REQUEST_CREATED", "main")), IsEmpty());
}

TEST(MatchPipelineTriggers, PushTagFiltersMatchOnlyTagPushes) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  spec::Pipeline p = PipelineWith(
      {ProdSource()},
      {PushTrigger({.tags = spec::GitFilter{.includes = {"v*"}, .excludes = {"v*-rc*"}}})});
  EXPECT_THAT(Started(p, Push("refs/tags/v1.2.0")), ElementsAre("Source"));
  EXPECT_THAT(Started(p, Push("refs/tags/v2-rc1")), IsEmpty());
  EXPECT_THAT(Started(p, Push("refs/heads/v1")), IsEmpty());
  WebhookEvent drone_tag =
      Conformance("push", "drone__go-scm__scm_driver_github_testdata_webhooks_push_tag.json");
  EXPECT_THAT(Started(p, drone_tag), ElementsAre("Source"));  // refs/tags/v0.0.1, created
}

TEST(MatchPipelineTriggers, PushFilePathFilters) {
  spec::Pipeline p = PipelineWith(
      {ProdSource()}, {PushTrigger({.branches = spec::GitFilter{.includes = {"prod"}},
                                    .file_paths = spec::GitFilter{.includes = {"backend-flask/**"},
                                                                  .excludes = {"**/*.md"}}})});
  EXPECT_THAT(Started(p, Push("refs/heads/prod", {"backend-flask/app.py"})), ElementsAre("Source"));
  EXPECT_THAT(Started(p, Push("refs/heads/prod", {"backend-flask/README.md"})), IsEmpty());
  EXPECT_THAT(Started(p, Push("refs/heads/prod", {"frontend/app.js"})), IsEmpty());
  EXPECT_THAT(
      Started(p, Push("refs/heads/prod", {"backend-flask/README.md", "backend-flask/a.py"})),
      ElementsAre("Source"));
  EXPECT_THAT(Started(p, Push("refs/heads/prod")), IsEmpty());  // no files: nothing passes
}

TEST(MatchPipelineTriggers, PullRequestEventsAndBaseBranches) {
  spec::Pipeline open = PipelineWith(
      {ProdSource()}, {PullRequestTrigger({.events = {"OPEN"},
                                           .branches = spec::GitFilter{.includes = {"main"}}})});
  EXPECT_THAT(Started(open, PullRequest("PULL_REQUEST_CREATED", "main")), ElementsAre("Source"));
  EXPECT_THAT(Started(open, PullRequest("PULL_REQUEST_REOPENED", "main")), ElementsAre("Source"));
  EXPECT_THAT(Started(open, PullRequest("PULL_REQUEST_UPDATED", "main")), IsEmpty());
  EXPECT_THAT(Started(open, PullRequest("PULL_REQUEST_CLOSED", "main")), IsEmpty());
  EXPECT_THAT(Started(open, PullRequest("PULL_REQUEST_CREATED", "dev", "main")), IsEmpty());
  EXPECT_THAT(Started(open, Push("refs/heads/main")), IsEmpty());

  spec::Pipeline closed = PipelineWith(
      {ProdSource()}, {PullRequestTrigger({.events = {"CLOSED"},
                                           .branches = spec::GitFilter{.includes = {"ma*"}}})});
  EXPECT_THAT(Started(closed, PullRequest("PULL_REQUEST_MERGED", "main")), ElementsAre("Source"));
  EXPECT_THAT(Started(closed, PullRequest("PULL_REQUEST_CLOSED", "master")), ElementsAre("Source"));

  spec::Pipeline any = PipelineWith(
      {ProdSource()}, {PullRequestTrigger({.branches = spec::GitFilter{.includes = {"main"}}})});
  EXPECT_THAT(Started(any, PullRequest("PULL_REQUEST_UPDATED", "main")), ElementsAre("Source"));
}

TEST(MatchPipelineTriggers, PullRequestFilePathsNeedTheCallersFileList) {
  spec::Pipeline p =
      PipelineWith({ProdSource()},
                   {PullRequestTrigger({.branches = spec::GitFilter{.includes = {"main"}},
                                        .file_paths = spec::GitFilter{.includes = {"src/**"}}})});
  WebhookEvent pr = PullRequest("PULL_REQUEST_CREATED", "main");
  EXPECT_THAT(Started(p, pr), IsEmpty());
  pr.changed_files = {"src/a.cc"};
  EXPECT_THAT(Started(p, pr), ElementsAre("Source"));
}

TEST(MatchPipelineTriggers, ConformancePullRequestsAgainstTriggers) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  spec::Pipeline closed = PipelineWith(
      {ProdSource()}, {PullRequestTrigger({.events = {"CLOSED"},
                                           .branches = spec::GitFilter{.includes = {"master"}}})});
  WebhookEvent merged =
      Conformance("pull_request", "ailisp__reallyfastci__test_data_webhook_webhook-pr-close.json");
  EXPECT_THAT(Started(closed, merged), ElementsAre("Source"));
  WebhookEvent opened =
      Conformance("pull_request",
                  "octokit__webhooks__payload-examples_api.github.com_pull_request_opened."
                  "payload.json");
  EXPECT_THAT(Started(closed, opened), IsEmpty());
}

TEST(MatchPipelineTriggers, ConformancePushesAgainstTheDefaultBranch) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  spec::Action master = Source("Source", {{"ConnectionArn", "cruddur"}, {"BranchName", "master"}});
  spec::Pipeline p = PipelineWith({master});
  EXPECT_THAT(Started(p, Conformance("push",
                                     "ailisp__reallyfastci__test_data_webhook_webhook-"
                                     "push-to-master.json")),
              ElementsAre("Source"));
  spec::Action feature =
      Source("Source", {{"ConnectionArn", "cruddur"}, {"BranchName", "feature-branch"}});
  EXPECT_THAT(Started(PipelineWith({feature}),
                      Conformance("push",
                                  "drone__go-scm__scm_driver_github_testdata_webhooks_"
                                  "push_branch_delete.json")),
              IsEmpty());
}

TEST(MatchPipelineTriggers, TriggersApplyToTheActionTheyName) {
  spec::Action other = Source("Other", {{"ConnectionArn", "cruddur"}, {"BranchName", "prod"}});
  spec::Trigger no_filter{.provider_type = "CodeStarSourceConnection",
                          .source_action_name = "Source"};
  spec::Pipeline p = PipelineWith({ProdSource("false"), other}, {no_filter});
  // "No filter" trigger: pushes to BranchName, whatever DetectChanges says; Other keeps its
  // default change detection.
  EXPECT_THAT(Started(p, Push("refs/heads/prod")), ElementsAre("Source", "Other"));
}

TEST(SameConnectionIn, ResolvesNamesAndArnsThroughKilnYml) {
  spec::KilnConfig config;
  config.connections.push_back({.name = "cruddur", .arn = "arn:aws:codestar-connections:x"});
  config.connections.push_back({.name = "other"});
  SameConnection same = SameConnectionIn(config, "cruddur");
  EXPECT_TRUE(same("arn:aws:codestar-connections:x"));
  EXPECT_TRUE(same("cruddur"));
  EXPECT_FALSE(same("other"));
  EXPECT_FALSE(same(""));
  spec::Pipeline p = PipelineWith({Source(
      "Source", {{"ConnectionArn", "arn:aws:codestar-connections:x"}, {"BranchName", "prod"}})});
  EXPECT_TRUE(MatchPipelineTriggers(p, Push("refs/heads/prod"), same).matched());
}

spec::ProjectWebhook::Filter F(std::string type, std::string pattern, bool exclude = false) {
  return {
      .type = std::move(type), .pattern = std::move(pattern), .exclude_matched_pattern = exclude};
}

spec::ProjectWebhook Groups(std::vector<std::vector<spec::ProjectWebhook::Filter>> groups) {
  return {.connection = "cruddur", .filter_groups = std::move(groups)};
}

TEST(MatchFilterGroups, EventListAndHeadRef) {
  spec::ProjectWebhook w =
      Groups({{F("EVENT", "PUSH, PULL_REQUEST_CREATED"), F("HEAD_REF", "^refs/heads/main$")}});
  EXPECT_TRUE(MatchFilterGroups(w, Push("refs/heads/main")));
  EXPECT_FALSE(MatchFilterGroups(w, Push("refs/heads/dev")));
  EXPECT_TRUE(MatchFilterGroups(w, PullRequest("PULL_REQUEST_CREATED", "prod", "main")));
  EXPECT_FALSE(MatchFilterGroups(w, PullRequest("PULL_REQUEST_UPDATED", "prod", "main")));
}

TEST(MatchFilterGroups, PatternsAreSearchedNotAnchored) {
  spec::ProjectWebhook w = Groups({{F("EVENT", "PUSH"), F("HEAD_REF", "main")}});
  EXPECT_TRUE(MatchFilterGroups(w, Push("refs/heads/main-2")));
  EXPECT_TRUE(MatchFilterGroups(w, Push("refs/tags/domain")));
}

TEST(MatchFilterGroups, ExcludeInvertsAFilter) {
  spec::ProjectWebhook w = Groups({{F("EVENT", "PUSH"), F("HEAD_REF", "^refs/tags/", true),
                                    F("COMMIT_MESSAGE", "\\[skip ci\\]", true)}});
  EXPECT_TRUE(MatchFilterGroups(w, Push("refs/heads/main")));
  EXPECT_FALSE(MatchFilterGroups(w, Push("refs/tags/v1")));
  WebhookEvent skip = Push("refs/heads/main");
  skip.commit_message = "docs [skip ci]";
  EXPECT_FALSE(MatchFilterGroups(w, skip));
}

TEST(MatchFilterGroups, BaseRefOnlyForPullRequests) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  spec::ProjectWebhook w =
      Groups({{F("EVENT", "PUSH, PULL_REQUEST_MERGED"), F("BASE_REF", "^refs/heads/master$")}});
  EXPECT_FALSE(MatchFilterGroups(w, Push("refs/heads/master")));
  spec::ProjectWebhook excluded = Groups({{F("EVENT", "PUSH"), F("BASE_REF", "^x", true)}});
  EXPECT_FALSE(MatchFilterGroups(excluded, Push("refs/heads/master")));
  WebhookEvent merged =
      Conformance("pull_request", "ailisp__reallyfastci__test_data_webhook_webhook-pr-close.json");
  EXPECT_TRUE(MatchFilterGroups(w, merged));
}

TEST(MatchFilterGroups, FilePathMatchesWhenAnyFileDoes) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  spec::ProjectWebhook w = Groups({{F("EVENT", "PUSH"), F("FILE_PATH", "^src/")}});
  EXPECT_TRUE(MatchFilterGroups(w, Push("refs/heads/x", {"README.md", "src/a.cc"})));
  EXPECT_FALSE(MatchFilterGroups(w, Push("refs/heads/x", {"README.md"})));
  EXPECT_FALSE(MatchFilterGroups(w, Push("refs/heads/x")));
  spec::ProjectWebhook docs = Groups({{F("EVENT", "PUSH"), F("FILE_PATH", "\\.md$", true)}});
  EXPECT_FALSE(MatchFilterGroups(docs, Push("refs/heads/x", {"README.md"})));
  EXPECT_TRUE(MatchFilterGroups(docs, Push("refs/heads/x", {"a.cc"})));
  WebhookEvent forced = Conformance(
      "push", "zulip__zulip__zerver_webhooks_github_fixtures_push__force_1_commit.json");
  EXPECT_TRUE(
      MatchFilterGroups(Groups({{F("EVENT", "PUSH"), F("FILE_PATH", "^important")}}), forced));
}

TEST(MatchFilterGroups, ActorAccountId) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  spec::ProjectWebhook w = Groups({{F("EVENT", "PUSH"), F("ACTOR_ACCOUNT_ID", "^42$")}});
  EXPECT_TRUE(MatchFilterGroups(w, Push("refs/heads/x")));
  WebhookEvent push =
      Conformance("push", "drone__go-scm__scm_driver_github_testdata_webhooks_push.json");
  EXPECT_FALSE(MatchFilterGroups(w, push));  // sender 21031067
}

TEST(MatchFilterGroups, GroupsAreOredAndEachNeedsAnEvent) {
  spec::ProjectWebhook w = Groups({{F("EVENT", "PUSH"), F("HEAD_REF", "^refs/heads/prod$")},
                                   {F("EVENT", "PULL_REQUEST_CREATED")}});
  EXPECT_TRUE(MatchFilterGroups(w, Push("refs/heads/prod")));
  EXPECT_TRUE(MatchFilterGroups(w, PullRequest("PULL_REQUEST_CREATED", "main")));
  EXPECT_FALSE(MatchFilterGroups(w, Push("refs/heads/dev")));
  EXPECT_FALSE(MatchFilterGroups(Groups({{F("HEAD_REF", ".*")}}), Push("refs/heads/prod")));
  EXPECT_FALSE(MatchFilterGroups(Groups({}), Push("refs/heads/prod")));
}

TEST(MatchFilterGroups, DeletionsPingsAndIgnoredEventsNeverMatch) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  spec::ProjectWebhook w = Groups({{F("EVENT", "PUSH")}});
  WebhookEvent deleted = Conformance(
      "push", "drone__go-scm__scm_driver_github_testdata_webhooks_push_branch_delete.json");
  EXPECT_FALSE(MatchFilterGroups(w, deleted));
  EXPECT_FALSE(MatchFilterGroups(w, WebhookEvent{.kind = WebhookKind::kPing}));
  EXPECT_FALSE(MatchFilterGroups(Groups({{F("EVENT", "PUSH", true)}}), WebhookEvent{}));
}

TEST(MatchFilterGroups, InvalidRegexFailsWithAnError) {
  spec::ProjectWebhook w = Groups({{F("EVENT", "PUSH"), F("HEAD_REF", "(unclosed", true)}});
  std::string error;
  EXPECT_FALSE(MatchFilterGroups(w, Push("refs/heads/x"), &error));
  EXPECT_THAT(error, HasSubstr("HEAD_REF pattern '(unclosed' is not a valid regex"));
}

}  // namespace
}  // namespace kiln::source
