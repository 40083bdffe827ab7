#include "spec/pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "spec/test_util.h"

namespace kiln::spec {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;
using ::testing::StartsWith;

// A get-pipeline document exercising every supported field, with the outer object and metadata.
constexpr std::string_view kGetPipeline = R"({
  "pipeline": {
    "name": "backend-flask",
    "roleArn": "arn:aws:iam::123456789012:role/pipeline",
    "artifactStore": {"type": "S3", "location": "bucket"},
    "stages": [
      {
        "name": "Source",
        "actions": [
          {
            "name": "Source",
            "actionTypeId": {"category": "Source", "owner": "AWS",
                             "provider": "CodeStarSourceConnection", "version": "1"},
            "runOrder": 1,
            "configuration": {"ConnectionArn": "cruddur", "FullRepositoryId": "acme/cruddur",
                              "BranchName": "prod", "OutputArtifactFormat": "CODE_ZIP"},
            "inputArtifacts": [],
            "outputArtifacts": [{"name": "SourceArtifact"}],
            "namespace": "SourceVariables",
            "region": "us-east-1"
          }
        ]
      },
      {
        "name": "Build",
        "actions": [
          {
            "name": "Build",
            "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild",
                             "version": "1"},
            "runOrder": 1,
            "configuration": {
              "ProjectName": "backend-flask",
              "EnvironmentVariables": "[{\"name\":\"COMMIT\",\"value\":\"#{SourceVariables.CommitId}\",\"type\":\"PLAINTEXT\"}]"
            },
            "inputArtifacts": [{"name": "SourceArtifact"}],
            "outputArtifacts": [{"name": "ImageDefinition"}],
            "namespace": "BuildVariables"
          }
        ],
        "onFailure": {"result": "RETRY", "retryConfiguration": {"retryMode": "FAILED_ACTIONS"}}
      },
      {
        "name": "Approve",
        "actions": [
          {
            "name": "Approve",
            "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual",
                             "version": "1"},
            "configuration": {"CustomData": "deploy #{BuildVariables.IMAGE_TAG}?"}
          }
        ]
      },
      {
        "name": "Deploy",
        "actions": [
          {
            "name": "Deploy",
            "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "ECS",
                             "version": "1"},
            "runOrder": 1,
            "configuration": {"ClusterName": "local", "ServiceName": "backend-flask",
                              "FileName": "imagedefinitions.json", "DeploymentTimeout": "10"},
            "inputArtifacts": [{"name": "ImageDefinition"}],
            "outputArtifacts": []
          }
        ]
      }
    ],
    "version": 3,
    "executionMode": "QUEUED",
    "pipelineType": "V2",
    "variables": [{"name": "Env", "defaultValue": "prod", "description": "where to deploy"}],
    "triggers": [
      {
        "providerType": "CodeStarSourceConnection",
        "gitConfiguration": {
          "sourceActionName": "Source",
          "push": [{"branches": {"includes": ["prod"]},
                    "filePaths": {"includes": ["backend-flask/**"], "excludes": ["**/*.md"]}}],
          "pullRequest": [{"events": ["OPEN", "UPDATED"], "branches": {"includes": ["main"]}}]
        }
      }
    ]
  },
  "metadata": {"pipelineArn": "arn:aws:codepipeline:us-east-1:123456789012:backend-flask",
               "created": "2023-04-01T00:00:00Z", "updated": "2023-04-02T00:00:00Z"}
})";

// The smallest valid V1 pipeline, as the inner object.
constexpr std::string_view kMinimal = R"({
  "name": "p",
  "stages": [
    {"name": "Source", "actions": [{"name": "Src",
      "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeCommit",
                       "version": "1"},
      "configuration": {"RepositoryName": "repo", "BranchName": "main"},
      "outputArtifacts": [{"name": "Code"}]}]},
    {"name": "Build", "actions": [{"name": "Build",
      "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild",
                       "version": "1"},
      "configuration": {"ProjectName": "proj"},
      "inputArtifacts": [{"name": "Code"}]}]}
  ]
})";

Pipeline MustParse(std::string_view text) {
  ParsedPipeline parsed = ParsePipeline(text, "pipeline.json");
  EXPECT_TRUE(parsed.pipeline.has_value()) << Describe(parsed.diagnostics);
  return parsed.pipeline.value_or(Pipeline{});
}

// "LINE:COL: message" for each parse diagnostic.
std::vector<std::string> ParseErrors(std::string_view text) {
  ParsedPipeline parsed = ParsePipeline(text, "pipeline.json");
  EXPECT_EQ(parsed.pipeline.has_value(), parsed.diagnostics.empty());
  std::vector<std::string> out;
  for (const Diagnostic& d : parsed.diagnostics) {
    EXPECT_EQ(d.file, "pipeline.json");
    out.push_back(std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message);
  }
  return out;
}

std::vector<std::string> Messages(const Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diagnostics) out.push_back(d.message);
  return out;
}

// Validation messages of kGetPipeline after `change`.
std::vector<std::string> ValidateChanged(const std::function<void(Pipeline&)>& change,
                                         std::string_view base = kGetPipeline) {
  Pipeline p = MustParse(base);
  change(p);
  return Messages(ValidatePipeline(p, "pipeline.json"));
}

Action& ActionAt(Pipeline& p, size_t stage, size_t action = 0) {
  return p.stages.at(stage).actions.at(action);
}

void SetConfig(Action& action, const std::string& key, const std::string& value) {
  for (auto& [k, v] : action.configuration) {
    if (k == key) {
      v = value;
      return;
    }
  }
  action.configuration.emplace_back(key, value);
}

