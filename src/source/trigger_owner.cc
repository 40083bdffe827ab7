#include "source/trigger_owner.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "source/github_webhook.h"
#include "source/trigger_filter.h"
#include "spec/pipeline_providers.h"

namespace kiln::source {
namespace {

// An event a pipeline trigger would start on, and how to say so in a message.
struct Probe {
  WebhookEvent event;
  std::string description;  // "pushes to 'prod'"
  std::string unit;         // "push"
};

constexpr std::array<std::string_view, 3> kUnknownOnPush = {"FILE_PATH", "COMMIT_MESSAGE",
                                                            "ACTOR_ACCOUNT_ID"};
constexpr std::array<std::string_view, 4> kUnknownOnPullRequest = {"FILE_PATH", "COMMIT_MESSAGE",
                                                                   "ACTOR_ACCOUNT_ID", "HEAD_REF"};

bool IsExactName(std::string_view pattern) {
  return pattern.find_first_of("*?[{\\") == std::string_view::npos;
}

// The exact names a filter lets through (its literal includes not excluded).
std::vector<std::string> ExactNames(const std::optional<spec::GitFilter>& filter) {
  std::vector<std::string> out;
  if (!filter) return out;
  for (const std::string& name : filter->includes) {
    if (IsExactName(name) && MatchGitFilter(*filter, name)) out.push_back(name);
  }
  return out;
}

Probe PushProbe(std::string_view prefix, const std::string& name) {
  Probe p{.description =
              prefix == "refs/tags/" ? "pushes of tag '" + name + "'" : "pushes to '" + name + "'",
          .unit = "push"};
  p.event.kind = WebhookKind::kPush;
  p.event.codebuild_event = "PUSH";
  p.event.head_ref = std::string(prefix) + name;
  return p;
}

// CodePipeline's pull request event names, as the CodeBuild events they stand for.
std::vector<std::string_view> CodeBuildEvents(const std::vector<std::string>& events) {
  std::vector<std::string_view> out;
  auto wants = [&](std::string_view e) {
    return events.empty() || std::find(events.begin(), events.end(), e) != events.end();
  };
  if (wants("OPEN")) out.insert(out.end(), {"PULL_REQUEST_CREATED", "PULL_REQUEST_REOPENED"});
  if (wants("UPDATED")) out.push_back("PULL_REQUEST_UPDATED");
  if (wants("CLOSED")) out.insert(out.end(), {"PULL_REQUEST_CLOSED", "PULL_REQUEST_MERGED"});
  return out;
}

void AddPullRequestProbes(const spec::GitPullRequestFilter& f, std::vector<Probe>& out) {
  for (const std::string& base : ExactNames(f.branches)) {
    for (std::string_view event : CodeBuildEvents(f.events)) {
      Probe p{.description = "pull requests into '" + base + "'", .unit = "pull request event"};
      p.event.kind = WebhookKind::kPullRequest;
      p.event.codebuild_event = std::string(event);
      p.event.base_ref = "refs/heads/" + base;
      out.push_back(std::move(p));
    }
  }
}

void AddTriggerProbes(const spec::Trigger& t, const spec::Action& source, std::vector<Probe>& out) {
  if (t.push.empty() && t.pull_request.empty()) {
    out.push_back(PushProbe("refs/heads/", source.Config("BranchName").value_or("")));
  }
  for (const spec::GitPushFilter& f : t.push) {
    for (const std::string& tag : ExactNames(f.tags)) out.push_back(PushProbe("refs/tags/", tag));
    if (f.tags) continue;
    for (const std::string& b : ExactNames(f.branches)) out.push_back(PushProbe("refs/heads/", b));
  }
  for (const spec::GitPullRequestFilter& f : t.pull_request) AddPullRequestProbes(f, out);
}

// The events on which the pipeline starts this source action, as far as names are exact.
std::vector<Probe> SourceProbes(const spec::Pipeline& p, const spec::Action& source) {
  std::vector<Probe> out;
  bool has_trigger = false;
  for (const spec::Trigger& t : p.triggers) {
    if (t.source_action_name != source.name) continue;
    has_trigger = true;
    AddTriggerProbes(t, source, out);
  }
  std::string detect = source.Config("DetectChanges").value_or("true");
  std::transform(detect.begin(), detect.end(), detect.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!has_trigger && detect != "false") {
    out.push_back(PushProbe("refs/heads/", source.Config("BranchName").value_or("")));
  }
  return out;
}

// The first event on which both the project's webhook and the pipeline's source would fire.
const Probe* FirstOverlap(const spec::ProjectWebhook& webhook, const std::vector<Probe>& probes) {
  for (const Probe& probe : probes) {
    bool pr = probe.event.kind == WebhookKind::kPullRequest;
    std::span<const std::string_view> unknown =
        pr ? std::span<const std::string_view>(kUnknownOnPullRequest) : kUnknownOnPush;
    if (CouldMatchFilterGroups(webhook, probe.event, unknown)) return &probe;
  }
  return nullptr;
}

std::string Message(const spec::Project& project, const spec::Pipeline& pipeline,
                    const spec::Action& build, const Probe& probe) {
  return "project '" + project.name + "' has its own webhook on connection '" +
         project.webhook->connection + "' and is the build action '" + build.name +
         "' of pipeline '" + pipeline.name + "', triggered by " + probe.description +
         " on the same connection: one " + probe.unit +
         " would build twice (AWS runs both); remove the project's webhook or the pipeline "
         "trigger";
}

// The overlap between one project's webhook and one pipeline, if any.
std::optional<Probe> PipelineOverlap(const spec::KilnConfig& config, const spec::Project& project,
                                     const spec::Pipeline& pipeline) {
  if (pipeline.stages.empty()) return std::nullopt;
  SameConnection same = SameConnectionIn(config, project.webhook->connection);
  for (const spec::Action& source : pipeline.stages.front().actions) {
    if (!spec::IsSourceAction(source) || !same(SourceActionConnection(source))) continue;
    std::vector<Probe> probes = SourceProbes(pipeline, source);
    if (const Probe* hit = FirstOverlap(*project.webhook, probes)) return *hit;
  }
  return std::nullopt;
}

void CheckProject(const spec::KilnConfig& config, const spec::Project& project,
                  const spec::Pipeline& pipeline, std::vector<std::string>& out) {
  std::optional<Probe> overlap;
  bool checked = false;
  for (const spec::Stage& stage : pipeline.stages) {
    for (const spec::Action& action : stage.actions) {
      if (action.type.provider != "CodeBuild" ||
          action.Config("ProjectName").value_or("") != project.name) {
        continue;
      }
      if (!checked) overlap = PipelineOverlap(config, project, pipeline);
      checked = true;
      if (overlap) out.push_back(Message(project, pipeline, action, *overlap));
    }
  }
}

}  // namespace

std::vector<std::string> TriggerOwnerConflicts(
    const spec::KilnConfig& config, const std::vector<const spec::Pipeline*>& pipelines) {
  std::vector<std::string> out;
  for (const spec::Project& project : config.projects) {
    if (!project.webhook) continue;
    for (const spec::Pipeline* pipeline : pipelines) {
      if (pipeline) CheckProject(config, project, *pipeline, out);
    }
  }
  return out;
}

}  // namespace kiln::source
