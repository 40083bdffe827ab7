#include "source/trigger_owner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kiln::source {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Filter = spec::ProjectWebhook::Filter;

constexpr const char* kArn = "arn:aws:codestar-connections:us-east-1:1:connection/abc";

// kiln.yml with connections cruddur (alias kArn) and other, and project backend-flask whose
// webhook has the given filter groups.
spec::KilnConfig Config(std::vector<std::vector<Filter>> groups,
                        std::string connection = "cruddur") {
  spec::KilnConfig config;
  config.connections.push_back({.name = "cruddur", .arn = kArn});
  config.connections.push_back({.name = "other"});
  config.projects.push_back({.name = "backend-flask",
                             .webhook = spec::ProjectWebhook{.connection = std::move(connection),
                                                             .filter_groups = std::move(groups)}});
  config.projects.push_back({.name = "no-webhook"});
  return config;
}

spec::Action Action(std::string name, std::string category, std::string provider,
                    std::vector<std::pair<std::string, std::string>> configuration) {
  return {
      .name = std::move(name),
      .type = {.category = std::move(category), .owner = "AWS", .provider = std::move(provider)},
      .configuration = std::move(configuration)};
}

// Pipeline backend-flask: source on kArn (branch prod), build action 'bake' of project.
spec::Pipeline Pipeline(std::vector<spec::Trigger> triggers = {},
                        std::vector<std::pair<std::string, std::string>> source_extra = {},
                        std::string project = "backend-flask") {
  std::vector<std::pair<std::string, std::string>> source = {{"ConnectionArn", kArn},
                                                             {"BranchName", "prod"}};
  source.insert(source.end(), source_extra.begin(), source_extra.end());
  spec::Pipeline p{.name = "backend-flask"};
  p.stages.push_back({.name = "Source",
                      .actions = {Action("Source", "Source", "CodeStarSourceConnection", source)}});
  p.stages.push_back(
      {.name = "Build",
       .actions = {Action("bake", "Build", "CodeBuild", {{"ProjectName", project}})}});
  p.triggers = std::move(triggers);
  return p;
}

std::vector<std::string> Conflicts(const spec::KilnConfig& config, const spec::Pipeline& p) {
  return TriggerOwnerConflicts(config, {&p});
}

const std::vector<std::vector<Filter>> kPushToProd = {
    {{.type = "EVENT", .pattern = "PUSH"}, {.type = "HEAD_REF", .pattern = "^refs/heads/prod$"}}};

TEST(TriggerOwnerConflicts, ProjectWebhookAndPipelineOnTheSamePushes) {
  EXPECT_THAT(Conflicts(Config(kPushToProd), Pipeline()),
              ElementsAre("project 'backend-flask' has its own webhook on connection 'cruddur' "
                          "and is the build action 'bake' of pipeline 'backend-flask', triggered "
                          "by pushes to 'prod' on the same connection: one push would build "
                          "twice (AWS runs both); remove the project's webhook or the pipeline "
                          "trigger"));
}

TEST(TriggerOwnerConflicts, DifferentBranchesHaveOneOwnerEach) {
  std::vector<std::vector<Filter>> dev = {
      {{.type = "EVENT", .pattern = "PUSH"}, {.type = "HEAD_REF", .pattern = "^refs/heads/dev$"}}};
  EXPECT_THAT(Conflicts(Config(dev), Pipeline()), IsEmpty());
  std::vector<std::vector<Filter>> not_prod = {
      {{.type = "EVENT", .pattern = "PUSH"},
       {.type = "HEAD_REF", .pattern = "prod", .exclude_matched_pattern = true}}};
  EXPECT_THAT(Conflicts(Config(not_prod), Pipeline()), IsEmpty());
}

TEST(TriggerOwnerConflicts, UnknowableFiltersCountAsOverlapping) {
  std::vector<std::vector<Filter>> some_files = {
      {{.type = "EVENT", .pattern = "PUSH"}, {.type = "FILE_PATH", .pattern = "^backend/"}}};
  EXPECT_THAT(Conflicts(Config(some_files), Pipeline()), ElementsAre(HasSubstr("'prod'")));
}

TEST(TriggerOwnerConflicts, NoOverlapWithoutChangeDetectionOrOnAnotherConnection) {
  EXPECT_THAT(Conflicts(Config(kPushToProd), Pipeline({}, {{"DetectChanges", "false"}})),
              IsEmpty());
  EXPECT_THAT(Conflicts(Config(kPushToProd, "other"), Pipeline()), IsEmpty());
  EXPECT_THAT(Conflicts(Config(kPushToProd), Pipeline({}, {}, "no-webhook")), IsEmpty());
}

TEST(TriggerOwnerConflicts, PullRequestTriggers) {
  spec::Trigger pr{
      .provider_type = "CodeStarSourceConnection",
      .source_action_name = "Source",
      .pull_request = {{.events = {"OPEN"}, .branches = spec::GitFilter{.includes = {"main"}}}}};
  std::vector<std::vector<Filter>> created = {
      {{.type = "EVENT", .pattern = "PULL_REQUEST_CREATED"},
       {.type = "BASE_REF", .pattern = "^refs/heads/main$"},
       {.type = "HEAD_REF", .pattern = "^refs/heads/feature/"}}};
  EXPECT_THAT(Conflicts(Config(created), Pipeline({pr})),
              ElementsAre(HasSubstr("triggered by pull requests into 'main' on the same "
                                    "connection: one pull request event would build twice")));
  std::vector<std::vector<Filter>> merged = {{{.type = "EVENT", .pattern = "PULL_REQUEST_MERGED"}}};
  EXPECT_THAT(Conflicts(Config(merged), Pipeline({pr})), IsEmpty());  // OPEN is not CLOSED
  // The trigger replaced change detection, so pushes to prod are the project's alone.
  EXPECT_THAT(Conflicts(Config(kPushToProd), Pipeline({pr})), IsEmpty());
}

TEST(TriggerOwnerConflicts, TagTriggers) {
  spec::Trigger tags{.provider_type = "CodeStarSourceConnection",
                     .source_action_name = "Source",
                     .push = {{.tags = spec::GitFilter{.includes = {"v1", "v*"}}}}};
  std::vector<std::vector<Filter>> any_tag = {
      {{.type = "EVENT", .pattern = "PUSH"}, {.type = "HEAD_REF", .pattern = "^refs/tags/"}}};
  EXPECT_THAT(Conflicts(Config(any_tag), Pipeline({tags})),
              ElementsAre(HasSubstr("triggered by pushes of tag 'v1'")));
}

TEST(TriggerOwnerConflicts, GlobBranchesAreNotEnumerated) {
  // Conservative: only exact names are probed, so a glob-only trigger reports nothing.
  spec::Trigger glob{.provider_type = "CodeStarSourceConnection",
                     .source_action_name = "Source",
                     .push = {{.branches = spec::GitFilter{.includes = {"pro*"}}}}};
  EXPECT_THAT(Conflicts(Config(kPushToProd), Pipeline({glob})), IsEmpty());
}

}  // namespace
}  // namespace kiln::source