void EraseConfig(Action& action, const std::string& key) {
  std::erase_if(action.configuration, [&](const auto& entry) { return entry.first == key; });
}

// --- Parsing ---------------------------------------------------------------------------------

TEST(PipelineParseTest, ReadsGetPipelineOutputWithMetadata) {
  Pipeline p = MustParse(kGetPipeline);
  EXPECT_EQ(p.name, "backend-flask");
  EXPECT_EQ(p.pointer, "/pipeline");
  EXPECT_EQ(p.execution_mode, ExecutionMode::kQueued);
  EXPECT_EQ(p.pipeline_type, "V2");
  ASSERT_THAT(p.stages, SizeIs(4));
  EXPECT_EQ(p.stages[1].name, "Build");
  EXPECT_EQ(p.stages[1].on_failure_result, "RETRY");
  EXPECT_EQ(p.stages[1].retry_mode, "FAILED_ACTIONS");
  const Action& source = p.stages[0].actions[0];
  EXPECT_EQ(source.type.provider, "CodeStarSourceConnection");
  EXPECT_EQ(source.namespace_name, "SourceVariables");
  EXPECT_THAT(source.output_artifacts, ElementsAre("SourceArtifact"));
  EXPECT_THAT(source.input_artifacts, IsEmpty());
  EXPECT_EQ(source.Config("BranchName"), "prod");
  EXPECT_EQ(source.Config("Missing"), std::nullopt);
  EXPECT_EQ(source.line, 10);
  EXPECT_EQ(source.pointer, "/pipeline/stages/0/actions/0");
  const Action& deploy = p.stages[3].actions[0];
  EXPECT_EQ(deploy.pointer, "/pipeline/stages/3/actions/0");
  EXPECT_EQ(deploy.Config("DeploymentTimeout"), "10");
  EXPECT_THAT(deploy.configuration.front(), Pair("ClusterName", "local"));  // file order
  EXPECT_EQ(p.stages[2].actions[0].run_order, 1);                           // the default
  ASSERT_THAT(p.variables, SizeIs(1));
  EXPECT_EQ(p.variables[0].default_value, "prod");
  ASSERT_THAT(p.triggers, SizeIs(1));
  const Trigger& trigger = p.triggers[0];
  EXPECT_EQ(trigger.source_action_name, "Source");
  ASSERT_THAT(trigger.push, SizeIs(1));
  EXPECT_THAT(trigger.push[0].branches->includes, ElementsAre("prod"));
  EXPECT_THAT(trigger.push[0].file_paths->excludes, ElementsAre("**/*.md"));
  EXPECT_FALSE(trigger.push[0].tags.has_value());
  EXPECT_THAT(trigger.pull_request[0].events, ElementsAre("OPEN", "UPDATED"));
  EXPECT_THAT(ValidatePipeline(p, "pipeline.json"), IsEmpty());
}

TEST(PipelineParseTest, ReadsTheInnerObjectAlone) {
  Pipeline p = MustParse(kMinimal);
  EXPECT_EQ(p.pointer, "");
  EXPECT_EQ(p.stages[1].actions[0].pointer, "/stages/1/actions/0");
  EXPECT_EQ(p.execution_mode, ExecutionMode::kSuperseded);
  EXPECT_EQ(p.pipeline_type, "V1");
  EXPECT_THAT(ValidatePipeline(p, "pipeline.json"), IsEmpty());
}

TEST(PipelineParseTest, ReadsTheOuterObjectWithoutMetadata) {
  Pipeline p = MustParse("{\"pipeline\": " + std::string(kMinimal) + "}");
  EXPECT_EQ(p.stages[1].actions[0].pointer, "/pipeline/stages/1/actions/0");
  EXPECT_EQ(PipelineToJson(p), PipelineToJson(MustParse(kMinimal)));
}

TEST(PipelineParseTest, ReadsYaml) {
  Pipeline p = MustParse(R"(pipeline:
  name: from-yaml
  pipelineType: V2
  stages:
    - name: Source
      actions:
        - name: Src
          actionTypeId: {category: Source, owner: AWS, provider: Git, version: "1"}
          configuration:
            Url: https://example.com/repo.git
            BranchName: main
            DetectChanges: false
          outputArtifacts: [{name: Code}]
    - name: Deploy
      actions:
        - name: Deploy
          runOrder: 2
          actionTypeId: {category: Deploy, owner: AWS, provider: ECS, version: "1"}
          configuration:
            ClusterName: local
            ServiceName: web
            DeploymentTimeout: 15
          inputArtifacts: [{name: Code}]
)");
  EXPECT_EQ(p.name, "from-yaml");
  const Action& source = p.stages[0].actions[0];
  EXPECT_EQ(source.line, 7);
  EXPECT_EQ(source.Config("DetectChanges"), "false");  // a YAML boolean keeps its text
  EXPECT_EQ(p.stages[1].actions[0].Config("DeploymentTimeout"), "15");
  EXPECT_EQ(p.stages[1].actions[0].run_order, 2);
  EXPECT_THAT(ValidatePipeline(p, "pipeline.yml"), IsEmpty());
}

TEST(PipelineParseTest, ConfigurationListsBecomeJsonText) {
  Pipeline p = MustParse(R"(name: p
stages:
  - name: Build
    actions:
      - name: Build
        actionTypeId: {category: Build, owner: AWS, provider: CodeBuild}
        configuration:
          ProjectName: proj
          EnvironmentVariables:
            - {name: A, value: "1", type: PLAINTEXT}
            - {name: B, value: x}
)");
  const Action& build = p.stages[0].actions[0];
  EXPECT_EQ(build.Config("EnvironmentVariables"),
            R"([{"name":"A","value":"1","type":"PLAINTEXT"},{"name":"B","value":"x"}])");
  EXPECT_EQ(build.type.version, "1");  // the default
}

