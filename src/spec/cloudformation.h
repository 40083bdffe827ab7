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
  std::string name;  // Properties.Name after evaluation, or the logical id
  std::optional<std::string> inline_buildspec;  // Source.BuildSpec text, evaluated
  std::string buildspec_path;                   // Source.BuildSpec when it names a file
  int line = 0;
};

struct ImportResult {
  std::optional<Pipeline> pipeline;  // set when no diagnostics
  std::vector<ImportedProject> projects;
  std::vector<std::string> notes;  // e.g. "parameter X resolved from its default"
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
//
// What `parameters` may hold besides template parameters (see CfnInputs in cfn_eval.h):
//   "Export:NAME"     the value Fn::ImportValue NAME returns (`--export NAME=VALUE`);
//   "GetAtt:RES.ATTR" the value of Fn::GetAtt RES.ATTR that Kiln cannot compute, e.g. a nested
//                     stack's Outputs.X (`--parameter 'GetAtt:RES.ATTR=VALUE'`);
//   "AWS::Region"...  overrides a pseudo parameter.
// Resources: !Ref RES and !GetAtt RES.Name are the resource's name (Properties.Name, or its
// type's name property: BucketName, RepositoryName, ConnectionName...) when that evaluates;
// otherwise !Ref RES is the logical id (with a note) and !GetAtt is a diagnostic. !GetAtt
// RES.Arn is arn:aws:<service>:local:000000000000:<type>/<name>. Only the properties Kiln
// uses are evaluated: ArtifactStore(s), RoleArn, RestartExecutionOnUpdate and Tags are
// ignored, so what they reference needs no value. An unnamed pipeline is named after its
// logical id. Configuration values that are lists or maps become their JSON text. A resource
// whose Condition is false does not count. The template's CodeBuild projects are returned in
// `projects` too; problems evaluating them are diagnostics as well. The result is not checked
// against Kiln's providers: that is ValidatePipeline's job (e.g. a ThirdParty GitHub source
// imports, then fails validation). Diagnostics are in line order. Never throws.
ImportResult ImportCloudFormation(std::string_view text, const std::string& file,
                                  const std::map<std::string, std::string>& parameters);

// The CodeBuild projects of a template (e.g. a companion template without a pipeline).
ImportResult ImportProjects(std::string_view text, const std::string& file,
                            const std::map<std::string, std::string>& parameters);

}  // namespace kiln::spec
