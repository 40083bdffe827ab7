#include "spec/cloudformation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/conformance.h"
#include "spec/test_util.h"

namespace kiln::spec {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

using Params = std::map<std::string, std::string>;

// The pipeline templates of the shared corpus (base/conformance.h says where it is found).
std::string Templates() { return (base::ConformanceDir() / "pipelines").string() + "/"; }
const std::string kAnnleefores = "annleefores__cruddur__aws_cfn_cicd_template.yaml";
const std::string kKPaulius = "k-paulius__aws-bootcamp-cruddur-2023__aws_cfn_cicd_template.yaml";
const std::string kIffydopsqueen =
    "iffydopsqueen__aws-bootcamp-cruddur-2023__aws_cfn_cicd_template.yaml";
const std::string kAwslabs =
    "awslabs__ecs-refarch-continuous-deployment__templates_deployment-pipeline.yaml";
const std::string kLaser =
    "laser__cloudformation-fargate-codepipeline-ecs-refarch__infrastructure_cloud-formation_"
    "templates_deployment-pipeline.yml";
const std::string kBlueGreen =
    "aws-samples__ecs-blue-green-deployment-with-codedeploy__iac_pipeline_code-pipeline.yaml";

std::vector<std::string> Messages(const Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diagnostics) out.push_back(d.message);
  return out;
}

ImportResult ImportFile(const std::string& name, const Params& params) {
  return ImportCloudFormation(ReadFile(Templates() + name), name, params);
}

Pipeline MustImport(const std::string& name, const Params& params) {
  ImportResult result = ImportFile(name, params);
  EXPECT_TRUE(result.pipeline.has_value()) << Describe(result.diagnostics);
  return result.pipeline.value_or(Pipeline{});
}

ImportResult ImportText(std::string_view text, const Params& params = {}) {
  ImportResult result = ImportCloudFormation(text, "dir/stack.yaml", params);
  EXPECT_EQ(result.pipeline.has_value(), result.diagnostics.empty());
  return result;
}

// "LINE: message" for each diagnostic.
std::vector<std::string> Errors(std::string_view text, const Params& params = {}) {
  std::vector<std::string> out;
  for (const Diagnostic& d : ImportText(text, params).diagnostics) {
    EXPECT_EQ(d.file, "dir/stack.yaml");
    out.push_back(std::to_string(d.line) + ": " + d.message);
  }
  return out;
}

std::vector<std::string> StageNames(const Pipeline& p) {
  std::vector<std::string> names;
  for (const Stage& stage : p.stages) names.push_back(stage.name);
  return names;
}

std::vector<std::string> Providers(const Stage& stage) {
  std::vector<std::string> providers;
  for (const Action& action : stage.actions) providers.push_back(action.type.provider);
  return providers;
}

// The number of commands in each phase of a buildspec text.
std::map<std::string, size_t> PhaseCommandCounts(const std::string& buildspec) {
  std::map<std::string, size_t> counts;
  YAML::Node phases = YAML::Load(buildspec)["phases"];
  for (const auto& phase : phases) {
    counts[phase.first.Scalar()] = phase.second["commands"].size();
  }
  return counts;
}

// A pipeline template around `stages` (YAML, indented for Properties.Stages).
std::string PipelineTemplate(const std::string& extra_sections, const std::string& properties) {
  return extra_sections + R"(
Resources:
  Pipe:
    Type: AWS::CodePipeline::Pipeline
    Properties:
)" + properties;
}

constexpr std::string_view kTwoStages = R"(      Stages:
        - Name: Source
          Actions:
            - Name: Src
              ActionTypeId: {Category: Source, Owner: AWS, Provider: CodeCommit, Version: 1}
              Configuration: {RepositoryName: repo, BranchName: main}
              OutputArtifacts: [{Name: Code}]
        - Name: Build
          Actions:
            - Name: Build
              ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: 1}
              Configuration:
                ProjectName: %PROJECT%
              InputArtifacts: [{Name: Code}]
)";

// The two-stage template with the CodeBuild action's ProjectName set to `project` (YAML).
std::string WithProject(const std::string& project, const std::string& sections = "") {
  std::string stages(kTwoStages);
  stages.replace(stages.find("%PROJECT%"), 9, project);
  return PipelineTemplate(sections, stages);
}

// The ProjectName the two-stage template evaluates to, or the diagnostics.
std::string ProjectName(const std::string& project, const std::string& sections = "",
                        const Params& params = {}) {
  ImportResult result = ImportText(WithProject(project, sections), params);
  if (!result.pipeline) return "error: " + Describe(result.diagnostics);
  return result.pipeline->stages[1].actions[0].Config("ProjectName").value_or("(none)");
}

// --- The conformance templates (EXPECTED.md "pipelines/") ------------------------------------

