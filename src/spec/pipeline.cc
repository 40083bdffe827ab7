#include "spec/pipeline.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "spec/pipeline_reader.h"
#include "spec/pipeline_tree.h"
#include "spec/yaml_util.h"

namespace kiln::spec {
namespace {

using Json = nlohmann::ordered_json;

ParsedPipeline Fail(Diagnostic d) { return ParsedPipeline{.diagnostics = {std::move(d)}}; }

// get-pipeline prints {"pipeline": {...}, "metadata": {...}}; the inner object is accepted too.
ParsedPipeline ReadDocument(const TreeValue& root, const std::string& file) {
  if (!root.IsMap()) {
    return Fail(DiagnosticAt(
        file, root.mark,
        "expected a pipeline definition (a mapping), got " + std::string(TreeKindName(root))));
  }
  const TreeValue* inner = root.Find("pipeline");
  if (!inner) return ReadPipeline(root, KeyStyle::kCamel, "", file);
  Diagnostics outer;
  for (const TreeEntry& entry : root.entries) {
    if (entry.key == "pipeline" || entry.key == "metadata") continue;
    outer.push_back(DiagnosticAt(file, entry.key_mark,
                                 "/" + PointerToken(entry.key) + ": unknown key '" + entry.key +
                                     "'; expected one of: pipeline, metadata"));
  }
  ParsedPipeline parsed = ReadPipeline(*inner, KeyStyle::kCamel, "/pipeline", file);
  if (outer.empty()) return parsed;
  outer.insert(outer.end(), parsed.diagnostics.begin(), parsed.diagnostics.end());
  return ParsedPipeline{.diagnostics = std::move(outer)};
}

Json FilterJson(const GitFilter& filter) {
  Json out = Json::object();
  if (!filter.includes.empty()) out["includes"] = filter.includes;
  if (!filter.excludes.empty()) out["excludes"] = filter.excludes;
  return out;
}

void PutFilter(Json& out, const char* key, const std::optional<GitFilter>& filter) {
  if (filter) out[key] = FilterJson(*filter);
}

Json TriggerJson(const Trigger& trigger) {
  Json git = {{"sourceActionName", trigger.source_action_name}};
  if (!trigger.push.empty()) {
    Json& push = git["push"] = Json::array();
    for (const GitPushFilter& f : trigger.push) {
      Json entry = Json::object();
      PutFilter(entry, "tags", f.tags);
      PutFilter(entry, "branches", f.branches);
      PutFilter(entry, "filePaths", f.file_paths);
      push.push_back(std::move(entry));
    }
  }
  if (!trigger.pull_request.empty()) {
    Json& pull_request = git["pullRequest"] = Json::array();
    for (const GitPullRequestFilter& f : trigger.pull_request) {
      Json entry = Json::object();
      if (!f.events.empty()) entry["events"] = f.events;
      PutFilter(entry, "branches", f.branches);
      PutFilter(entry, "filePaths", f.file_paths);
      pull_request.push_back(std::move(entry));
    }
  }
  return {{"providerType", trigger.provider_type}, {"gitConfiguration", std::move(git)}};
}

Json ArtifactsJson(const std::vector<std::string>& names) {
  Json out = Json::array();
  for (const std::string& name : names) out.push_back({{"name", name}});
  return out;
}

Json ActionJson(const Action& action) {
  Json out = {{"name", action.name},
              {"actionTypeId",
               {{"category", action.type.category},
                {"owner", action.type.owner},
                {"provider", action.type.provider},
                {"version", action.type.version}}},
              {"runOrder", action.run_order}};
  if (!action.configuration.empty()) {
    Json& config = out["configuration"] = Json::object();
    for (const auto& [key, value] : action.configuration) config[key] = value;
  }
  out["inputArtifacts"] = ArtifactsJson(action.input_artifacts);
  out["outputArtifacts"] = ArtifactsJson(action.output_artifacts);
  if (!action.namespace_name.empty()) out["namespace"] = action.namespace_name;
  return out;
}

Json StageJson(const Stage& stage) {
  Json out = {{"name", stage.name}, {"actions", Json::array()}};
  for (const Action& action : stage.actions) out["actions"].push_back(ActionJson(action));
  if (!stage.on_failure_result.empty() || !stage.retry_mode.empty()) {
    Json& on_failure = out["onFailure"] = Json::object();
    if (!stage.on_failure_result.empty()) on_failure["result"] = stage.on_failure_result;
    if (!stage.retry_mode.empty()) {
      on_failure["retryConfiguration"] = {{"retryMode", stage.retry_mode}};
    }
  }
  return out;
}

Json VariableJson(const PipelineVariable& variable) {
  Json out = {{"name", variable.name}};
  if (!variable.default_value.empty()) out["defaultValue"] = variable.default_value;
  if (!variable.description.empty()) out["description"] = variable.description;
  return out;
}

// CodePipeline namespaces: letters, digits and @ - _ (the same set as variable names).
bool IsNamespaceChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '@' || c == '-' || c == '_';
}

ParsedPipeline ParseUnguarded(std::string_view text, const std::string& file) {
  GuardedYaml yaml = LoadCheckedYaml(text, file, "pipeline definition");
  if (!yaml.diagnostics.empty()) return ParsedPipeline{.diagnostics = std::move(yaml.diagnostics)};
  Diagnostics diagnostics;
  TreeValue root = TreeFromYaml(yaml.root, file, diagnostics);
  if (!diagnostics.empty()) return ParsedPipeline{.diagnostics = std::move(diagnostics)};
  return ReadDocument(root, file);
}

}  // namespace