TEST(PipelineParseTest, UnknownKeysNameTheirLineAndPointer) {
  EXPECT_THAT(ParseErrors(R"({
  "pipeline": {
    "name": "p",
    "stages": [
      {"name": "S", "actions": [
        {"name": "A", "actionTypeId": {"category": "Source", "owner": "AWS",
                                        "provider": "Git", "flavour": "x"},
         "runorder": 1}
      ]}
    ],
    "pipelineTyp": "V2"
  },
  "metdata": {}
})"),
              ElementsAre(StartsWith("13:3: /metdata: unknown key 'metdata'; expected one of: "
                                     "pipeline, metadata"),
                          "11:5: /pipeline/pipelineTyp: unknown key 'pipelineTyp'; expected one "
                          "of: name, stages, executionMode, pipelineType, variables, triggers, "
                          "roleArn, artifactStore, artifactStores, version",
                          StartsWith("8:10: /pipeline/stages/0/actions/0/runorder: unknown key "
                                     "'runorder'; expected one of: name, actionTypeId, runOrder"),
                          StartsWith("7:60: /pipeline/stages/0/actions/0/actionTypeId/flavour: "
                                     "unknown key 'flavour'")));
}

TEST(PipelineParseTest, UnknownKeysInYaml) {
  EXPECT_THAT(ParseErrors("name: p\nstages: []\nstage_list: []\n"),
              ElementsAre(StartsWith("3:1: /stage_list: unknown key 'stage_list'")));
}

TEST(PipelineParseTest, MissingKeysAndWrongKinds) {
  EXPECT_THAT(ParseErrors(R"({"stages": [{"actions": [{"name": "A", "runOrder": "first",
  "actionTypeId": {"category": "Source"}, "configuration": {"X": null},
  "outputArtifacts": "Code"}]}, "S2"], "executionMode": "SOMETIMES"})"),
              ElementsAre("1:1: missing required key 'name'",
                          "1:13: /stages/0: missing required key 'name'",
                          "2:19: /stages/0/actions/0/actionTypeId: missing required key 'owner'",
                          "2:19: /stages/0/actions/0/actionTypeId: missing required key "
                          "'provider'",
                          "1:52: /stages/0/actions/0/runOrder: expected an integer, got 'first'",
                          "2:66: /stages/0/actions/0/configuration/X: configuration value 'X' is "
                          "null; expected a string",
                          "3:22: /stages/0/actions/0/outputArtifacts: expected a list, got a "
                          "string",
                          "3:33: /stages/1: expected a mapping, got a string",
                          "3:57: /executionMode: executionMode 'SOMETIMES' is not one of "
                          "SUPERSEDED, QUEUED, PARALLEL"));
}

TEST(PipelineParseTest, StageConditionsAreRefused) {
  EXPECT_THAT(ParseErrors(R"(name: p
stages:
  - name: S
    actions: []
    beforeEntry:
      conditions: [{result: FAIL, rules: []}]
    onSuccess: {conditions: []}
)"),
              ElementsAre("6:19: /stages/0/beforeEntry/conditions: stage conditions are not "
                          "supported by Kiln yet"));
}

TEST(PipelineParseTest, CloudFormationTagsPointToImport) {
  EXPECT_THAT(ParseErrors("name: !Ref PipelineName\nstages: []\n"),
              ElementsAre(AllOf(StartsWith("1:7: unexpected tag !Ref"),
                                HasSubstr("kiln pipeline import"))));
}

TEST(PipelineParseTest, SyntaxErrorsAreDiagnosticsNotExceptions) {
  EXPECT_THAT(ParseErrors("{\"name\": \"p\",\n \"stages\": [}"),
              ElementsAre(StartsWith("2:13: invalid YAML")));
  EXPECT_THAT(ParseErrors(""), ElementsAre("0:0: empty pipeline definition"));
  EXPECT_THAT(ParseErrors("[1, 2]"),
              ElementsAre("1:1: expected a pipeline definition (a mapping), got a list"));
  EXPECT_THAT(ParseErrors("{\"name\": \"a\", \"name\": \"b\", \"stages\": []}"),
              ElementsAre(StartsWith("1:15: duplicate key 'name'")));
}

TEST(PipelineParseTest, RefusesMoreThanFourMebibytes) {
  std::string big =
      "{\"name\": \"p\", \"stages\": [], \"pad\": \"" + std::string(size_t{4} << 20, 'x') + "\"}";
  EXPECT_THAT(ParseErrors(big),
              ElementsAre("0:0: pipeline definition is " + std::to_string(big.size()) +
                          " bytes; the limit is 4194304"));
}

TEST(PipelineParseTest, RefusesDeepNestingBeforeYamlCppRecurses) {
  std::string deep = "{\"name\": \"p\", \"stages\": " + std::string(100000, '[') + "}";
  EXPECT_THAT(ParseErrors(deep), ElementsAre(HasSubstr("nesting is deeper than 64 levels")));
}