TEST(CloudFormationImportTest, Annleefores) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  Pipeline p =
      MustImport(kAnnleefores, {{"ClusterStack", "cruddur-cluster"},
                                {"Export:cruddur-clusterClusterName", "cruddur"},
                                {"GetAtt:CodeBuild.Outputs.CodeBuildProjectName", "backend-bake"}});
  EXPECT_EQ(p.name, "Pipeline");  // no Name: the logical id
  EXPECT_THAT(StageNames(p), ElementsAre("Source", "Build", "Deploy"));
  const Action& source = p.stages[0].actions[0];
  EXPECT_EQ(source.type.provider, "CodeStarSourceConnection");
  EXPECT_THAT(source.output_artifacts, ElementsAre("Source"));
  EXPECT_EQ(source.Config("BranchName"), "prod");  // the parameter's Default
  EXPECT_EQ(source.Config("FullRepositoryId"), "annleefores/aws-bootcamp-cruddur-2023");
  // !Ref of the connection resource: its ConnectionName, !Sub ${AWS::StackName}-connection.
  EXPECT_EQ(source.Config("ConnectionArn"),
            "annleefores__cruddur__aws_cfn_cicd_template-connection");
  EXPECT_EQ(source.line, 50);
  EXPECT_EQ(source.pointer, "/Resources/Pipeline/Properties/Stages/0/Actions/0");
  const Action& build = p.stages[1].actions[0];
  EXPECT_EQ(build.type.provider, "CodeBuild");
  EXPECT_THAT(build.input_artifacts, ElementsAre("Source"));
  EXPECT_THAT(build.output_artifacts, ElementsAre("ImageDefinition"));
  EXPECT_EQ(build.Config("BatchEnabled"), "false");
  EXPECT_EQ(build.Config("ProjectName"), "backend-bake");
  const Action& deploy = p.stages[2].actions[0];
  EXPECT_EQ(deploy.type.provider, "ECS");
  EXPECT_THAT(deploy.input_artifacts, ElementsAre("ImageDefinition"));
  EXPECT_EQ(deploy.Config("ServiceName"), "backend-flask");
  EXPECT_EQ(deploy.Config("DeploymentTimeout"), "10");
  EXPECT_EQ(deploy.Config("ClusterName"), "cruddur");
  EXPECT_EQ(deploy.Config("FileName"), std::nullopt);  // ECS reads imagedefinitions.json
  EXPECT_THAT(ValidatePipeline(p, kAnnleefores), IsEmpty());
}

TEST(CloudFormationImportTest, AnnleeforesNeedsItsExportsAndNestedStackOutput) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  ImportResult result = ImportFile(kAnnleefores, {{"ClusterStack", "cruddur-cluster"}});
  EXPECT_FALSE(result.pipeline.has_value());
  EXPECT_THAT(Messages(result.diagnostics),
              ElementsAre("/Resources/Pipeline/Properties/Stages/1/Actions/0/Configuration/"
                          "ProjectName: Fn::GetAtt: CodeBuild.Outputs.CodeBuildProjectName cannot "
                          "be evaluated without AWS; supply it with --parameter "
                          "'GetAtt:CodeBuild.Outputs.CodeBuildProjectName=VALUE'",
                          "/Resources/Pipeline/Properties/Stages/2/Actions/0/Configuration/"
                          "ClusterName: Fn::ImportValue: export 'cruddur-clusterClusterName' is "
                          "another stack's; supply its value with --export "
                          "cruddur-clusterClusterName=VALUE"));
  EXPECT_EQ(result.diagnostics[0].line, 78);
  EXPECT_EQ(result.diagnostics[1].line, 96);  // the Fn::ImportValue line
  EXPECT_EQ(result.diagnostics[1].file, kAnnleefores);

  ImportResult no_parameter = ImportFile(kAnnleefores, {});
  EXPECT_THAT(Messages(no_parameter.diagnostics),
              Contains("/Resources/Pipeline/Properties/Stages/2/Actions/0/Configuration/"
                       "ClusterName: Fn::Sub: parameter 'ClusterStack' has no value and no "
                       "Default; supply it with --parameter ClusterStack=VALUE"));
}

TEST(CloudFormationImportTest, KPaulius) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  Pipeline p =
      MustImport(kKPaulius, {{"pAppEnvironment", "prod"},
                             {"pCodeStarConnection", "cruddur"},
                             {"pGitHubRepoName", "k-paulius/aws-bootcamp-cruddur-2023"},
                             {"pGitHubBranchName", "main"},
                             {"pParentECRStack", "cruddur-ecr"},
                             {"pParentClusterStack", "cruddur-cluster"},
                             {"pParentServiceStack", "cruddur-service"},
                             {"Export:cruddur-ecr-BackendRepositoryName", "backend-flask"},
                             {"Export:cruddur-ecr-PythonRepositoryName", "python"},
                             {"Export:cruddur-cluster-ClusterArn", "cruddur"},
                             {"Export:cruddur-service-BackendECSServiceName", "backend-flask"},
                             {"GetAtt:rCodeBuildStack.Outputs.oCodeBuildProjectName", "bake"}});
  EXPECT_EQ(p.name, "cruddur-prod-backend");
  EXPECT_THAT(StageNames(p), ElementsAre("Source", "Build", "Deploy"));
  const Action& source = p.stages[0].actions[0];
  EXPECT_EQ(source.name, "clone-repository");
  EXPECT_EQ(source.type.version, "1");  // `Version: 1`, an int
  EXPECT_THAT(source.output_artifacts, ElementsAre("SourceArtifact"));
  EXPECT_EQ(source.Config("BranchName"), "main");
  const Action& build = p.stages[1].actions[0];
  EXPECT_EQ(build.name, "build-backend-image");
  EXPECT_THAT(build.output_artifacts, ElementsAre("ImageDefinition"));
  std::string env = build.Config("EnvironmentVariables").value_or("");
  nlohmann::json vars = nlohmann::json::parse(env);  // the Fn::Join is a JSON array
  ASSERT_EQ(vars.size(), 4u);
  EXPECT_EQ(vars[0]["name"], "ECR_AWS_ACCOUNT_ID");
  EXPECT_EQ(vars[0]["value"], "000000000000");
  EXPECT_EQ(vars[1]["name"], "ECR_AWS_REGION");
  EXPECT_EQ(vars[1]["value"], "local");
  EXPECT_EQ(vars[2]["name"], "IMAGE_REPO_NAME");
  EXPECT_EQ(vars[2]["value"], "backend-flask");
  EXPECT_EQ(vars[3]["name"], "PYTHON_REPO_NAME");
  EXPECT_EQ(vars[3]["type"], "PLAINTEXT");
  const Action& deploy = p.stages[2].actions[0];
  EXPECT_EQ(deploy.name, "deploy-backend");
  EXPECT_EQ(deploy.Config("DeploymentTimeout"), "10");  // an int in the template
  EXPECT_EQ(deploy.Config("ServiceName"), "backend-flask");
  EXPECT_THAT(ValidatePipeline(p, kKPaulius), IsEmpty());
}

