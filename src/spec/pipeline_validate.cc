// ValidatePipeline: CodePipeline's structure rules (AWS-SEMANTICS.md §2.1-2.3, 2.6).
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "spec/pipeline.h"
#include "spec/pipeline_providers.h"

namespace kiln::spec {
namespace {

constexpr std::string_view kOnFailureResults[] = {"ROLLBACK", "FAIL", "RETRY", "SKIP"};
constexpr std::string_view kRetryModes[] = {"FAILED_ACTIONS", "ALL_ACTIONS"};
constexpr std::string_view kPullRequestEvents[] = {"OPEN", "UPDATED", "CLOSED"};
// CodePipeline: a configuration value that uses variables is limited to 1000 characters.
constexpr size_t kMaxValueWithVariables = 1000;
constexpr size_t kMaxFilterPatterns = 8;

// CodePipeline name rules: `extra` are the allowed characters besides letters and digits.
struct NameRule {
  std::string_view what;
  std::string_view extra;
  size_t max;
};
constexpr NameRule kPipelineName{"pipeline name", ".@_-", 100};
constexpr NameRule kStageName{"stage name", ".@_-", 100};
constexpr NameRule kActionName{"action name", ".@_-", 100};
constexpr NameRule kArtifactName{"artifact name", "_-", 100};
constexpr NameRule kNamespaceName{"namespace", "@_-", 100};
constexpr NameRule kVariableName{"variable name", "@_-", 128};

template <size_t N>
bool OneOf(const std::string_view (&list)[N], std::string_view value) {
  return std::find(std::begin(list), std::end(list), value) != std::end(list);
}

std::optional<std::string> CheckName(const NameRule& rule, const std::string& name) {
  bool chars_ok = std::all_of(name.begin(), name.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || rule.extra.find(c) != rule.extra.npos;
  });
  if (!name.empty() && name.size() <= rule.max && chars_ok) return std::nullopt;
  std::string allowed;
  for (char c : rule.extra) allowed += std::string(" ") + c;
  return std::string(rule.what) + " '" + name + "' is invalid: CodePipeline allows 1 to " +
         std::to_string(rule.max) + " characters of A-Z a-z 0-9" + allowed;
}

// Where an artifact or namespace comes from: the stage index and the producing action.
struct Producer {
  size_t stage;
  const Action* action;
};

class Validator {
 public:
  Validator(const Pipeline& p, const std::string& file) : p_(p), file_(file) {}
  Diagnostics Run();

 private:
  void CheckPipeline();
  void CheckStage(size_t index);
  void CheckOnFailure(size_t index, const Stage& stage);
  void CheckAction(size_t stage, const Action& action);
  void CollectProducers();
  void AddProducer(std::map<std::string, Producer>& producers, const std::string& name,
                   std::string_view what, size_t stage, const Action& action);
  std::optional<std::string> NotBefore(const Producer& from, size_t stage,
                                       const Action& action) const;
  void CheckInputs(size_t stage, const Action& action);
  void CheckVariableRefs(size_t stage, const Action& action);
  void CheckRef(size_t stage, const Action& action, const std::string& name_space,
                const std::string& key);
  void CheckVariables();
  void CheckTrigger(const Trigger& trigger);
  void CheckFilter(const Trigger& trigger, const std::optional<GitFilter>& filter,
                   std::string_view what);
  void CheckPushFilter(const Trigger& trigger, const GitPushFilter& push);
  void CheckPullRequestFilter(const Trigger& trigger, const GitPullRequestFilter& pull_request);
  void Name(int line, const std::string& ptr, const NameRule& rule, const std::string& name) {
    if (std::optional<std::string> problem = CheckName(rule, name)) Error(line, ptr, *problem);
  }
  void Error(int line, const std::string& ptr, const std::string& message) {
    out_.push_back(Diagnostic{
        .file = file_, .line = line, .message = (ptr.empty() ? "" : ptr + ": ") + message});
  }

