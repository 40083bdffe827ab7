#include "spec/pipeline_reader.h"

#include <algorithm>
#include <cctype>
#include <span>
#include <utility>

#include "spec/yaml_util.h"

namespace kiln::spec {
namespace {

using KeyList = std::span<const std::string_view>;

// Keys are listed in camelCase (get-pipeline); CloudFormation spells the same ones PascalCase.
constexpr std::string_view kPipelineKeys[] = {"name",         "stages",    "executionMode",
                                              "pipelineType", "variables", "triggers"};
// Accepted and ignored: AWS-only settings (DESIGN.md "Pipeline definitions").
constexpr std::string_view kIgnoredJsonKeys[] = {"roleArn", "artifactStore", "artifactStores",
                                                 "version"};
constexpr std::string_view kIgnoredTemplateKeys[] = {
    "roleArn",        "artifactStore",
    "artifactStores", "restartExecutionOnUpdate",
    "tags",           "disableInboundStageTransitions"};
constexpr std::string_view kStageKeys[] = {"name",      "actions",   "blockers",
                                           "onFailure", "onSuccess", "beforeEntry"};
constexpr std::string_view kActionKeys[] = {"name",          "actionTypeId",   "runOrder",
                                            "configuration", "inputArtifacts", "outputArtifacts",
                                            "namespace",     "region",         "roleArn"};
constexpr std::string_view kTypeIdKeys[] = {"category", "owner", "provider", "version"};
constexpr std::string_view kArtifactKeys[] = {"name"};
constexpr std::string_view kOnFailureKeys[] = {"result", "retryConfiguration", "conditions"};
constexpr std::string_view kRetryKeys[] = {"retryMode"};
constexpr std::string_view kConditionsKeys[] = {"conditions"};
constexpr std::string_view kVariableKeys[] = {"name", "defaultValue", "description"};
constexpr std::string_view kTriggerKeys[] = {"providerType", "gitConfiguration"};
constexpr std::string_view kGitKeys[] = {"sourceActionName", "push", "pullRequest"};
constexpr std::string_view kPushKeys[] = {"tags", "branches", "filePaths"};
constexpr std::string_view kPullRequestKeys[] = {"events", "branches", "filePaths"};
constexpr std::string_view kFilterKeys[] = {"includes", "excludes"};
constexpr KeyList kNone;

class Reader {
 public:
  Reader(KeyStyle style, const std::string& file) : style_(style), file_(file) {}

  Pipeline ReadPipeline(const TreeValue& v, const std::string& ptr);
  Diagnostics Take() { return std::move(out_); }

 private:
  std::string Key(std::string_view camel) const;
  std::string Child(const std::string& ptr, std::string_view camel) const {
    return ptr + "/" + PointerToken(Key(camel));
  }
  std::vector<std::string> Keys(KeyList camel) const;
  bool CheckMap(const TreeValue& v, const std::string& ptr);
  void CheckKeys(const TreeValue& map, KeyList known, KeyList ignored, const std::string& ptr);
  const TreeValue* Field(const TreeValue& map, std::string_view camel) const {
    return map.Find(Key(camel));
  }
  const TreeValue* Required(const TreeValue& map, std::string_view camel, const std::string& ptr);
  std::string String(const TreeValue& map, std::string_view camel, const std::string& ptr,
                     bool required = false);
  std::string ScalarText(const TreeValue& v, const std::string& ptr);
  int Int(const TreeValue& map, std::string_view camel, const std::string& ptr, int fallback);
  template <typename Each>
  void List(const TreeValue& map, std::string_view camel, const std::string& ptr, bool required,
            Each each);
  std::vector<std::string> Strings(const TreeValue& map, std::string_view camel,
                                   const std::string& ptr);

  Stage ReadStage(const TreeValue& v, const std::string& ptr);
  void ReadOnFailure(const TreeValue& v, const std::string& ptr, Stage& stage);
  void RefuseConditions(const TreeValue& map, const std::string& ptr);
  Action ReadAction(const TreeValue& v, const std::string& ptr);
  ActionTypeId ReadTypeId(const TreeValue& v, const std::string& ptr);
  void ReadConfiguration(const TreeValue& v, const std::string& ptr, Action& action);
  std::vector<std::string> ReadArtifacts(const TreeValue& map, std::string_view camel,
                                         const std::string& ptr);
  PipelineVariable ReadVariable(const TreeValue& v, const std::string& ptr);
  Trigger ReadTrigger(const TreeValue& v, const std::string& ptr);
  void ReadGitConfiguration(const TreeValue& v, const std::string& ptr, Trigger& trigger);
  std::optional<GitFilter> ReadFilter(const TreeValue& map, std::string_view camel,
                                      const std::string& ptr);
  void Error(const YAML::Mark& mark, const std::string& ptr, const std::string& message) {
    // The root's pointer is "" (a whole inner get-pipeline object).
    out_.push_back(DiagnosticAt(file_, mark, (ptr.empty() ? "" : ptr + ": ") + message));
  }