TEST(CloudFormationImportTest, Iffydopsqueen) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  Pipeline p = MustImport(kIffydopsqueen,
                          {{"ClusterStack", "c"},
                           {"ServiceStack", "s"},
                           {"Export:cClusterName", "cruddur"},
                           {"Export:sServiceName", "backend-flask"},
                           {"GetAtt:CodeBuildBakeImageStack.Outputs.CodeBuildProjectName", "b"}});
  EXPECT_THAT(StageNames(p), ElementsAre("Source", "Build", "Deploy"));
  EXPECT_THAT(Providers(p.stages[0]), ElementsAre("CodeStarSourceConnection"));
  EXPECT_THAT(Providers(p.stages[1]), ElementsAre("CodeBuild"));
  EXPECT_THAT(Providers(p.stages[2]), ElementsAre("ECS"));
  EXPECT_EQ(p.stages[0].actions[0].Config("BranchName"), "prd");
  EXPECT_EQ(p.stages[2].actions[0].Config("ServiceName"), "backend-flask");  // the export
  EXPECT_THAT(ValidatePipeline(p, kIffydopsqueen), IsEmpty());

  ImportResult missing = ImportFile(kIffydopsqueen, {{"ClusterStack", "c"}, {"ServiceStack", "s"}});
  EXPECT_THAT(Messages(missing.diagnostics),
              Contains(HasSubstr("ServiceName: Fn::ImportValue: export 'sServiceName'")));
}

TEST(CloudFormationImportTest, AwslabsGitHubSourceIsRefused) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  ImportResult result = ImportFile(kAwslabs, {{"GitHubUser", "awslabs"},
                                              {"GitHubRepo", "ecs-demo-php-simple-app"},
                                              {"GitHubBranch", "master"},
                                              {"GitHubToken", "t0ken"},
                                              {"Cluster", "default"},
                                              {"Service", "web"}});
  ASSERT_TRUE(result.pipeline.has_value()) << Describe(result.diagnostics);
  const Pipeline& p = *result.pipeline;
  EXPECT_THAT(StageNames(p), ElementsAre("Source", "Build", "Deploy"));
  const Action& source = p.stages[0].actions[0];
  EXPECT_EQ(source.type.owner, "ThirdParty");
  EXPECT_EQ(source.type.provider, "GitHub");
  EXPECT_EQ(source.type.version, "1");
  EXPECT_EQ(source.Config("Owner"), "awslabs");
  EXPECT_EQ(source.Config("Repo"), "ecs-demo-php-simple-app");
  EXPECT_EQ(source.Config("Branch"), "master");
  EXPECT_EQ(source.Config("OAuthToken"), "t0ken");
  EXPECT_THAT(source.output_artifacts, ElementsAre("App"));
  EXPECT_THAT(p.stages[1].actions[0].output_artifacts, ElementsAre("BuildOutput"));
  // !Ref CodeBuildProject: the project's Name, !Ref AWS::StackName (the file's base name).
  EXPECT_EQ(p.stages[1].actions[0].Config("ProjectName"),
            "awslabs__ecs-refarch-continuous-deployment__templates_deployment-pipeline");
  EXPECT_EQ(p.stages[2].actions[0].Config("FileName"), "images.json");
  EXPECT_THAT(Messages(ValidatePipeline(p, kAwslabs)),
              ElementsAre(AllOf(StartsWith("/Resources/Pipeline/Properties/Stages/0/Actions/0: "
                                           "provider GitHub (ThirdParty Source action) is not "
                                           "supported by Kiln yet"),
                                HasSubstr("for GitHub use CodeStarSourceConnection"))));
  EXPECT_EQ(ValidatePipeline(p, kAwslabs)[0].line, 158);

  ASSERT_THAT(result.projects, SizeIs(1));
  const ImportedProject& project = result.projects[0];
  EXPECT_EQ(project.logical_id, "CodeBuildProject");
  EXPECT_EQ(project.name, p.stages[1].actions[0].Config("ProjectName"));
  ASSERT_TRUE(project.inline_buildspec.has_value());
  EXPECT_THAT(*project.inline_buildspec,
              AllOf(StartsWith("version: 0.2\n"), HasSubstr("pre_build:"), HasSubstr("post_build:"),
                    HasSubstr("files: images.json")));
  EXPECT_THAT(
      PhaseCommandCounts(*project.inline_buildspec),
      ElementsAre(std::pair("build", 1u), std::pair("post_build", 2u), std::pair("pre_build", 3u)));
  EXPECT_EQ(project.buildspec_path, "");
}