// Odd shapes are diagnostics: nothing throws, nothing crashes.
TEST(PipelineParseTest, MalformedDocumentsAreDiagnostics) {
  const std::string documents[] = {
      "pipeline: 5",
      "{pipeline: {name: p, stages: {a: b}}}",
      "{name: [p], stages: [[[]]], variables: 5, triggers: [5, {gitConfiguration: []}]}",
      "{name: p, stages: [{name: s, actions: [{name: a, actionTypeId: [], runOrder: [1]}]}]}",
      "{name: p, stages: [{name: s, actions: [{name: a, actionTypeId: {}, configuration: 5,"
      " inputArtifacts: [5, {}], outputArtifacts: [{name: [x]}]}]}]}",
      "{name: p, stages: [], triggers: [{providerType: x, gitConfiguration: {push: [{tags: 5}],"
      " pullRequest: [{events: x, branches: {includes: x}}]}}]}",
      "{name: p, stages: [{name: s, actions: [], onFailure: 5, onSuccess: {conditions: 5}}]}",
      "a: &a [*a]",
      "--- {name: p}\n--- {name: q}\n",
      "{name: p, stages: [], runOrder: 99999999999999999999}",
  };
  for (const std::string& text : documents) {
    ParsedPipeline parsed = ParsePipeline(text, "p.yml");
    EXPECT_FALSE(parsed.diagnostics.empty()) << text;
    EXPECT_FALSE(parsed.pipeline.has_value()) << text;
  }
}

// --- PipelineToJson --------------------------------------------------------------------------

TEST(PipelineJsonTest, RoundTripsTheStructure) {
  Pipeline p = MustParse(kGetPipeline);
  std::string json = PipelineToJson(p);
  Pipeline again = MustParse(json);
  EXPECT_EQ(PipelineToJson(again), json);
  EXPECT_EQ(again.name, p.name);
  ASSERT_EQ(again.stages.size(), p.stages.size());
  for (size_t i = 0; i < p.stages.size(); ++i) {
    EXPECT_EQ(again.stages[i].name, p.stages[i].name);
    EXPECT_EQ(again.stages[i].on_failure_result, p.stages[i].on_failure_result);
    ASSERT_EQ(again.stages[i].actions.size(), p.stages[i].actions.size());
    for (size_t j = 0; j < p.stages[i].actions.size(); ++j) {
      const Action &a = p.stages[i].actions[j], &b = again.stages[i].actions[j];
      EXPECT_EQ(b.type.provider, a.type.provider);
      EXPECT_EQ(b.configuration, a.configuration);
      EXPECT_EQ(b.input_artifacts, a.input_artifacts);
      EXPECT_EQ(b.output_artifacts, a.output_artifacts);
      EXPECT_EQ(b.namespace_name, a.namespace_name);
      EXPECT_EQ(b.run_order, a.run_order);
    }
  }
  EXPECT_EQ(again.execution_mode, p.execution_mode);
  EXPECT_EQ(again.triggers[0].push[0].file_paths->includes,
            p.triggers[0].push[0].file_paths->includes);
  EXPECT_EQ(again.variables[0].description, p.variables[0].description);
}

TEST(PipelineJsonTest, WritesCodePipelineShape) {
  std::string json = PipelineToJson(MustParse(kMinimal));
  EXPECT_THAT(json, HasSubstr(R"("actionTypeId": {
            "category": "Source",
            "owner": "AWS",
            "provider": "CodeCommit",
            "version": "1"
          })"));
  EXPECT_THAT(json, HasSubstr(R"("executionMode": "SUPERSEDED")"));
  EXPECT_THAT(json, HasSubstr(R"("runOrder": 1)"));
  EXPECT_THAT(json, Not(HasSubstr("namespace")));
  EXPECT_THAT(json, Not(HasSubstr("triggers")));
}

// --- VariableRefs ----------------------------------------------------------------------------

TEST(PipelineVariableRefsTest, FindsEveryReference) {
  EXPECT_THAT(
      VariableRefs("#{SourceVariables.CommitId}-#{codepipeline.PipelineExecutionId} "
                   "#{variables.Env} #{ not.a.ref} #{NoDot} #{Build-1.IMAGE_TAG}"),
      ElementsAre(Pair("SourceVariables", "CommitId"), Pair("codepipeline", "PipelineExecutionId"),
                  Pair("variables", "Env"), Pair("Build-1", "IMAGE_TAG")));
  EXPECT_THAT(VariableRefs("${NotOurs} #{unterminated.x"), IsEmpty());
}

// --- ValidatePipeline ------------------------------------------------------------------------

TEST(PipelineValidateTest, DiagnosticsNameTheActionLineAndPointer) {
  Pipeline p = MustParse(kGetPipeline);
  ActionAt(p, 3).type.provider = "CodeDeployToECS";
  Diagnostics d = ValidatePipeline(p, "pipeline.json");
  ASSERT_THAT(d, SizeIs(1));
  EXPECT_EQ(d[0].file, "pipeline.json");
  EXPECT_EQ(d[0].line, ActionAt(p, 3).line);
  EXPECT_THAT(d[0].message, StartsWith("/pipeline/stages/3/actions/0: provider CodeDeployToECS "
                                       "(AWS Deploy action) is not supported by Kiln yet"));
}

TEST(PipelineValidateTest, Names) {
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.name = "a.b@c_d-E9"; }), IsEmpty());
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.name = "bad name"; }),
              ElementsAre("/pipeline: pipeline name 'bad name' is invalid: CodePipeline allows 1 "
                          "to 100 characters of A-Z a-z 0-9 . @ _ -"));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.name = std::string(101, 'a'); }), SizeIs(1));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.stages[2].name = "Appro/ve"; }),
              ElementsAre(HasSubstr("stage name 'Appro/ve' is invalid")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { ActionAt(p, 2).name = ""; }),
              ElementsAre(HasSubstr("action name '' is invalid")));
  // Artifact names do not allow '.' or '@'.
  EXPECT_THAT(ValidateChanged([](Pipeline& p) {
                ActionAt(p, 1).output_artifacts[0] = "Image.Def";
                ActionAt(p, 3).input_artifacts[0] = "Image.Def";
              }),
              ElementsAre(HasSubstr("artifact name 'Image.Def' is invalid"),
                          HasSubstr("artifact name 'Image.Def' is invalid")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.variables[0].name = "a.b"; }),
              ElementsAre("/pipeline/variables/0: variable name 'a.b' is invalid: CodePipeline "
                          "allows 1 to 128 characters of A-Z a-z 0-9 @ _ -"));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.variables[0].name = std::string(128, 'v'); }),
              IsEmpty());
}