  KeyStyle style_;
  const std::string& file_;
  Diagnostics out_;
};

std::string Reader::Key(std::string_view camel) const {
  std::string key(camel);
  if (style_ == KeyStyle::kPascal && !key.empty()) {
    key[0] = char(std::toupper(static_cast<unsigned char>(key[0])));
  }
  return key;
}

std::vector<std::string> Reader::Keys(KeyList camel) const {
  std::vector<std::string> out;
  for (std::string_view key : camel) out.push_back(Key(key));
  return out;
}

bool Reader::CheckMap(const TreeValue& v, const std::string& ptr) {
  if (v.IsMap()) return true;
  Error(v.mark, ptr, "expected a mapping, got " + std::string(TreeKindName(v)));
  return false;
}

void Reader::CheckKeys(const TreeValue& map, KeyList known, KeyList ignored,
                       const std::string& ptr) {
  std::vector<std::string> names = Keys(known), skipped = Keys(ignored);
  for (const TreeEntry& entry : map.entries) {
    auto is = [&](const std::string& k) { return k == entry.key; };
    if (std::any_of(names.begin(), names.end(), is) ||
        std::any_of(skipped.begin(), skipped.end(), is)) {
      continue;
    }
    std::vector<std::string> all = names;
    all.insert(all.end(), skipped.begin(), skipped.end());
    std::string expected;
    for (const std::string& k : all) expected += (expected.empty() ? "" : ", ") + k;
    Error(entry.key_mark, ptr + "/" + PointerToken(entry.key),
          "unknown key '" + entry.key + "'; expected one of: " + expected);
  }
}

const TreeValue* Reader::Required(const TreeValue& map, std::string_view camel,
                                  const std::string& ptr) {
  const TreeValue* v = Field(map, camel);
  if (!v) Error(map.mark, ptr, "missing required key '" + Key(camel) + "'");
  return v;
}

std::string Reader::ScalarText(const TreeValue& v, const std::string& ptr) {
  if (v.IsScalar()) return v.text;
  Error(v.mark, ptr, "expected a string, got " + std::string(TreeKindName(v)));
  return "";
}

std::string Reader::String(const TreeValue& map, std::string_view camel, const std::string& ptr,
                           bool required) {
  const TreeValue* v = required ? Required(map, camel, ptr) : Field(map, camel);
  return v ? ScalarText(*v, Child(ptr, camel)) : "";
}

int Reader::Int(const TreeValue& map, std::string_view camel, const std::string& ptr,
                int fallback) {
  const TreeValue* v = Field(map, camel);
  if (!v) return fallback;
  std::string text = ScalarText(*v, Child(ptr, camel));
  if (std::optional<int> value = ParseWholeInt(text)) return *value;
  if (v->IsScalar()) Error(v->mark, Child(ptr, camel), "expected an integer, got '" + text + "'");
  return fallback;
}

template <typename Each>
void Reader::List(const TreeValue& map, std::string_view camel, const std::string& ptr,
                  bool required, Each each) {
  const TreeValue* v = required ? Required(map, camel, ptr) : Field(map, camel);
  if (!v) return;
  std::string list_ptr = Child(ptr, camel);
  if (!v->IsList()) {
    Error(v->mark, list_ptr, "expected a list, got " + std::string(TreeKindName(*v)));
    return;
  }
  for (size_t i = 0; i < v->items.size(); ++i) {
    each(v->items[i], list_ptr + "/" + std::to_string(i));
  }
}

std::vector<std::string> Reader::Strings(const TreeValue& map, std::string_view camel,
                                         const std::string& ptr) {
  std::vector<std::string> out;
  List(map, camel, ptr, false,
       [&](const TreeValue& item, const std::string& p) { out.push_back(ScalarText(item, p)); });
  return out;
}

Pipeline Reader::ReadPipeline(const TreeValue& v, const std::string& ptr) {
  Pipeline p{.line = v.mark.line + 1, .pointer = ptr};
  if (!CheckMap(v, ptr)) return p;
  CheckKeys(v, kPipelineKeys,
            style_ == KeyStyle::kCamel ? KeyList(kIgnoredJsonKeys) : KeyList(kIgnoredTemplateKeys),
            ptr);
  p.name = String(v, "name", ptr, true);
  List(v, "stages", ptr, true,
       [&](const TreeValue& s, const std::string& sp) { p.stages.push_back(ReadStage(s, sp)); });
  if (const TreeValue* mode = Field(v, "executionMode")) {
    std::string text = ScalarText(*mode, Child(ptr, "executionMode"));
    if (text == "QUEUED") {
      p.execution_mode = ExecutionMode::kQueued;
    } else if (text == "PARALLEL") {
      p.execution_mode = ExecutionMode::kParallel;
    } else if (text != "SUPERSEDED" && mode->IsScalar()) {
      Error(mode->mark, Child(ptr, "executionMode"),
            "executionMode '" + text + "' is not one of SUPERSEDED, QUEUED, PARALLEL");
    }
  }
  if (Field(v, "pipelineType")) p.pipeline_type = String(v, "pipelineType", ptr);
  List(v, "variables", ptr, false, [&](const TreeValue& item, const std::string& ip) {
    p.variables.push_back(ReadVariable(item, ip));
  });
  List(v, "triggers", ptr, false, [&](const TreeValue& item, const std::string& ip) {
    p.triggers.push_back(ReadTrigger(item, ip));
  });
  return p;
}

Stage Reader::ReadStage(const TreeValue& v, const std::string& ptr) {
  Stage stage{.line = v.mark.line + 1, .pointer = ptr};
  if (!CheckMap(v, ptr)) return stage;
  CheckKeys(v, kStageKeys, kNone, ptr);
  stage.name = String(v, "name", ptr, true);
  List(v, "actions", ptr, true, [&](const TreeValue& a, const std::string& ap) {
    stage.actions.push_back(ReadAction(a, ap));
  });
  if (const TreeValue* on_failure = Field(v, "onFailure")) {
    ReadOnFailure(*on_failure, Child(ptr, "onFailure"), stage);
  }
  for (std::string_view gate : {"onSuccess", "beforeEntry"}) {
    const TreeValue* g = Field(v, gate);
    if (g && CheckMap(*g, Child(ptr, gate))) {
      CheckKeys(*g, kConditionsKeys, kNone, Child(ptr, gate));
      RefuseConditions(*g, Child(ptr, gate));
    }
  }
  return stage;
}

void Reader::ReadOnFailure(const TreeValue& v, const std::string& ptr, Stage& stage) {
  if (!CheckMap(v, ptr)) return;
  CheckKeys(v, kOnFailureKeys, kNone, ptr);
  stage.on_failure_result = String(v, "result", ptr);
  if (const TreeValue* retry = Field(v, "retryConfiguration")) {
    std::string retry_ptr = Child(ptr, "retryConfiguration");
    if (CheckMap(*retry, retry_ptr)) {
      CheckKeys(*retry, kRetryKeys, kNone, retry_ptr);
      stage.retry_mode = String(*retry, "retryMode", retry_ptr);
    }
  }
  RefuseConditions(v, ptr);
}

// Stage conditions gate a stage (deployment windows, alarms...). Ignoring one could deploy what
// it was meant to hold back, so a non-empty list is refused rather than dropped.
void Reader::RefuseConditions(const TreeValue& map, const std::string& ptr) {
  const TreeValue* conditions = Field(map, "conditions");
  if (!conditions || (conditions->IsList() && conditions->items.empty())) return;
  Error(conditions->mark, Child(ptr, "conditions"),
        "stage conditions are not supported by Kiln yet");
}

Action Reader::ReadAction(const TreeValue& v, const std::string& ptr) {
  Action action{.line = v.mark.line + 1, .pointer = ptr};
  if (!CheckMap(v, ptr)) return action;
  CheckKeys(v, kActionKeys, kNone, ptr);
  action.name = String(v, "name", ptr, true);
  if (const TreeValue* type = Required(v, "actionTypeId", ptr)) {
    action.type = ReadTypeId(*type, Child(ptr, "actionTypeId"));
  }
  action.run_order = Int(v, "runOrder", ptr, 1);
  if (const TreeValue* config = Field(v, "configuration")) {
    ReadConfiguration(*config, Child(ptr, "configuration"), action);
  }
  action.input_artifacts = ReadArtifacts(v, "inputArtifacts", ptr);
  action.output_artifacts = ReadArtifacts(v, "outputArtifacts", ptr);
  action.namespace_name = String(v, "namespace", ptr);
  return action;
}

ActionTypeId Reader::ReadTypeId(const TreeValue& v, const std::string& ptr) {
  ActionTypeId type;
  if (!CheckMap(v, ptr)) return type;
  CheckKeys(v, kTypeIdKeys, kNone, ptr);
  type.category = String(v, "category", ptr, true);
  type.owner = String(v, "owner", ptr, true);
  type.provider = String(v, "provider", ptr, true);
  if (Field(v, "version")) type.version = String(v, "version", ptr);
  return type;
}

// CodePipeline configuration values are strings. A list or map (a YAML-friendly way to write
// EnvironmentVariables) becomes its JSON text, which is what AWS would have been given.
void Reader::ReadConfiguration(const TreeValue& v, const std::string& ptr, Action& action) {
  if (!CheckMap(v, ptr)) return;
  for (const TreeEntry& entry : v.entries) {
    const TreeValue& value = entry.value;
    if (value.kind == TreeValue::Kind::kNull) {
      Error(value.mark, ptr + "/" + PointerToken(entry.key),
            "configuration value '" + entry.key + "' is null; expected a string");
      continue;
    }
    action.configuration.emplace_back(entry.key,
                                      value.IsScalar() ? value.text : TreeToJsonText(value));
  }
}

std::vector<std::string> Reader::ReadArtifacts(const TreeValue& map, std::string_view camel,
                                               const std::string& ptr) {
  std::vector<std::string> names;
  List(map, camel, ptr, false, [&](const TreeValue& item, const std::string& ip) {
    if (!CheckMap(item, ip)) return;
    CheckKeys(item, kArtifactKeys, kNone, ip);
    names.push_back(String(item, "name", ip, true));
  });
  return names;
}

PipelineVariable Reader::ReadVariable(const TreeValue& v, const std::string& ptr) {
  PipelineVariable variable{.line = v.mark.line + 1, .pointer = ptr};
  if (!CheckMap(v, ptr)) return variable;
  CheckKeys(v, kVariableKeys, kNone, ptr);
  variable.name = String(v, "name", ptr, true);
  variable.default_value = String(v, "defaultValue", ptr);
  variable.description = String(v, "description", ptr);
  return variable;
}

Trigger Reader::ReadTrigger(const TreeValue& v, const std::string& ptr) {
  Trigger trigger{.line = v.mark.line + 1, .pointer = ptr};
  if (!CheckMap(v, ptr)) return trigger;
  CheckKeys(v, kTriggerKeys, kNone, ptr);
  trigger.provider_type = String(v, "providerType", ptr, true);
  if (const TreeValue* git = Required(v, "gitConfiguration", ptr)) {
    ReadGitConfiguration(*git, Child(ptr, "gitConfiguration"), trigger);
  }
  return trigger;
}

void Reader::ReadGitConfiguration(const TreeValue& v, const std::string& ptr, Trigger& trigger) {
  if (!CheckMap(v, ptr)) return;
  CheckKeys(v, kGitKeys, kNone, ptr);
  trigger.source_action_name = String(v, "sourceActionName", ptr, true);
  List(v, "push", ptr, false, [&](const TreeValue& item, const std::string& ip) {
    if (!CheckMap(item, ip)) return;
    CheckKeys(item, kPushKeys, kNone, ip);
    trigger.push.push_back(GitPushFilter{.tags = ReadFilter(item, "tags", ip),
                                         .branches = ReadFilter(item, "branches", ip),
                                         .file_paths = ReadFilter(item, "filePaths", ip)});
  });
  List(v, "pullRequest", ptr, false, [&](const TreeValue& item, const std::string& ip) {
    if (!CheckMap(item, ip)) return;
    CheckKeys(item, kPullRequestKeys, kNone, ip);
    trigger.pull_request.push_back(
        GitPullRequestFilter{.events = Strings(item, "events", ip),
                             .branches = ReadFilter(item, "branches", ip),
                             .file_paths = ReadFilter(item, "filePaths", ip)});
  });
}

std::optional<GitFilter> Reader::ReadFilter(const TreeValue& map, std::string_view camel,
                                            const std::string& ptr) {
  const TreeValue* v = Field(map, camel);
  if (!v || !CheckMap(*v, Child(ptr, camel))) return std::nullopt;
  std::string filter_ptr = Child(ptr, camel);
  CheckKeys(*v, kFilterKeys, kNone, filter_ptr);
  return GitFilter{.includes = Strings(*v, "includes", filter_ptr),
                   .excludes = Strings(*v, "excludes", filter_ptr)};
}

}  // namespace

ParsedPipeline ReadPipeline(const TreeValue& object, KeyStyle style, const std::string& pointer,
                            const std::string& file) {
  Reader reader(style, file);
  Pipeline pipeline = reader.ReadPipeline(object, pointer);
  ParsedPipeline out{.diagnostics = reader.Take()};
  if (out.diagnostics.empty()) out.pipeline = std::move(pipeline);
  return out;
}

}  // namespace kiln::spec