TEST(CloudFormationImportTest, LaserGitHubSourceIsRefusedAndBuildspecIsSubstituted) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  ImportResult result = ImportFile(kLaser, {{"EnvironmentName", "websvc-env"},
                                            {"GitHubUser", "laser"},
                                            {"GitHubRepo", "websvc"},
                                            {"GitHubBranch", "main"},
                                            {"GitHubToken", "t"},
                                            {"ClusterName", "fargate"},
                                            {"ServiceArn", "websvc"}});
  ASSERT_TRUE(result.pipeline.has_value()) << Describe(result.diagnostics);
  const Pipeline& p = *result.pipeline;
  EXPECT_THAT(StageNames(p), ElementsAre("Source", "Build", "Deploy"));
  EXPECT_THAT(Providers(p.stages[0]), ElementsAre("GitHub"));
  EXPECT_EQ(p.stages[2].actions[0].Config("FileName"), "images.json");
  EXPECT_EQ(p.stages[2].actions[0].Config("ServiceName"), "websvc");
  EXPECT_THAT(Messages(ValidatePipeline(p, kLaser)),
              ElementsAre(HasSubstr("provider GitHub (ThirdParty Source action) is not supported "
                                    "by Kiln yet")));
  ASSERT_THAT(result.projects, SizeIs(1));
  const std::string& buildspec = result.projects[0].inline_buildspec.value_or("");
  EXPECT_THAT(buildspec, HasSubstr(R"(printf '[{"name":"websvc-env","imageUri":"%s"}]')"));
  EXPECT_THAT(buildspec, HasSubstr(R"(IMAGE_URI="$REPOSITORY_URI:$TAG")"));  // not ${...}
  EXPECT_THAT(
      PhaseCommandCounts(buildspec),
      ElementsAre(std::pair("build", 4u), std::pair("post_build", 2u), std::pair("pre_build", 3u)));
}