std::string_view ExecutionModeName(ExecutionMode m) {
  switch (m) {
    case ExecutionMode::kQueued:
      return "QUEUED";
    case ExecutionMode::kParallel:
      return "PARALLEL";
    case ExecutionMode::kSuperseded:
      break;
  }
  return "SUPERSEDED";
}

std::optional<std::string> Action::Config(std::string_view key) const {
  auto it = std::find_if(configuration.begin(), configuration.end(),
                         [&](const auto& entry) { return entry.first == key; });
  if (it == configuration.end()) return std::nullopt;
  return it->second;
}

ParsedPipeline ParsePipeline(std::string_view text, const std::string& file) {
  // Never throws: a yaml-cpp exception the reader failed to avoid becomes a diagnostic.
  try {
    return ParseUnguarded(text, file);
  } catch (const YAML::Exception& e) {
    return Fail(DiagnosticAt(file, e.mark, "cannot read the pipeline: " + e.msg));
  } catch (const std::exception& e) {
    return Fail(
        Diagnostic{.file = file, .message = std::string("cannot read the pipeline: ") + e.what()});
  }
}

std::vector<std::pair<std::string, std::string>> VariableRefs(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> refs;
  for (size_t start = text.find("#{"); start != std::string_view::npos;
       start = text.find("#{", start + 2)) {
    size_t end = text.find('}', start + 2);
    if (end == std::string_view::npos) break;
    std::string_view body = text.substr(start + 2, end - start - 2);
    size_t dot = body.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == body.size()) continue;
    std::string_view name_space = body.substr(0, dot);
    if (!std::all_of(name_space.begin(), name_space.end(), IsNamespaceChar)) continue;
    refs.emplace_back(std::string(name_space), std::string(body.substr(dot + 1)));
  }
  return refs;
}

std::string PipelineToJson(const Pipeline& p) {
  Json out = {{"name", p.name}, {"stages", Json::array()}};
  for (const Stage& stage : p.stages) out["stages"].push_back(StageJson(stage));
  out["executionMode"] = std::string(ExecutionModeName(p.execution_mode));
  out["pipelineType"] = p.pipeline_type;
  if (!p.variables.empty()) {
    Json& variables = out["variables"] = Json::array();
    for (const PipelineVariable& variable : p.variables)
      variables.push_back(VariableJson(variable));
  }
  if (!p.triggers.empty()) {
    Json& triggers = out["triggers"] = Json::array();
    for (const Trigger& trigger : p.triggers) triggers.push_back(TriggerJson(trigger));
  }
  return base::JsonText(out, 2);
}

}  // namespace kiln::spec