TEST(PipelineValidateTest, StageCountAndSourcePlacement) {
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.stages.resize(1); }, kMinimal),
              ElementsAre("a pipeline needs at least 2 stages, not 1"));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { std::swap(p.stages[0], p.stages[1]); }, kMinimal),
              Contains("/stages/1/actions/0: the first stage may hold only Source actions, not "
                       "Build"));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { std::swap(p.stages[0], p.stages[1]); }, kMinimal),
              Contains("/stages/0/actions/0: Source actions belong in the first stage only"));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.stages[1].actions.clear(); }, kMinimal),
              ElementsAre("/stages/1: a stage needs at least 1 action"));
}

TEST(PipelineValidateTest, UniqueNames) {
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.stages[2].name = "Build"; }),
              ElementsAre("/pipeline/stages/2: duplicate stage name 'Build'"));
  // The same action name in two stages is fine; twice in one stage is not.
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { ActionAt(p, 2).name = "Build"; }), IsEmpty());
  EXPECT_THAT(ValidateChanged([](Pipeline& p) {
                Action copy = ActionAt(p, 2);
                copy.run_order = 2;
                p.stages[2].actions.push_back(copy);
              }),
              ElementsAre("/pipeline/stages/2/actions/0: duplicate action name 'Approve' in "
                          "stage 'Approve'"));
}

TEST(PipelineValidateTest, OutputArtifactsAndNamespacesAreUnique) {
  EXPECT_THAT(ValidateChanged([](Pipeline& p) {
                ActionAt(p, 1).output_artifacts[0] = "SourceArtifact";
                ActionAt(p, 3).input_artifacts[0] = "SourceArtifact";
              }),
              ElementsAre("/pipeline/stages/1/actions/0: duplicate output artifact "
                          "'SourceArtifact' (also in action 'Source' at "
                          "/pipeline/stages/0/actions/0)"));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) {
                ActionAt(p, 1).namespace_name = "SourceVariables";
                SetConfig(ActionAt(p, 2), "CustomData", "ok");
              }),
              ElementsAre(HasSubstr("duplicate namespace 'SourceVariables'")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) {
                ActionAt(p, 1).namespace_name = "SourceArtifact";
                SetConfig(ActionAt(p, 2), "CustomData", "ok");
              }),
              ElementsAre("/pipeline/stages/1/actions/0: namespace 'SourceArtifact' has the same "
                          "name as an output artifact"));
}

TEST(PipelineValidateTest, InputsComeFromEarlierActions) {
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { ActionAt(p, 3).input_artifacts[0] = "Nope"; }),
              ElementsAre("/pipeline/stages/3/actions/0: input artifact 'Nope' is not an output "
                          "of any action"));
  EXPECT_THAT(
      ValidateChanged([](Pipeline& p) { std::swap(p.stages[1], p.stages[3]); }),
      // Pointers stay those of the source file.
      Contains("/pipeline/stages/3/actions/0: input artifact 'ImageDefinition' is produced by "
               "action 'Build', which runs in a later stage"));
  // In one stage: only a lower runOrder counts as earlier.
  auto same_stage = [](int deploy_order) {
    return [deploy_order](Pipeline& p) {
      Action deploy = ActionAt(p, 3);
      deploy.run_order = deploy_order;
      p.stages[1].actions.push_back(deploy);
      p.stages.erase(p.stages.begin() + 3);
    };
  };
  EXPECT_THAT(ValidateChanged(same_stage(2)), IsEmpty());
  EXPECT_THAT(ValidateChanged(same_stage(1)),
              ElementsAre("/pipeline/stages/3/actions/0: input artifact 'ImageDefinition' is "
                          "produced by action 'Build', which runs in the same stage with "
                          "runOrder 1 (not lower than 1)"));
}

TEST(PipelineValidateTest, VariableReferences) {
  auto refer = [](const std::string& value) {
    return [value](Pipeline& p) { SetConfig(ActionAt(p, 2), "CustomData", value); };
  };
  EXPECT_THAT(ValidateChanged(refer("#{codepipeline.PipelineExecutionId} #{variables.Env} "
                                    "#{SourceVariables.CommitId} #{BuildVariables.X}")),
              IsEmpty());
  EXPECT_THAT(ValidateChanged(refer("#{codepipeline.Commit}")),
              ElementsAre("/pipeline/stages/2/actions/0: #{codepipeline.Commit}: the codepipeline "
                          "namespace has only PipelineExecutionId"));
  EXPECT_THAT(ValidateChanged(refer("#{variables.Region}")),
              ElementsAre(HasSubstr("#{variables.Region}: no pipeline variable Region")));
  EXPECT_THAT(ValidateChanged(refer("#{DeployVariables.X}")),
              ElementsAre(HasSubstr("#{DeployVariables.X}: no action declares namespace "
                                    "DeployVariables")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) {
                ActionAt(p, 3).namespace_name = "DeployVariables";
                SetConfig(ActionAt(p, 2), "CustomData", "#{DeployVariables.X}");
              }),
              ElementsAre("/pipeline/stages/2/actions/0: #{DeployVariables.X}: namespace "
                          "DeployVariables belongs to action 'Deploy', which runs in a later "
                          "stage"));
  EXPECT_THAT(ValidateChanged(refer("#{SourceVariables.CommitId}" + std::string(1000, 'x'))),
              ElementsAre(HasSubstr("uses variables and is longer than 1000 characters")));
}