TEST(CloudFormationImportTest, BlueGreenCodeDeployAndCloudFormationAreRefused) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  ImportResult result = ImportFile(kBlueGreen, {{"pApplicationName", "bg"}});
  ASSERT_TRUE(result.pipeline.has_value()) << Describe(result.diagnostics);
  const Pipeline& p = *result.pipeline;
  EXPECT_EQ(p.name, "bg-pipeline");
  EXPECT_THAT(StageNames(p),
              ElementsAre("Source", "Build", "ValidateAndPackageIaC", "DeployAppInfrastructure",
                          "BuildCodeDeployArtifacts", "StartBlueGreenDeploy"));
  const Action& source = p.stages[0].actions[0];
  EXPECT_EQ(source.type.provider, "CodeCommit");
  EXPECT_EQ(source.Config("BranchName"), "main");
  EXPECT_EQ(source.Config("RepositoryName"), "bg");  // !GetAtt rCodeCommitRepo.Name
  EXPECT_EQ(source.Config("PollForSourceChanges"), "false");
  EXPECT_THAT(p.stages[1].actions, SizeIs(2));
  EXPECT_EQ(p.stages[1].actions[0].name, "ApplicationBuild");
  EXPECT_EQ(p.stages[1].actions[1].name, "BuildDockerImage");
  EXPECT_EQ(p.stages[1].actions[1].run_order, 2);
  EXPECT_EQ(p.stages[1].actions[1].namespace_name, "BuildImageVariables");
  EXPECT_EQ(p.stages[1].actions[1].Config("ProjectName"), "bg-appimage");
  EXPECT_THAT(Providers(p.stages[2]), ElementsAre("CodeBuild"));
  const Action& infra = p.stages[3].actions[0];
  EXPECT_EQ(infra.type.provider, "CloudFormation");
  EXPECT_EQ(infra.namespace_name, "DeployInfraVariables");
  EXPECT_EQ(infra.Config("ParameterOverrides"),
            "{ \"pApplicationImage\": \"#{BuildImageVariables.IMAGE_URI}\" }\n");
  EXPECT_EQ(infra.Config("RoleArn"),
            "arn:aws:iam:local:000000000000:role/bg-AWSCloudFormationServiceRole");
  const Action& config = p.stages[4].actions[0];
  EXPECT_THAT(config.Config("EnvironmentVariables").value_or(""),
              HasSubstr(R"("value": "#{DeployInfraVariables.oTaskDefinitionArn}")"));
  const Action& deploy = p.stages[5].actions[0];
  EXPECT_EQ(deploy.type.provider, "CodeDeployToECS");
  EXPECT_EQ(deploy.Config("ApplicationName"), "#{DeployInfraVariables.oCodeDeployAppName}");
  EXPECT_EQ(deploy.Config("DeploymentGroupName"), "#{DeployInfraVariables.oDeploymentGroupName}");
  EXPECT_EQ(deploy.Config("TaskDefinitionTemplateArtifact"), "CodeDeployConfig");
  EXPECT_EQ(deploy.Config("AppSpecTemplateArtifact"), "CodeDeployConfig");
  EXPECT_EQ(deploy.Config("AppSpecTemplatePath"), "appspec.yml");
  EXPECT_THAT(deploy.output_artifacts, IsEmpty());

  // Everything else is valid, variable references to the CloudFormation action included.
  EXPECT_THAT(Messages(ValidatePipeline(p, kBlueGreen)),
              ElementsAre(AllOf(StartsWith("/Resources/rAppPipeline/Properties/Stages/3/Actions/0: "
                                           "provider CloudFormation (AWS Deploy action) is not "
                                           "supported by Kiln yet"),
                                HasSubstr("Deploy: ECS")),
                          StartsWith("/Resources/rAppPipeline/Properties/Stages/5/Actions/0: "
                                     "provider CodeDeployToECS (AWS Deploy action) is not "
                                     "supported by Kiln yet")));

  // Two inline buildspecs and two in files.
  ASSERT_THAT(result.projects, SizeIs(4));
  EXPECT_EQ(result.projects[0].name, "bg-appbuild");
  EXPECT_EQ(result.projects[0].buildspec_path, "iac/pipeline/codebuild/buildspec-app.yaml");
  EXPECT_FALSE(result.projects[0].inline_buildspec.has_value());
  EXPECT_EQ(result.projects[1].name, "bg-CFNValidateAndPackage");
  EXPECT_THAT(result.projects[1].inline_buildspec.value_or(""), HasSubstr("cfn_nag_scan"));
  EXPECT_EQ(result.projects[2].buildspec_path, "iac/pipeline/codebuild/buildspec-container.yaml");
  EXPECT_THAT(result.projects[3].inline_buildspec.value_or(""),
              HasSubstr("update-appspec.py --taskArn ${TASKDEF_ARN}"));
}

TEST(CloudFormationImportTest, CompanionTemplatesHoldOnlyProjects) {
  if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
  const std::string annleefores =
      "companion/annleefores__cruddur__aws_cfn_cicd_nested_codebuild.yaml";
  ImportResult projects = ImportProjects(ReadFile(Templates() + annleefores), annleefores, {});
  EXPECT_THAT(projects.diagnostics, IsEmpty()) << Describe(projects.diagnostics);
  ASSERT_THAT(projects.projects, SizeIs(1));
  EXPECT_EQ(projects.projects[0].logical_id, "CodeBuild");
  EXPECT_EQ(projects.projects[0].name, "CrdCodeBuild");
  EXPECT_EQ(projects.projects[0].buildspec_path, "backend-flask/buildspec.yml");
  EXPECT_THAT(projects.notes, Contains("parameter BuildSpec resolved from its Default "
                                       "'backend-flask/buildspec.yml'"));

  const std::string paulius =
      "companion/k-paulius__aws-bootcamp-cruddur-2023__aws_cfn_cicd_nested_codebuild.yaml";
  projects = ImportProjects(ReadFile(Templates() + paulius), paulius, {{"pAppEnvironment", "dev"}});
  EXPECT_THAT(projects.diagnostics, IsEmpty()) << Describe(projects.diagnostics);
  ASSERT_THAT(projects.projects, SizeIs(1));
  EXPECT_EQ(projects.projects[0].name, "cruddur-dev-backend-image-build");
  EXPECT_EQ(projects.projects[0].buildspec_path, "backend-flask/buildspec.yml");

  ImportResult pipeline = ImportCloudFormation(ReadFile(Templates() + paulius), paulius, {});
  EXPECT_THAT(Messages(pipeline.diagnostics),
              Contains("expected exactly one AWS::CodePipeline::Pipeline resource, found 0"));
}

// --- Intrinsic functions ---------------------------------------------------------------------

TEST(CfnEvalTest, RefOfParametersAndPseudoParameters) {
  std::string params = "Parameters:\n  Env: {Type: String, Default: dev}\n  Team: {Type: String}\n";
  EXPECT_EQ(ProjectName("!Sub '${Team}-${Env}-${AWS::Region}-${AWS::AccountId}'", params,
                        {{"Team", "web"}}),
            "web-dev-local-000000000000");
  EXPECT_EQ(ProjectName("!Ref Env", params, {{"Env", "prod"}}), "prod");
  EXPECT_EQ(ProjectName("!Ref AWS::StackName"), "stack");
  EXPECT_EQ(ProjectName("!Ref AWS::Region", "", {{"AWS::Region", "eu-west-1"}}), "eu-west-1");
  EXPECT_EQ(ProjectName("!Sub '${AWS::Partition}:${AWS::URLSuffix}'"), "aws:amazonaws.com");
  EXPECT_THAT(ProjectName("!Ref Team", params),
              HasSubstr("stack.yaml:21:30: error: /Resources/Pipe/Properties/Stages/1/Actions/0/"
                        "Configuration/ProjectName: Ref: parameter 'Team' has no value and no "
                        "Default; supply it with --parameter Team=VALUE"));
  EXPECT_THAT(ProjectName("!Ref Nothing"),
              HasSubstr("Ref: no parameter or resource named 'Nothing'"));
  EXPECT_THAT(ProjectName("!Ref AWS::Planet"), HasSubstr("unknown pseudo parameter 'AWS::Planet'"));
}

TEST(CfnEvalTest, ParameterAllowedValuesAndLists) {
  std::string params =
      "Parameters:\n  Env: {Type: String, AllowedValues: [dev, prod]}\n"
      "  Names: {Type: CommaDelimitedList, Default: 'a,b,c'}\n";
  EXPECT_EQ(ProjectName("!Ref Env", params, {{"Env", "prod"}}), "prod");
  EXPECT_THAT(ProjectName("!Ref Env", params, {{"Env", "qa"}}),
              HasSubstr("parameter 'Env' is not one of its AllowedValues"));
  EXPECT_EQ(ProjectName("!Select [1, !Ref Names]", params), "b");
  EXPECT_EQ(ProjectName("!Join ['+', !Ref Names]", params), "a+b+c");
}

TEST(CfnEvalTest, SubForms) {
  EXPECT_EQ(ProjectName("!Sub ['${A}-${B}', {A: x, B: !Ref AWS::Region}]"), "x-local");
  EXPECT_EQ(ProjectName("!Sub 'keep ${!Literal} and $NOT'"), "keep ${Literal} and $NOT");
  EXPECT_EQ(ProjectName("{'Fn::Sub': 'long-${AWS::AccountId}'}"), "long-000000000000");
  EXPECT_THAT(ProjectName("!Sub '${Missing}'"),
              HasSubstr("Fn::Sub: no parameter or resource named 'Missing'"));
}

TEST(CfnEvalTest, JoinSelectSplitBase64FindInMap) {
  EXPECT_EQ(ProjectName("!Join ['-', [a, !Ref AWS::Region, c]]"), "a-local-c");
  EXPECT_EQ(ProjectName("!Select [2, !Split [',', 'x,y,z']]"), "z");
  EXPECT_EQ(ProjectName("!Base64 'kiln'"), "a2lsbg==");
  EXPECT_EQ(ProjectName("!Base64 'ab'"), "YWI=");
  std::string mappings = "Mappings:\n  Names:\n    local: {project: mapped}\n";
  EXPECT_EQ(ProjectName("!FindInMap [Names, !Ref AWS::Region, project]", mappings), "mapped");
  EXPECT_THAT(
      ProjectName("!FindInMap [M, a, b]", "Mappings:\n  M: {a: {b: !FindInMap [M, a, b]}}\n"),
      HasSubstr("/Mappings/M/a/b refers to itself"));
  EXPECT_THAT(ProjectName("!FindInMap [Names, eu, project]", mappings),
              HasSubstr("no Mappings entry Names / eu / project"));
  EXPECT_THAT(ProjectName("!Select [5, [a]]"),
              HasSubstr("index '5' is not an index into a list of 1"));
  EXPECT_THAT(ProjectName("!Join [',']"), HasSubstr("Fn::Join: takes a list of 2 arguments"));
  EXPECT_THAT(ProjectName("!GetAZs ''"), HasSubstr("Fn::GetAZs: cannot be evaluated without AWS"));
  EXPECT_THAT(ProjectName("!Cidr [10.0.0.0/16, 2, 8]"), HasSubstr("Fn::Cidr: cannot be evaluated"));
  EXPECT_THAT(ProjectName("!Transmogrify x"), HasSubstr("unknown tag !Transmogrify"));
  EXPECT_THAT(ProjectName("{'Fn::Length': [a]}"), HasSubstr("Fn::Length: unknown intrinsic"));
}

TEST(CfnEvalTest, ConditionsAndIf) {
  std::string conditions = R"(Parameters:
  Env: {Type: String, Default: prod}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  Either: {'Fn::Or': [{Condition: IsProd}, {Condition: IsDev}]}
  Both: !And [!Condition IsProd, !Condition IsDev]
  Loop: !Not [!Condition Loop]
)";
  EXPECT_EQ(ProjectName("!If [IsProd, p, d]", conditions), "p");
  EXPECT_EQ(ProjectName("!If [IsProd, p, d]", conditions, {{"Env", "dev"}}), "d");
  EXPECT_EQ(ProjectName("!If [IsDev, p, d]", conditions), "d");
  EXPECT_EQ(ProjectName("!If [Either, yes, no]", conditions), "yes");
  EXPECT_EQ(ProjectName("!If [Both, yes, no]", conditions), "no");
  EXPECT_THAT(ProjectName("!If [Nope, yes, no]", conditions),
              HasSubstr("no condition named 'Nope'"));
  EXPECT_THAT(ProjectName("!If [Loop, yes, no]", conditions),
              HasSubstr("condition 'Loop' depends on itself"));
}

