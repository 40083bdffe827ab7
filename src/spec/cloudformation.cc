#include "spec/cloudformation.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <utility>

#include "spec/cfn_eval.h"
#include "spec/pipeline_reader.h"
#include "spec/pipeline_tree.h"
#include "spec/yaml_util.h"

namespace kiln::spec {
namespace {

constexpr std::string_view kPipelineType = "AWS::CodePipeline::Pipeline";
constexpr std::string_view kProjectType = "AWS::CodeBuild::Project";
// Pipeline properties with no meaning for Kiln: left unevaluated, so that e.g. a RoleArn made
// of !GetAtt of an IAM role needs no value.
constexpr std::string_view kIgnoredProperties[] = {"ArtifactStore", "ArtifactStores", "RoleArn",
                                                   "RestartExecutionOnUpdate", "Tags"};

struct Template {
  YAML::Node root;
  Diagnostics diagnostics;
};

Template LoadTemplate(std::string_view text, const std::string& file) {
  GuardedYaml yaml = LoadCheckedYaml(text, file, "CloudFormation template");
  if (!yaml.diagnostics.empty()) return Template{.diagnostics = std::move(yaml.diagnostics)};
  const YAML::Node& root = yaml.root;
  std::string problem;
  if (!root.IsMap()) {
    problem = "expected a CloudFormation template (a mapping), got " + std::string(KindName(root));
  } else if (std::optional<YAML::Node> resources = YamlEntry(root, "Resources");
             !resources || !resources->IsMap()) {
    problem = "the template has no Resources mapping";
  }
  if (problem.empty()) return Template{.root = root};
  return Template{.diagnostics = {DiagnosticAt(file, root.Mark(), problem)}};
}

std::string ResourcePointer(const std::string& logical_id) {
  return "/Resources/" + PointerToken(logical_id);
}

// The resources of `type` that the stack would create (their Condition, if any, holds).
std::vector<CfnResource> ExistingResources(CfnEvaluator& eval, std::string_view type) {
  std::vector<CfnResource> out;
  for (CfnResource& resource : eval.Resources(type)) {
    if (eval.ResourceExists(resource.node, ResourcePointer(resource.logical_id)).value_or(false)) {
      out.push_back(std::move(resource));
    }
  }
  return out;
}

bool IsIgnored(const std::string& property) {
  return std::find(std::begin(kIgnoredProperties), std::end(kIgnoredProperties), property) !=
         std::end(kIgnoredProperties);
}

TreeValue NameEntryValue(const std::string& name, const YAML::Mark& mark) {
  return TreeValue{.kind = TreeValue::Kind::kScalar, .text = name, .mark = mark};
}

// The pipeline's Properties with intrinsic functions evaluated (ignored properties left out),
// and Name defaulting to the logical id.
std::optional<TreeValue> EvalProperties(CfnEvaluator& eval, const CfnResource& resource,
                                        ImportResult& result) {
  const std::string& id = resource.logical_id;
  const std::string pointer = ResourcePointer(id) + "/Properties";
  std::optional<YAML::Node> properties = YamlEntry(resource.node, "Properties");
  TreeValue tree{.kind = TreeValue::Kind::kMap,
                 .mark = properties ? properties->Mark() : resource.node.Mark()};
  if (properties && !properties->IsMap()) {
    result.diagnostics.push_back(DiagnosticAt("", tree.mark, pointer + ": expected a mapping"));
    return std::nullopt;
  }
  bool ok = true;
  for (const auto& entry : properties.value_or(YAML::Node(YAML::NodeType::Map))) {
    std::string key = entry.first.Scalar();
    if (IsIgnored(key)) continue;
    CfnEvaluator::Evaluated value = eval.Eval(entry.second, pointer + "/" + PointerToken(key));
    ok = ok && value.ok;
    if (value.value) {
      tree.entries.push_back(
          TreeEntry{.key = key, .key_mark = entry.first.Mark(), .value = *value.value});
    }
  }
  if (!tree.Find("Name")) {
    // CloudFormation names an unnamed pipeline after the stack; Kiln uses the logical id.
    result.notes.push_back("the pipeline has no Name; it is named after its logical id " + id);
    tree.entries.push_back(
        TreeEntry{.key = "Name", .key_mark = tree.mark, .value = NameEntryValue(id, tree.mark)});
  }
  if (!ok) return std::nullopt;
  return tree;
}

// A BuildSpec property is either a file in the source ("backend-flask/buildspec.yml") or the
// buildspec itself, inline (CodeBuild's rule: a path has no newline and names a YAML file).
void SetBuildspec(ImportedProject& project, const std::string& text) {
  bool is_path =
      text.find('\n') == std::string::npos && (text.ends_with(".yml") || text.ends_with(".yaml"));
  if (is_path) {
    project.buildspec_path = text;
  } else {
    project.inline_buildspec = text;
  }
}

ImportedProject ReadProject(CfnEvaluator& eval, const CfnResource& resource) {
  const std::string& id = resource.logical_id;
  ImportedProject project{.logical_id = id, .name = id, .line = resource.line};
  const std::string pointer = ResourcePointer(id) + "/Properties";
  std::optional<YAML::Node> properties = YamlEntry(resource.node, "Properties");
  if (!properties) return project;
  if (std::optional<YAML::Node> name = YamlEntry(*properties, "Name")) {
    CfnEvaluator::Evaluated value = eval.Eval(*name, pointer + "/Name");
    if (value.value && value.value->IsScalar()) project.name = value.value->text;
  }
  std::optional<YAML::Node> buildspec =
      YamlEntry(YamlEntry(*properties, "Source").value_or(YAML::Node()), "BuildSpec");
  if (!buildspec) return project;
  CfnEvaluator::Evaluated spec = eval.Eval(*buildspec, pointer + "/Source/BuildSpec");
  if (spec.value && spec.value->IsScalar()) SetBuildspec(project, spec.value->text);
  return project;
}

// Notes the supplied values the template never declares (a typo is the usual cause).
void NoteUndeclared(const YAML::Node& root, const std::map<std::string, std::string>& parameters,
                    std::vector<std::string>& notes) {
  const YAML::Node declared = YamlEntry(root, "Parameters").value_or(YAML::Node());
  for (const auto& [name, value] : parameters) {
    bool special =
        name.starts_with("Export:") || name.starts_with("GetAtt:") || name.starts_with("AWS::");
    if (!special && !YamlEntry(declared, name)) {
      notes.push_back("parameter " + name + " is not declared by the template; ignored");
    }
  }
}

std::string StackName(const std::string& file) {
  std::string stem = std::filesystem::path(file).stem().string();
  return stem.empty() ? "stack" : stem;
}

void Finish(CfnEvaluator& eval, const std::string& file, ImportResult& result) {
  for (Diagnostic d : eval.diagnostics()) result.diagnostics.push_back(std::move(d));
  for (Diagnostic& d : result.diagnostics) d.file = file;
  std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
  for (const std::string& note : eval.notes()) result.notes.push_back(note);
}

void ImportPipeline(CfnEvaluator& eval, const std::string& file, ImportResult& result) {
  std::vector<CfnResource> pipelines = ExistingResources(eval, kPipelineType);
  if (pipelines.size() != 1) {
    std::string found;
    for (const CfnResource& pipeline : pipelines) {
      found += (found.empty() ? " (" : ", ") + pipeline.logical_id + " at line " +
               std::to_string(pipeline.line);
    }
    result.diagnostics.push_back(Diagnostic{
        .file = file,
        .message = "expected exactly one " + std::string(kPipelineType) + " resource, found " +
                   std::to_string(pipelines.size()) + (found.empty() ? "" : found + ")")});
    return;
  }
  const CfnResource& pipeline = pipelines.front();
  std::optional<TreeValue> properties = EvalProperties(eval, pipeline, result);
  if (!properties) return;
  ParsedPipeline parsed = ReadPipeline(*properties, KeyStyle::kPascal,
                                       ResourcePointer(pipeline.logical_id) + "/Properties", file);
  result.diagnostics.insert(result.diagnostics.end(), parsed.diagnostics.begin(),
                            parsed.diagnostics.end());
  result.pipeline = std::move(parsed.pipeline);
}

ImportResult Import(std::string_view text, const std::string& file,
                    const std::map<std::string, std::string>& parameters, bool with_pipeline) {
  ImportResult result;
  Template tmpl = LoadTemplate(text, file);
  if (!tmpl.diagnostics.empty()) {
    result.diagnostics = std::move(tmpl.diagnostics);
    return result;
  }
  CfnEvaluator eval(tmpl.root, file,
                    CfnInputs{.values = parameters, .stack_name = StackName(file)});
  if (with_pipeline) ImportPipeline(eval, file, result);
  for (const CfnResource& project : ExistingResources(eval, kProjectType)) {
    result.projects.push_back(ReadProject(eval, project));
  }
  NoteUndeclared(tmpl.root, parameters, result.notes);
  Finish(eval, file, result);
  if (!result.diagnostics.empty()) result.pipeline.reset();
  return result;
}

// The public functions never throw: a yaml-cpp exception the code above failed to avoid
// becomes a diagnostic instead of ending the process.
ImportResult GuardedImport(std::string_view text, const std::string& file,
                           const std::map<std::string, std::string>& parameters,
                           bool with_pipeline) {
  try {
    return Import(text, file, parameters, with_pipeline);
  } catch (const YAML::Exception& e) {
    return ImportResult{
        .diagnostics = {DiagnosticAt(file, e.mark, "cannot read the template: " + e.msg)}};
  } catch (const std::exception& e) {
    return ImportResult{
        .diagnostics = {Diagnostic{
            .file = file, .message = std::string("cannot read the template: ") + e.what()}}};
  }
}

}  // namespace

ImportResult ImportCloudFormation(std::string_view text, const std::string& file,
                                  const std::map<std::string, std::string>& parameters) {
  return GuardedImport(text, file, parameters, /*with_pipeline=*/true);
}

ImportResult ImportProjects(std::string_view text, const std::string& file,
                            const std::map<std::string, std::string>& parameters) {
  return GuardedImport(text, file, parameters, /*with_pipeline=*/false);
}

}  // namespace kiln::spec
