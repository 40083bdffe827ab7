// What a webhook event starts: CodePipeline V2 triggers (and the V1 default of "push to the
// source action's BranchName") for pipelines, CodeBuild filter groups for projects
// (AWS-SEMANTICS.md §2.6, §5.1). Pure functions: no I/O, safe on any thread.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "source/github_webhook.h"
#include "spec/kiln_config.h"
#include "spec/pipeline.h"

namespace kiln::source {

// CodePipeline's glob syntax (the syntax-glob page): `*` any characters within one path
// component, `**` any characters across `/`, `?` one character but not `/`, `[abc]`, `[a-z]`,
// `[!a]` one character (not `/`), `{a,b}` alternatives (not nested), `\` escapes. The whole
// text must match. A malformed pattern (unclosed `[` or `{`, nested `{`, trailing `\`) matches
// nothing. Linear time (compiled to RE2).
bool CodePipelineGlobMatch(std::string_view pattern, std::string_view text);

// True when name passes the includes/excludes lists: excludes win; no includes means all.
bool MatchGitFilter(const spec::GitFilter& filter, std::string_view name);

// The connection a source action names: ConnectionArn (CodeStarSourceConnection),
// ConnectionName (Git), RepositoryName (CodeCommit, which Kiln reaches through a connection of
// that name, as pipeline/actions.cc does). Empty for a Git action with a plain Url.
std::string SourceActionConnection(const spec::Action& action);

// Whether a source action's connection reference (as SourceActionConnection returns it)
// names the connection the webhook arrived on. The caller owns what "same" means.
using SameConnection = std::function<bool(std::string_view action_connection)>;

// "Same" as kiln.yml resolves it: both names go through config.FindConnection (name or arn),
// so an action naming the connection by ARN matches a webhook posted to its name. Names
// kiln.yml does not know compare as plain text. config must outlive the returned function.
SameConnection SameConnectionIn(const spec::KilnConfig& config, std::string webhook_connection);

struct TriggerMatch {
  std::vector<std::string> source_actions;  // the source actions to start, in pipeline order
  std::string reason;  // one line saying why it matched or why not, for logs and metrics
  bool matched() const { return !source_actions.empty(); }
};

// Which source actions of pipeline the event starts. Only source actions whose connection
// same_connection accepts are considered. For each:
// - triggers naming it (sourceActionName): any push filter (tags: tag pushes only; branches
//   [+ filePaths]: branch pushes only) or pull request filter (events OPEN = opened/reopened,
//   UPDATED = synchronize/base edited, CLOSED = closed or merged; no events = all three;
//   branches = the PR's base branch; filePaths) passing, filters within one entry ANDed. A
//   trigger with neither list is CodePipeline's "no filter": pushes to BranchName.
// - no trigger: a push to its configured BranchName, unless DetectChanges is "false"
//   (CodePipeline's default change detection; tags and pull requests start nothing).
// filePaths pass when some changed file passes the includes/excludes; an event without a file
// list (pull requests, unless the caller filled changed_files) passes no filePaths filter.
// Deletions of branches or tags, pings and ignored events start nothing.
TriggerMatch MatchPipelineTriggers(const spec::Pipeline& pipeline, const WebhookEvent& event,
                                   const SameConnection& same_connection);

// The same, with connections compared as plain text against connection_name_or_arn.
TriggerMatch MatchPipelineTriggers(const spec::Pipeline& pipeline, const WebhookEvent& event,
                                   std::string_view connection_name_or_arn);

// CodeBuild filter groups: true when some group passes; a group passes when it holds an EVENT
// filter and every filter in it passes. EVENT is a comma-separated list of event names; the
// other types are RE2 regexes searched anywhere in the value (CodeBuild's example `^refs/heads/`
// anchors itself): HEAD_REF (head_ref), BASE_REF (pull requests only: on other events the
// filter fails), FILE_PATH (passes when any changed file matches), COMMIT_MESSAGE,
// ACTOR_ACCOUNT_ID. exclude_matched_pattern inverts a filter. No groups: false.
// An invalid regex fails its filter; the first such problem is written to *error if given.
bool MatchFilterGroups(const spec::ProjectWebhook& webhook, const WebhookEvent& event,
                       std::string* error = nullptr);

// "Could this event start the project?" for an event known only in part (a probe built from
// a pipeline's trigger): filters whose type is in unknown_types are taken to pass.
bool CouldMatchFilterGroups(const spec::ProjectWebhook& webhook, const WebhookEvent& probe,
                            std::span<const std::string_view> unknown_types);

}  // namespace kiln::source