  const Pipeline& p_;
  const std::string& file_;
  std::map<std::string, Producer> artifacts_, namespaces_;
  Diagnostics out_;
};

Diagnostics Validator::Run() {
  CheckPipeline();
  CollectProducers();
  for (size_t i = 0; i < p_.stages.size(); ++i) CheckStage(i);
  CheckVariables();
  for (const Trigger& trigger : p_.triggers) CheckTrigger(trigger);
  return std::move(out_);
}

void Validator::CheckPipeline() {
  Name(p_.line, p_.pointer, kPipelineName, p_.name);
  if (p_.stages.size() < 2) {
    Error(p_.line, p_.pointer,
          "a pipeline needs at least 2 stages, not " + std::to_string(p_.stages.size()));
  }
  if (p_.pipeline_type != "V1" && p_.pipeline_type != "V2") {
    Error(p_.line, p_.pointer, "pipelineType '" + p_.pipeline_type + "' is not V1 or V2");
  }
  bool v2 = p_.pipeline_type == "V2";
  if (!v2 && p_.execution_mode != ExecutionMode::kSuperseded) {
    Error(p_.line, p_.pointer,
          "executionMode " + std::string(ExecutionModeName(p_.execution_mode)) +
              " needs pipelineType V2 (V1 pipelines run SUPERSEDED)");
  }
  if (!v2 && !p_.variables.empty()) {
    Error(p_.line, p_.pointer, "pipeline variables need pipelineType V2");
  }
  if (!v2 && !p_.triggers.empty()) Error(p_.line, p_.pointer, "triggers need pipelineType V2");
}

void Validator::CheckStage(size_t index) {
  const Stage& stage = p_.stages[index];
  Name(stage.line, stage.pointer, kStageName, stage.name);
  for (size_t j = 0; j < index; ++j) {
    if (p_.stages[j].name == stage.name) {
      Error(stage.line, stage.pointer, "duplicate stage name '" + stage.name + "'");
    }
  }
  if (stage.actions.empty()) Error(stage.line, stage.pointer, "a stage needs at least 1 action");
  std::set<std::string> names;
  for (const Action& action : stage.actions) {
    if (!names.insert(action.name).second) {
      Error(action.line, action.pointer,
            "duplicate action name '" + action.name + "' in stage '" + stage.name + "'");
    }
    CheckAction(index, action);
  }
  CheckOnFailure(index, stage);
}

// V2 stage-level failure handling (AWS-SEMANTICS.md §2.5).
void Validator::CheckOnFailure(size_t index, const Stage& stage) {
  const std::string& result = stage.on_failure_result;
  if (result.empty() && stage.retry_mode.empty()) return;
  if (p_.pipeline_type != "V2") Error(stage.line, stage.pointer, "onFailure needs pipelineType V2");
  if (!result.empty() && !OneOf(kOnFailureResults, result)) {
    Error(stage.line, stage.pointer,
          "onFailure result '" + result + "' is not one of ROLLBACK, FAIL, RETRY, SKIP");
  }
  if (!stage.retry_mode.empty() && !OneOf(kRetryModes, stage.retry_mode)) {
    Error(stage.line, stage.pointer,
          "retryMode '" + stage.retry_mode + "' is not FAILED_ACTIONS or ALL_ACTIONS");
  }
  if (!stage.retry_mode.empty() && result != "RETRY") {
    Error(stage.line, stage.pointer, "retryConfiguration applies only to onFailure result RETRY");
  }
  // CodePipeline: a source stage cannot be rolled back.
  if (index == 0 && result == "ROLLBACK") {
    Error(stage.line, stage.pointer, "the source stage cannot be rolled back");
  }
}

void Validator::CheckAction(size_t stage, const Action& action) {
  Name(action.line, action.pointer, kActionName, action.name);
  // CodePipeline: the first stage holds only source actions, and only it may hold them.
  if (stage == 0 && !IsSourceAction(action)) {
    Error(action.line, action.pointer,
          "the first stage may hold only Source actions, not " + action.type.category);
  } else if (stage > 0 && IsSourceAction(action)) {
    Error(action.line, action.pointer, "Source actions belong in the first stage only");
  }
  if (action.run_order < 1 || action.run_order > 999) {
    Error(action.line, action.pointer,
          "runOrder " + std::to_string(action.run_order) + " is not from 1 to 999");
  }
  for (const std::string& problem : CheckProvider(action)) {
    Error(action.line, action.pointer, problem);
  }
  CheckInputs(stage, action);
  CheckVariableRefs(stage, action);
}

void Validator::CollectProducers() {
  for (size_t i = 0; i < p_.stages.size(); ++i) {
    for (const Action& action : p_.stages[i].actions) {
      for (const std::string& name : action.output_artifacts) {
        Name(action.line, action.pointer, kArtifactName, name);
        AddProducer(artifacts_, name, "output artifact", i, action);
      }
      if (action.namespace_name.empty()) continue;
      Name(action.line, action.pointer, kNamespaceName, action.namespace_name);
      AddProducer(namespaces_, action.namespace_name, "namespace", i, action);
    }
  }
  // CodePipeline: namespaces must not clash with artifact names.
  for (const auto& [name, producer] : namespaces_) {
    if (artifacts_.contains(name)) {
      Error(producer.action->line, producer.action->pointer,
            "namespace '" + name + "' has the same name as an output artifact");
    }
  }
}

void Validator::AddProducer(std::map<std::string, Producer>& producers, const std::string& name,
                            std::string_view what, size_t stage, const Action& action) {
  auto [it, added] = producers.emplace(name, Producer{stage, &action});
  if (added) return;
  Error(action.line, action.pointer,
        "duplicate " + std::string(what) + " '" + name + "' (also in action '" +
            it->second.action->name + "' at " + it->second.action->pointer + ")");
}

// Why `from` does not run before `action`, or nothing when it does: an earlier stage, or a
// lower runOrder in the same stage.
std::optional<std::string> Validator::NotBefore(const Producer& from, size_t stage,
                                                const Action& action) const {
  if (from.stage < stage) return std::nullopt;
  if (from.stage == stage && from.action->run_order < action.run_order) return std::nullopt;
  std::string where = from.stage > stage
                          ? "a later stage"
                          : "the same stage with runOrder " +
                                std::to_string(from.action->run_order) + " (not lower than " +
                                std::to_string(action.run_order) + ")";
  return "action '" + from.action->name + "', which runs in " + where;
}

void Validator::CheckInputs(size_t stage, const Action& action) {
  for (const std::string& name : action.input_artifacts) {
    Name(action.line, action.pointer, kArtifactName, name);
    auto it = artifacts_.find(name);
    if (it == artifacts_.end()) {
      Error(action.line, action.pointer,
            "input artifact '" + name + "' is not an output of any action");
    } else if (std::optional<std::string> why = NotBefore(it->second, stage, action)) {
      Error(action.line, action.pointer, "input artifact '" + name + "' is produced by " + *why);
    } else if (it->second.action->Config("OutputArtifactFormat") == "CODEBUILD_CLONE_REF" &&
               action.type.provider != "CodeBuild") {
      // CodeStarSourceConnection: a full clone can only be consumed by CodeBuild.
      Error(action.line, action.pointer,
            "input artifact '" + name + "' is a CODEBUILD_CLONE_REF, which only CodeBuild reads");
    }
  }
}

void Validator::CheckVariableRefs(size_t stage, const Action& action) {
  for (const auto& [key, value] : action.configuration) {
    std::vector<std::pair<std::string, std::string>> refs = VariableRefs(value);
    if (!refs.empty() && value.size() > kMaxValueWithVariables) {
      Error(action.line, action.pointer,
            "configuration value '" + key + "' uses variables and is longer than 1000 characters");
    }
    for (const auto& [name_space, name] : refs) CheckRef(stage, action, name_space, name);
  }
}

void Validator::CheckRef(size_t stage, const Action& action, const std::string& name_space,
                         const std::string& key) {
  std::string ref = "#{" + name_space + "." + key + "}";
  if (name_space == "codepipeline") {
    if (key != "PipelineExecutionId") {
      Error(action.line, action.pointer,
            ref + ": the codepipeline namespace has only PipelineExecutionId");
    }
    return;
  }
  if (name_space == "variables") {
    bool declared = std::any_of(p_.variables.begin(), p_.variables.end(),
                                [&](const PipelineVariable& v) { return v.name == key; });
    if (!declared) Error(action.line, action.pointer, ref + ": no pipeline variable " + key);
    return;
  }
  auto it = namespaces_.find(name_space);
  if (it == namespaces_.end()) {
    Error(action.line, action.pointer, ref + ": no action declares namespace " + name_space);
  } else if (std::optional<std::string> why = NotBefore(it->second, stage, action)) {
    // CodePipeline: a variable can be read only by an action that runs after its producer.
    Error(action.line, action.pointer, ref + ": namespace " + name_space + " belongs to " + *why);
  }
}

// V2 pipeline variables (AWS-SEMANTICS.md §2.3).
void Validator::CheckVariables() {
  std::set<std::string> names;
  for (const PipelineVariable& v : p_.variables) {
    Name(v.line, v.pointer, kVariableName, v.name);
    if (!names.insert(v.name).second) {
      Error(v.line, v.pointer, "duplicate pipeline variable '" + v.name + "'");
    }
    if (v.default_value.size() > 1000) {
      Error(v.line, v.pointer, "defaultValue is longer than 1000 characters");
    }
    if (v.description.size() > 200) {
      Error(v.line, v.pointer, "description is longer than 200 characters");
    }
  }
}

void Validator::CheckTrigger(const Trigger& trigger) {
  if (trigger.provider_type != "CodeStarSourceConnection") {
    Error(trigger.line, trigger.pointer,
          "providerType '" + trigger.provider_type + "' is not CodeStarSourceConnection");
  }
  const Action* source = nullptr;
  if (!p_.stages.empty()) {
    for (const Action& action : p_.stages.front().actions) {
      if (action.name == trigger.source_action_name) source = &action;
    }
  }
  if (!source) {
    Error(trigger.line, trigger.pointer,
          "sourceActionName '" + trigger.source_action_name + "' is not a source action");
  } else if (!UsesConnection(*source)) {
    // CodePipeline: triggers work only for source actions that use connections.
    Error(trigger.line, trigger.pointer,
          "source action '" + source->name + "' does not use a connection; triggers need one");
  }
  for (const GitPushFilter& push : trigger.push) CheckPushFilter(trigger, push);
  for (const GitPullRequestFilter& pr : trigger.pull_request) CheckPullRequestFilter(trigger, pr);
}

void Validator::CheckFilter(const Trigger& trigger, const std::optional<GitFilter>& filter,
                            std::string_view what) {
  if (!filter) return;
  if (filter->includes.empty() && filter->excludes.empty()) {
    Error(trigger.line, trigger.pointer, std::string(what) + " filter needs includes or excludes");
  }
  // CodePipeline: each includes/excludes list holds 1 to 8 patterns.
  if (filter->includes.size() > kMaxFilterPatterns ||
      filter->excludes.size() > kMaxFilterPatterns) {
    Error(trigger.line, trigger.pointer,
          std::string(what) + " filter holds more than 8 patterns in a list");
  }
}

// CodePipeline accepts push filters on tags, branches, or branches + filePaths.
void Validator::CheckPushFilter(const Trigger& trigger, const GitPushFilter& push) {
  bool valid = push.tags ? !push.branches && !push.file_paths : push.branches.has_value();
  if (!valid) {
    Error(trigger.line, trigger.pointer,
          "a push filter takes tags, branches, or branches with filePaths");
  }
  CheckFilter(trigger, push.tags, "tags");
  CheckFilter(trigger, push.branches, "branches");
  CheckFilter(trigger, push.file_paths, "filePaths");
}

// CodePipeline accepts pull-request filters on branches, or branches + filePaths.
void Validator::CheckPullRequestFilter(const Trigger& trigger, const GitPullRequestFilter& pr) {
  if (!pr.branches) {
    Error(trigger.line, trigger.pointer,
          "a pullRequest filter takes branches, or branches with filePaths");
  }
  for (const std::string& event : pr.events) {
    if (!OneOf(kPullRequestEvents, event)) {
      Error(trigger.line, trigger.pointer,
            "pull request event '" + event + "' is not one of OPEN, UPDATED, CLOSED");
    }
  }
  CheckFilter(trigger, pr.branches, "branches");
  CheckFilter(trigger, pr.file_paths, "filePaths");
}

}  // namespace

Diagnostics ValidatePipeline(const Pipeline& p, const std::string& file) {
  return Validator(p, file).Run();
}

}  // namespace kiln::spec