TEST(CfnEvalTest, NoValueDropsAProperty) {
  std::string conditions = "Conditions:\n  Never: !Equals [a, b]\n";
  ImportResult result = ImportText(PipelineTemplate(
      conditions, R"(      Name: !If [Never, x, !Ref AWS::NoValue]
)" + std::string(kTwoStages)
                          .replace(std::string(kTwoStages).find("%PROJECT%"), 9,
                                   "p\n                PrimarySource: !If [Never, Code, "
                                   "!Ref AWS::NoValue]")));
  ASSERT_TRUE(result.pipeline.has_value()) << Describe(result.diagnostics);
  EXPECT_EQ(result.pipeline->name, "Pipe");
  EXPECT_EQ(result.pipeline->stages[1].actions[0].Config("PrimarySource"), std::nullopt);
}

TEST(CfnEvalTest, ResourceReferences) {
  std::string resources = R"(Resources:
  Named:
    Type: AWS::CodeBuild::Project
    Properties: {Name: !Sub '${AWS::StackName}-build'}
  Bucket:
    Type: AWS::S3::Bucket
    Properties: {BucketName: artifacts}
  Anonymous:
    Type: AWS::CodeBuild::Project
  Sub:
    Type: AWS::CodeBuild::Project
    Properties: {Name: !Sub ['${A}-${AWS::Region}', {A: s}]}
)";
  auto with = [&](const std::string& project) {
    std::string text = WithProject(project);
    text.insert(text.find("Resources:\n") + 11, resources.substr(11));
    ImportResult result = ImportText(text);
    if (!result.pipeline) return "error: " + Describe(result.diagnostics);
    return result.pipeline->stages[1].actions[0].Config("ProjectName").value_or("");
  };
  EXPECT_EQ(with("!Ref Named"), "stack-build");
  EXPECT_EQ(with("!Ref Bucket"), "artifacts");     // S3 names itself with BucketName
  EXPECT_EQ(with("!Ref Anonymous"), "Anonymous");  // no name: the logical id
  EXPECT_EQ(with("!GetAtt Named.Arn"), "arn:aws:codebuild:local:000000000000:project/stack-build");
  EXPECT_EQ(with("!GetAtt [Named, Name]"), "stack-build");
  EXPECT_EQ(with("!Sub '${Named.Name}!'"), "stack-build!");
  // Evaluating a node twice gives the same value (yaml-cpp's Node `=` overwrites nodes).
  EXPECT_EQ(with("!Join [',', [!Ref Sub, !Ref Sub, !GetAtt Sub.Name]]"), "s-local,s-local,s-local");
  EXPECT_THAT(with("!GetAtt Anonymous.Arn"),
              HasSubstr("Fn::GetAtt: resource 'Anonymous' has no Name to evaluate; supply it "
                        "with --parameter 'GetAtt:Anonymous.Arn=VALUE'"));
  EXPECT_THAT(with("!GetAtt Named.BadgeUrl"),
              HasSubstr("Named.BadgeUrl cannot be evaluated without AWS"));
  EXPECT_THAT(with("!GetAtt Ghost.Arn"), HasSubstr("no resource named 'Ghost'"));
  ImportResult notes = ImportText([&] {
    std::string text = WithProject("!Ref Anonymous");
    text.insert(text.find("Resources:\n") + 11, resources.substr(11));
    return text;
  }());
  EXPECT_THAT(notes.notes,
              Contains("Ref Anonymous has no name to evaluate; the logical id stands for it"));
}