TEST(PipelineValidateTest, RunOrder) {
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { ActionAt(p, 2).run_order = 0; }),
              ElementsAre("/pipeline/stages/2/actions/0: runOrder 0 is not from 1 to 999"));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { ActionAt(p, 2).run_order = 999; }), IsEmpty());
}

TEST(PipelineValidateTest, ProvidersKilnDoesNotHave) {
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { ActionAt(p, 3).type.provider = "CloudFormation"; }),
              ElementsAre(HasSubstr("provider CloudFormation (AWS Deploy action) is not supported "
                                    "by Kiln yet; Kiln supports Source: CodeStarSourceConnection, "
                                    "CodeCommit, Git; Build/Test: CodeBuild; Deploy: ECS; "
                                    "Approval: Manual")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) {
                ActionAt(p, 0).type = {
                    .category = "Source", .owner = "ThirdParty", .provider = "GitHub"};
              }),
              Contains(AllOf(HasSubstr("provider GitHub (ThirdParty Source action) is not "
                                       "supported by Kiln yet"),
                             HasSubstr("for GitHub use CodeStarSourceConnection"))));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { ActionAt(p, 3).type.provider = "Teleport"; }),
              ElementsAre(HasSubstr("unknown provider 'Teleport'")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { ActionAt(p, 3).type.category = "Ship"; }),
              ElementsAre(HasSubstr("unknown action category 'Ship'")));
}

TEST(PipelineValidateTest, ProviderTypeMustMatch) {
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { ActionAt(p, 3).type.category = "Build"; }),
              ElementsAre(HasSubstr("ECS is a Deploy action, not Build")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { ActionAt(p, 1).type.category = "Test"; }),
              IsEmpty());
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { ActionAt(p, 1).type.owner = "Custom"; }),
              ElementsAre(HasSubstr("CodeBuild has owner AWS, not Custom")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { ActionAt(p, 1).type.version = "2"; }),
              ElementsAre(HasSubstr("CodeBuild has only version 1, not 2")));
}

TEST(PipelineValidateTest, RequiredConfiguration) {
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { EraseConfig(ActionAt(p, 0), "ConnectionArn"); }),
              ElementsAre(HasSubstr("CodeStarSourceConnection needs configuration "
                                    "ConnectionArn")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { EraseConfig(ActionAt(p, 1), "ProjectName"); }),
              ElementsAre(HasSubstr("CodeBuild needs configuration ProjectName")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { EraseConfig(ActionAt(p, 3), "ServiceName"); }),
              ElementsAre(HasSubstr("ECS needs configuration ServiceName")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { EraseConfig(ActionAt(p, 3), "FileName"); }),
              IsEmpty());
  EXPECT_THAT(
      ValidateChanged([](Pipeline& p) { EraseConfig(ActionAt(p, 0), "BranchName"); }, kMinimal),
      ElementsAre(HasSubstr("CodeCommit needs configuration BranchName")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { SetConfig(ActionAt(p, 3), "Clustr", "x"); }),
              ElementsAre(HasSubstr("unknown configuration key 'Clustr' for ECS; expected one "
                                    "of: ClusterName, ServiceName, FileName, DeploymentTimeout")));
  EXPECT_THAT(ValidateChanged(
                  [](Pipeline& p) { SetConfig(ActionAt(p, 0), "FullRepositoryId", "cruddur"); }),
              ElementsAre(HasSubstr("FullRepositoryId 'cruddur' is not of the form "
                                    "owner/repository")));
  EXPECT_THAT(
      ValidateChanged([](Pipeline& p) { SetConfig(ActionAt(p, 0), "DetectChanges", "no"); }),
      ElementsAre(HasSubstr("DetectChanges must be true or false, not 'no'")));
}

TEST(PipelineValidateTest, GitSource) {
  auto git = [](std::vector<std::pair<std::string, std::string>> config) {
    return [config](Pipeline& p) {
      Action& source = ActionAt(p, 0);
      source.type.provider = "Git";
      source.configuration = config;
    };
  };
  EXPECT_THAT(ValidateChanged(git({{"ConnectionName", "cruddur"}, {"BranchName", "main"}})),
              IsEmpty());
  // A plain URL works, but without a connection the pipeline's trigger cannot watch it.
  EXPECT_THAT(ValidateChanged(git({{"Url", "/srv/git/repo"}, {"BranchName", "main"}})),
              ElementsAre("/pipeline/triggers/0: source action 'Source' does not use a "
                          "connection; triggers need one"));
  EXPECT_THAT(ValidateChanged(git({{"BranchName", "main"}})),
              Contains(HasSubstr("Git needs configuration ConnectionName or Url")));
  EXPECT_THAT(ValidateChanged(git({{"Url", "u"}, {"ConnectionName", "c"}, {"BranchName", "m"}})),
              Contains(HasSubstr("Git takes ConnectionName or Url, not both")));
  EXPECT_THAT(ValidateChanged(git({{"ConnectionName", "c"}})),
              ElementsAre(HasSubstr("Git needs configuration BranchName")));
}

