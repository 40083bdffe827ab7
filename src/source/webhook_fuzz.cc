// libFuzzer target for GitHub webhook deliveries: the first byte picks X-GitHub-Event, the
// rest is the body. Parsing, and matching what parses against a fixed pipeline (triggers with
// globs) and project webhook (regex filter groups), may not crash, hang or throw.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "source/github_webhook.h"
#include "source/trigger_filter.h"
#include "source/trigger_owner.h"

namespace {

using kiln::spec::GitFilter;

kiln::spec::Pipeline FuzzPipeline() {
  kiln::spec::Pipeline p{.name = "fuzz"};
  kiln::spec::Action source{
      .name = "Source",
      .type = {.category = "Source", .owner = "AWS", .provider = "CodeStarSourceConnection"},
      .configuration = {{"ConnectionArn", "fuzz"}, {"BranchName", "main"}}};
  kiln::spec::Action other = source;
  other.name = "Other";
  p.stages.push_back({.name = "Source", .actions = {source, other}});
  kiln::spec::Trigger trigger{.provider_type = "CodeStarSourceConnection",
                              .source_action_name = "Source"};
  trigger.push.push_back({.tags = GitFilter{.includes = {"v*.{0,1}", "[!x]?*"}}});
  trigger.push.push_back(
      {.branches = GitFilter{.includes = {"release/**", "ma[a-z]n"}, .excludes = {"**old*"}},
       .file_paths = GitFilter{.includes = {"src/**/*.cc", "*.md"}, .excludes = {"[+-0]*"}}});
  trigger.pull_request.push_back(
      {.events = {"OPEN", "CLOSED"}, .branches = GitFilter{.includes = {"*"}}});
  p.triggers.push_back(trigger);
  return p;
}

kiln::spec::ProjectWebhook FuzzWebhook() {
  using Filter = kiln::spec::ProjectWebhook::Filter;
  return {.connection = "fuzz",
          .filter_groups = {
              {Filter{.type = "EVENT", .pattern = "PUSH, PULL_REQUEST_MERGED"},
               Filter{.type = "HEAD_REF", .pattern = "^refs/(heads|tags)/.+$"},
               Filter{.type = "FILE_PATH", .pattern = "\\.md$", .exclude_matched_pattern = true}},
              {Filter{.type = "EVENT", .pattern = "PULL_REQUEST_CREATED"},
               Filter{.type = "BASE_REF", .pattern = "main"},
               Filter{.type = "COMMIT_MESSAGE", .pattern = "(?i)wip"},
               Filter{.type = "ACTOR_ACCOUNT_ID", .pattern = "^[0-9]+$"}}}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr std::string_view kEvents[] = {"push", "pull_request", "ping", "issues"};
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto parsed = kiln::source::ParseGithubWebhook(kEvents[data[0] % 4], body);
  if (!parsed.ok()) return 0;
  static const kiln::spec::Pipeline pipeline = FuzzPipeline();
  static const kiln::spec::ProjectWebhook webhook = FuzzWebhook();
  (void)kiln::source::MatchPipelineTriggers(pipeline, *parsed, "fuzz");
  std::string error;
  (void)kiln::source::MatchFilterGroups(webhook, *parsed, &error);
  // Names from the payload as glob patterns: the glob translator meets arbitrary text too.
  (void)kiln::source::CodePipelineGlobMatch(parsed->BranchName(), parsed->commit_message);
  return 0;
}