TEST(CfnEvalTest, ImportValueFromExports) {
  EXPECT_EQ(ProjectName("!ImportValue shared-project", "", {{"Export:shared-project", "shared"}}),
            "shared");
  EXPECT_THAT(ProjectName("{'Fn::ImportValue': !Sub '${AWS::Region}-project'}"),
              HasSubstr("stack.yaml:18:30: error: /Resources/Pipe/Properties/Stages/1/Actions/0/"
                        "Configuration/ProjectName: Fn::ImportValue: export 'local-project' is "
                        "another stack's; supply its value with --export local-project=VALUE"));
}

// --- Template shapes -------------------------------------------------------------------------

TEST(CloudFormationImportTest, ReadsJsonTemplates) {
  ImportResult result = ImportText(R"({
  "Parameters": {"Branch": {"Type": "String", "Default": "main"}},
  "Resources": {
    "Pipe": {
      "Type": "AWS::CodePipeline::Pipeline",
      "Properties": {
        "Name": {"Fn::Join": ["-", ["kiln", {"Ref": "AWS::Region"}]]},
        "PipelineType": "V2",
        "ExecutionMode": "QUEUED",
        "Variables": [{"Name": "Env", "DefaultValue": "prod"}],
        "Triggers": [{"ProviderType": "CodeStarSourceConnection",
                      "GitConfiguration": {"SourceActionName": "Src",
                        "Push": [{"Branches": {"Includes": [{"Ref": "Branch"}]}}]}}],
        "Stages": [
          {"Name": "Source", "Actions": [{"Name": "Src",
            "ActionTypeId": {"Category": "Source", "Owner": "AWS",
                             "Provider": "CodeStarSourceConnection", "Version": "1"},
            "Configuration": {"ConnectionArn": "c", "FullRepositoryId": "o/r",
                              "BranchName": {"Ref": "Branch"}, "DetectChanges": false},
            "OutputArtifacts": [{"Name": "Code"}], "Namespace": "SourceVariables"}]},
          {"Name": "Build", "OnFailure": {"Result": "RETRY",
                                          "RetryConfiguration": {"RetryMode": "ALL_ACTIONS"}},
           "Actions": [{"Name": "Build", "RunOrder": 2,
            "ActionTypeId": {"Category": "Build", "Owner": "AWS", "Provider": "CodeBuild",
                             "Version": "1"},
            "Configuration": {"ProjectName": "p", "EnvironmentVariables": [
              {"name": "COMMIT", "value": "#{SourceVariables.CommitId}"}]},
            "InputArtifacts": [{"Name": "Code"}]}]}
        ]
      }
    }
  }
})");
  ASSERT_TRUE(result.pipeline.has_value()) << Describe(result.diagnostics);
  const Pipeline& p = *result.pipeline;
  EXPECT_EQ(p.name, "kiln-local");
  EXPECT_EQ(p.execution_mode, ExecutionMode::kQueued);
  EXPECT_EQ(p.variables[0].default_value, "prod");
  EXPECT_THAT(p.triggers[0].push[0].branches->includes, ElementsAre("main"));
  EXPECT_EQ(p.stages[0].actions[0].Config("BranchName"), "main");
  EXPECT_EQ(p.stages[0].actions[0].Config("DetectChanges"), "false");
  EXPECT_EQ(p.stages[1].retry_mode, "ALL_ACTIONS");
  EXPECT_EQ(p.stages[1].actions[0].run_order, 2);
  // A configuration value given as a list becomes the JSON text CodePipeline would hold.
  EXPECT_EQ(p.stages[1].actions[0].Config("EnvironmentVariables"),
            R"([{"name":"COMMIT","value":"#{SourceVariables.CommitId}"}])");
  EXPECT_THAT(ValidatePipeline(p, "stack.json"), IsEmpty());
}

