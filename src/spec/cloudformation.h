// Importing a CodePipeline from a CloudFormation template (an AWS::CodePipeline::Pipeline
// resource), which is how most teams keep their pipelines. `kiln pipeline import`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spec/diagnostic.h"
#include "spec/pipeline.h"

namespace kiln::spec {

// A CodeBuild project found in the template (AWS::CodeBuild::Project), with an inline buildspec
// if it has one: reported to the user, not lost.
struct ImportedProject {
  std::string logical_id;
  std::string name;             // Properties.Name after evaluation, or the logical id
  std::optional<std::string> inline_buildspec;   // Source.BuildSpec text, evaluated
  std::string buildspec_path;   // Source.BuildSpec when it names a file
  int line = 0;
};

struct ImportResult {
  std::optional<Pipeline> pipeline;   // set when no diagnostics
  std::vector<ImportedProject> projects;
  std::vector<std::string> notes;     // e.g. "parameter X resolved from its default"
  Diagnostics diagnostics;
};

// Reads a template (YAML with the short-form tags !Ref !Sub !GetAtt !Join !Select !Split
// !ImportValue !If !Equals ..., or JSON with their Fn:: long forms), finds its single
// AWS::CodePipeline::Pipeline resource, resolves Parameters from `parameters` or their
// Default, evaluates !Ref / !Sub / !Join / !Select / !Split of resolvable values (and the
// pseudo parameters AWS::Region = "local", AWS::AccountId = "000000000000",
// AWS::StackName = the file's base name), and converts PascalCase properties into Kiln's
// pipeline model (Name, Stages, Actions, ActionTypeId, Configuration, InputArtifacts,
// OutputArtifacts, RunOrder, Namespace, Variables, Triggers, ExecutionMode, PipelineType).
// Anything it cannot resolve (e.g. !GetAtt of a resource, Fn::ImportValue, a parameter with no
// value and no default) is a diagnostic naming the intrinsic, the property and its line.
// `project_file` templates with only CodeBuild projects (companions) may be passed through
// ImportProjects instead.
ImportResult ImportCloudFormation(std::string_view text, const std::string& file,
                                  const std::map<std::string, std::string>& parameters);

// The CodeBuild projects of a template (e.g. a companion template without a pipeline).
ImportResult ImportProjects(std::string_view text, const std::string& file,
                            const std::map<std::string, std::string>& parameters);

}  // namespace kiln::spec