TEST(PipelineValidateTest, CodeBuildConfiguration) {
  auto two_inputs = [](Pipeline& p) {
    ActionAt(p, 3).type = {.category = "Test", .owner = "AWS", .provider = "CodeBuild"};
    ActionAt(p, 3).configuration = {{"ProjectName", "tests"}};
    ActionAt(p, 3).input_artifacts = {"ImageDefinition", "SourceArtifact"};
  };
  EXPECT_THAT(ValidateChanged(two_inputs),
              ElementsAre(HasSubstr("CodeBuild needs PrimarySource when it has more than one "
                                    "input artifact")));
  EXPECT_THAT(ValidateChanged([&](Pipeline& p) {
                two_inputs(p);
                SetConfig(ActionAt(p, 3), "PrimarySource", "SourceArtifact");
              }),
              IsEmpty());
  EXPECT_THAT(ValidateChanged([&](Pipeline& p) {
                two_inputs(p);
                SetConfig(ActionAt(p, 3), "PrimarySource", "Other");
              }),
              ElementsAre(HasSubstr("PrimarySource 'Other' is not one of the action's input "
                                    "artifacts")));
  auto env = [](const std::string& json) {
    return [json](Pipeline& p) { SetConfig(ActionAt(p, 1), "EnvironmentVariables", json); };
  };
  EXPECT_THAT(ValidateChanged(env(R"([{"name":"A","value":"1"},
      {"name":"B","value":"/p","type":"PARAMETER_STORE"},{"name":"C","value":"s",
      "type":"SECRETS_MANAGER"}])")),
              IsEmpty());
  EXPECT_THAT(ValidateChanged(env("A=1")),
              ElementsAre(HasSubstr("EnvironmentVariables is not a JSON array of {name, value, "
                                    "type}")));
  EXPECT_THAT(ValidateChanged(env(R"([{"name":"A","value":"1","type":"SECRET"}])")),
              ElementsAre(HasSubstr("EnvironmentVariables: 'A' has a type other than PLAINTEXT, "
                                    "PARAMETER_STORE, SECRETS_MANAGER")));
  EXPECT_THAT(ValidateChanged(env(R"([{"name":"A"}])")),
              ElementsAre(HasSubstr("EnvironmentVariables: 'A' needs a string 'value'")));
  EXPECT_THAT(ValidateChanged(env(R"([{"value":"1"}])")),
              ElementsAre(HasSubstr("each entry needs a non-empty string 'name'")));
  EXPECT_THAT(ValidateChanged(env(R"([{"name":"A","value":"1","Type":"PLAINTEXT"}])")),
              ElementsAre(HasSubstr("unknown field 'Type'")));
  EXPECT_THAT(
      ValidateChanged([](Pipeline& p) { SetConfig(ActionAt(p, 1), "CombineArtifacts", "true"); }),
      ElementsAre(HasSubstr("CombineArtifacts needs BatchEnabled true")));
}

TEST(PipelineValidateTest, ArtifactCounts) {
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { ActionAt(p, 1).input_artifacts.clear(); }),
              ElementsAre(HasSubstr("CodeBuild takes 1 to 5 input artifact(s), not 0")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { ActionAt(p, 3).output_artifacts = {"Out"}; }),
              ElementsAre(HasSubstr("ECS takes 0 output artifact(s), not 1")));
  EXPECT_THAT(ValidateChanged(
                  [](Pipeline& p) { ActionAt(p, 3).input_artifacts.push_back("SourceArtifact"); }),
              ElementsAre(HasSubstr("ECS takes 1 input artifact(s), not 2")));
  EXPECT_THAT(
      ValidateChanged([](Pipeline& p) { ActionAt(p, 0).output_artifacts.clear(); }, kMinimal),
      Contains(HasSubstr("CodeCommit takes 1 output artifact(s), not 0")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { ActionAt(p, 2).output_artifacts = {"Ok"}; }),
              ElementsAre(HasSubstr("Manual takes 0 output artifact(s), not 1")));
}

TEST(PipelineValidateTest, EcsDeploymentTimeout) {
  auto timeout = [](const std::string& value) {
    return [value](Pipeline& p) { SetConfig(ActionAt(p, 3), "DeploymentTimeout", value); };
  };
  EXPECT_THAT(ValidateChanged(timeout("60")), IsEmpty());
  EXPECT_THAT(ValidateChanged(timeout("1")), IsEmpty());
  EXPECT_THAT(ValidateChanged(timeout("61")),
              ElementsAre(HasSubstr("DeploymentTimeout '61' is not a number of minutes from 1 to "
                                    "60")));
  EXPECT_THAT(ValidateChanged(timeout("ten")), SizeIs(1));
}

TEST(PipelineValidateTest, CloneRefArtifactsOnlyForCodeBuild) {
  EXPECT_THAT(ValidateChanged([](Pipeline& p) {
                SetConfig(ActionAt(p, 0), "OutputArtifactFormat", "CODEBUILD_CLONE_REF");
              }),
              IsEmpty());
  EXPECT_THAT(ValidateChanged([](Pipeline& p) {
                SetConfig(ActionAt(p, 0), "OutputArtifactFormat", "CODEBUILD_CLONE_REF");
                ActionAt(p, 3).input_artifacts = {"SourceArtifact"};
              }),
              ElementsAre(HasSubstr("'SourceArtifact' is a CODEBUILD_CLONE_REF, which only "
                                    "CodeBuild reads")));
}