TEST(CloudFormationImportTest, ExactlyOnePipelineResource) {
  EXPECT_THAT(Errors("Resources:\n  Bucket: {Type: AWS::S3::Bucket}\n"),
              ElementsAre("0: expected exactly one AWS::CodePipeline::Pipeline resource, found 0"));
  std::string two = WithProject("p");
  two += "  Other:\n    Type: AWS::CodePipeline::Pipeline\n";
  EXPECT_THAT(Errors(two), ElementsAre("0: expected exactly one AWS::CodePipeline::Pipeline "
                                       "resource, found 2 (Pipe at line 3, Other at line 20)"));
  // A pipeline whose Condition is false is not created, so it does not count.
  std::string conditional = WithProject("p", "Conditions:\n  Off: !Equals [1, 2]\n");
  conditional += "  Other:\n    Type: AWS::CodePipeline::Pipeline\n    Condition: Off\n";
  EXPECT_THAT(Errors(conditional), IsEmpty());
}

TEST(CloudFormationImportTest, UnknownPropertiesAndBadShapes) {
  EXPECT_THAT(Errors(PipelineTemplate("", R"(      Name: p
      Stagez: []
      RoleArn: !GetAtt Role.Arn
)")),
              ElementsAre("6: /Resources/Pipe/Properties: missing required key 'Stages'",
                          StartsWith("7: /Resources/Pipe/Properties/Stagez: unknown key 'Stagez'; "
                                     "expected one of: Name, Stages, ExecutionMode, PipelineType, "
                                     "Variables, Triggers, RoleArn, ArtifactStore")));
  EXPECT_THAT(Errors("Resources: [a]\n"), ElementsAre("1: the template has no Resources mapping"));
  EXPECT_THAT(Errors("Resources:\n  A: {Type: x\n"), ElementsAre(StartsWith("3: invalid YAML")));
  EXPECT_THAT(Errors(""), ElementsAre("0: empty CloudFormation template"));
}

TEST(CloudFormationImportTest, NotesUndeclaredParameters) {
  ImportResult result = ImportText(WithProject("p"), {{"Typo", "x"}, {"Export:e", "v"}});
  EXPECT_THAT(result.notes,
              ElementsAre("the pipeline has no Name; it is named after its logical id Pipe",
                          "parameter Typo is not declared by the template; ignored"));
  EXPECT_THAT(result.notes, Not(Contains(HasSubstr("Export:"))));
}

// Malformed intrinsics and shapes are diagnostics: nothing throws, nothing crashes.
TEST(CloudFormationImportTest, MalformedTemplatesAreDiagnostics) {
  const std::string bad_projects[] = {
      "!Sub [a]",        "!Sub [a, b]",      "!Sub [[a], {}]",    "!GetAtt [a]",
      "!GetAtt nodot",   "!Join [a, b]",     "!Join [[a], [b]]",  "!If x",
      "{'Fn::If': [a]}", "!Select [x, [a]]", "!Select [0, a]",    "!Split ['', a]",
      "!Ref [a]",        "!Condition [a]",   "!Equals [a]",       "!FindInMap [a]",
      "!Base64 [a]",     "!ImportValue [a]", "!Join ['', [[a]]]", "{'Fn::Not': 5}",
      "!Sub '${A.B.C}'",
  };
  for (const std::string& project : bad_projects) {
    ImportResult result = ImportText(WithProject(project, "Conditions:\n  C: !Equals [a, a]\n"));
    EXPECT_THAT(result.diagnostics, SizeIs(1)) << project;
    EXPECT_THAT(result.diagnostics, ElementsAre(::testing::Field(&Diagnostic::line, 20)))
        << project;
  }
  std::string conditions = "Conditions:\n  C: !Equals [a, a]\n";
  EXPECT_EQ(ProjectName("!Sub 'a${'"), "a${");  // no closing brace: literal text
  EXPECT_EQ(ProjectName("!If [C, [a], b]", conditions), R"(["a"])");
  EXPECT_EQ(ProjectName("!Ref AWS::NoValue"), "(none)");
  const std::string bad_templates[] = {
      "Resources: {A: 5, B: {Type: AWS::CodePipeline::Pipeline, Properties: 7}}",
      "Resources: {P: {Type: AWS::CodePipeline::Pipeline, Properties: {Stages: !Ref X}}}",
      "Resources: {P: {Type: AWS::CodePipeline::Pipeline, Properties: {Stages: [5, [a]]}}}",
      "Resources: {P: {Type: AWS::CodePipeline::Pipeline, Condition: [x]}}",
      "Resources: {P: {Type: [AWS::CodePipeline::Pipeline]}}",
      "Resources: {P: {Type: AWS::CodeBuild::Project, Properties: {Source: 5, Name: [a]}}}",
      "Parameters: 5\nResources: {P: {Type: AWS::CodeBuild::Project, Properties: {Name: !Ref x}}}",
      "Resources:\n  P: &a {Type: AWS::CodePipeline::Pipeline, Properties: {Name: *a}}\n",
      "[1, 2]",
      "a: " + std::string(67, '[') + std::string(68, ']'),  // deep, one ']' too many
  };
  for (const std::string& text : bad_templates) {
    ImportResult result = ImportCloudFormation(text, "t.yaml", {});
    EXPECT_FALSE(result.diagnostics.empty()) << text;
    EXPECT_FALSE(result.pipeline.has_value()) << text;
    ImportProjects(text, "t.yaml", {});
  }
}

}  // namespace
}  // namespace kiln::spec