TEST(PipelineValidateTest, ExecutionModeAndPipelineType) {
  EXPECT_THAT(ValidateChanged(
                  [](Pipeline& p) {
                    p.execution_mode = ExecutionMode::kParallel;
                    p.pipeline_type = "V1";
                  },
                  kMinimal),
              ElementsAre("executionMode PARALLEL needs pipelineType V2 (V1 pipelines run "
                          "SUPERSEDED)"));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.execution_mode = ExecutionMode::kParallel; }),
              IsEmpty());
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.pipeline_type = "V3"; }, kMinimal),
              ElementsAre("pipelineType 'V3' is not V1 or V2"));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.pipeline_type = "V1"; }),
              AllOf(Contains("/pipeline: pipeline variables need pipelineType V2"),
                    Contains("/pipeline: triggers need pipelineType V2"),
                    Contains("/pipeline/stages/1: onFailure needs pipelineType V2")));
}

TEST(PipelineValidateTest, StageOnFailure) {
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.stages[1].on_failure_result = "PANIC"; }),
              Contains("/pipeline/stages/1: onFailure result 'PANIC' is not one of ROLLBACK, "
                       "FAIL, RETRY, SKIP"));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.stages[1].on_failure_result = "ROLLBACK"; }),
              ElementsAre(HasSubstr("retryConfiguration applies only to onFailure result RETRY")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.stages[1].retry_mode = "ALL_ACTIONS"; }),
              IsEmpty());
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.stages[1].retry_mode = "SOME"; }),
              ElementsAre(HasSubstr("retryMode 'SOME' is not FAILED_ACTIONS or ALL_ACTIONS")));
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.stages[0].on_failure_result = "ROLLBACK"; }),
              ElementsAre("/pipeline/stages/0: the source stage cannot be rolled back"));
}

TEST(PipelineValidateTest, PipelineVariables) {
  EXPECT_THAT(ValidateChanged([](Pipeline& p) { p.variables.push_back(p.variables[0]); }),
              ElementsAre("/pipeline/variables/0: duplicate pipeline variable 'Env'"));
  EXPECT_THAT(
      ValidateChanged([](Pipeline& p) { p.variables[0].default_value = std::string(1001, 'x'); }),
      ElementsAre(HasSubstr("defaultValue is longer than 1000 characters")));
  EXPECT_THAT(
      ValidateChanged([](Pipeline& p) { p.variables[0].description = std::string(201, 'x'); }),
      ElementsAre(HasSubstr("description is longer than 200 characters")));
}

TEST(PipelineValidateTest, Triggers) {
  auto trigger = [](const std::function<void(Trigger&)>& change) {
    return [change](Pipeline& p) { change(p.triggers.at(0)); };
  };
  GitFilter main{.includes = {"main"}};
  EXPECT_THAT(ValidateChanged(trigger([](Trigger& t) { t.provider_type = "GitHub"; })),
              ElementsAre("/pipeline/triggers/0: providerType 'GitHub' is not "
                          "CodeStarSourceConnection"));
  EXPECT_THAT(ValidateChanged(trigger([](Trigger& t) { t.source_action_name = "Build"; })),
              ElementsAre(HasSubstr("sourceActionName 'Build' is not a source action")));
  EXPECT_THAT(ValidateChanged(
                  [](Pipeline& p) {
                    p.pipeline_type = "V2";
                    p.triggers.push_back(Trigger{.provider_type = "CodeStarSourceConnection",
                                                 .source_action_name = "Src",
                                                 .pointer = "/triggers/0"});
                  },
                  kMinimal),
              ElementsAre("/triggers/0: source action 'Src' does not use a connection; triggers "
                          "need one"));
  // push: tags, branches, or branches + filePaths.
  EXPECT_THAT(ValidateChanged(trigger([&](Trigger& t) {
                t.push = {{.tags = GitFilter{.includes = {"v*"}}}, {.branches = main}};
              })),
              IsEmpty());
  EXPECT_THAT(
      ValidateChanged(trigger([&](Trigger& t) { t.push = {{.tags = main, .branches = main}}; })),
      ElementsAre(HasSubstr("a push filter takes tags, branches, or branches with "
                            "filePaths")));
  EXPECT_THAT(ValidateChanged(trigger([&](Trigger& t) { t.push = {{.file_paths = main}}; })),
              ElementsAre(HasSubstr("a push filter takes tags")));
  EXPECT_THAT(ValidateChanged(trigger([&](Trigger& t) { t.push = {{}}; })), SizeIs(1));
  // pullRequest: branches, or branches + filePaths; events OPEN | UPDATED | CLOSED.
  EXPECT_THAT(ValidateChanged(trigger([&](Trigger& t) {
                t.pull_request = {{.events = {"CLOSED"}, .branches = main, .file_paths = main}};
              })),
              IsEmpty());
  EXPECT_THAT(
      ValidateChanged(trigger([&](Trigger& t) { t.pull_request = {{.file_paths = main}}; })),
      ElementsAre(HasSubstr("a pullRequest filter takes branches")));
  EXPECT_THAT(ValidateChanged(trigger([&](Trigger& t) {
                t.pull_request = {{.events = {"MERGED"}, .branches = main}};
              })),
              ElementsAre(HasSubstr("pull request event 'MERGED' is not one of OPEN, UPDATED, "
                                    "CLOSED")));
  EXPECT_THAT(ValidateChanged(trigger([&](Trigger& t) { t.push = {{.branches = GitFilter{}}}; })),
              ElementsAre(HasSubstr("branches filter needs includes or excludes")));
  EXPECT_THAT(ValidateChanged(trigger([&](Trigger& t) {
                t.push = {{.branches = GitFilter{.excludes = std::vector<std::string>(9, "x")}}};
              })),
              ElementsAre(HasSubstr("branches filter holds more than 8 patterns")));
}

}  // namespace
}  // namespace kiln::spec
