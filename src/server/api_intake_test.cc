#include "server/api_intake.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kiln::server {
namespace {

using nlohmann::json;

// The error message of a parse that must fail.
template <typename T>
std::string Error(const base::Result<T>& r) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.status().kind(), base::ErrorKind::kInvalidInput);
  return r.status().message();
}

json Parse(const char* text) { return json::parse(text); }

TEST(StartExecutionRequest, ReadsVariablesAndRevisions) {
  auto r = ParseStartExecutionRequest(Parse(R"({
    "variables": [{"name": "ENV", "value": "prod"}, {"name": "EMPTY"}],
    "sourceRevisions": [{"actionName": "Source", "revisionType": "COMMIT_ID",
                         "revisionValue": "abc123"}],
    "clientRequestToken": "ignored"})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->variables.size(), 2u);
  EXPECT_EQ(r->variables[0].name, "ENV");
  EXPECT_EQ(r->variables[0].value, "prod");
  EXPECT_EQ(r->variables[1].value, "");
  ASSERT_EQ(r->source_revisions.size(), 1u);
  EXPECT_EQ(r->source_revisions[0].action_name, "Source");
  EXPECT_EQ(r->source_revisions[0].revision_value, "abc123");
  EXPECT_TRUE(ParseStartExecutionRequest(json::object()).ok());
}

TEST(StartExecutionRequest, WrongTypesNameTheField) {
  EXPECT_EQ(Error(ParseStartExecutionRequest(Parse(R"({"variables": 3})"))),
            "field 'variables': expected an array, got number");
  EXPECT_EQ(Error(ParseStartExecutionRequest(Parse(R"({"variables": {"name": "A"}})"))),
            "field 'variables': expected an array, got object");
  EXPECT_EQ(Error(ParseStartExecutionRequest(Parse(R"({"variables": [["A", "b"]]})"))),
            "field 'variables[0]': expected an object, got array");
  EXPECT_EQ(
      Error(ParseStartExecutionRequest(Parse(R"({"variables": [{"name": "A"}, {"name": 7}]})"))),
      "field 'variables[1].name': expected a string, got number");
  EXPECT_EQ(
      Error(ParseStartExecutionRequest(Parse(R"({"variables": [{"name": "A", "value": null}]})"))),
      "field 'variables[0].value': expected a string, got null");
  EXPECT_EQ(Error(ParseStartExecutionRequest(Parse(R"({"variables": [{"value": "x"}]})"))),
            "field 'variables[0].name': is required");
  EXPECT_EQ(
      Error(ParseStartExecutionRequest(Parse(R"({"sourceRevisions": [{"revisionValue": true}]})"))),
      "field 'sourceRevisions[0].revisionValue': expected a string, got boolean");
  EXPECT_EQ(
      Error(ParseStartExecutionRequest(Parse(
          R"({"sourceRevisions": [{"revisionType": "S3_OBJECT_KEY", "revisionValue": "k"}]})"))),
      "field 'sourceRevisions[0].revisionType': expected one of COMMIT_ID, got \"S3_OBJECT_KEY\"");
  EXPECT_EQ(Error(ParseStartExecutionRequest(Parse("[1, 2]"))),
            "the request body: expected an object, got array");
  EXPECT_EQ(Error(ParseStartExecutionRequest(json())),
            "the request body: expected an object, got null");
}

TEST(StartExecutionRequest, BoundsCountsAndSizes) {
  json many = json::array();
  for (int i = 0; i < 501; ++i) many.push_back({{"name", "V" + std::to_string(i)}});
  EXPECT_EQ(Error(ParseStartExecutionRequest({{"variables", many}})),
            "field 'variables': at most 500 entries, got 501");
  many.erase(many.begin());
  EXPECT_TRUE(ParseStartExecutionRequest({{"variables", many}}).ok());
  json long_name = {{"variables", {{{"name", std::string(256, 'n')}}}}};
  EXPECT_EQ(Error(ParseStartExecutionRequest(long_name)),
            "field 'variables[0].name': at most 255 bytes, got 256");
  json long_value = {{"variables", {{{"name", "A"}, {"value", std::string(64 * 1024 + 1, 'v')}}}}};
  EXPECT_EQ(Error(ParseStartExecutionRequest(long_value)),
            "field 'variables[0].value': at most 65536 bytes, got 65537");
  json max_value = {{"variables", {{{"name", "A"}, {"value", std::string(64 * 1024, 'v')}}}}};
  EXPECT_TRUE(ParseStartExecutionRequest(max_value).ok());
  EXPECT_EQ(Error(ParseStartExecutionRequest({{"variables", {{{"name", ""}}}}})),
            "field 'variables[0].name': must not be empty");
}

TEST(StopExecutionRequest, AbandonIsABoolean) {
  auto r = ParseStopExecutionRequest(Parse(R"({"abandon": true, "reason": "bad deploy"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->abandon);
  EXPECT_EQ(r->reason, "bad deploy");
  auto empty = ParseStopExecutionRequest(json::object());
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->abandon);
  EXPECT_EQ(Error(ParseStopExecutionRequest(Parse(R"({"abandon": "yes"})"))),
            "field 'abandon': expected a boolean, got string");
  EXPECT_EQ(Error(ParseStopExecutionRequest(Parse(R"({"abandon": 1})"))),
            "field 'abandon': expected a boolean, got number");
  EXPECT_EQ(Error(ParseStopExecutionRequest(Parse(R"({"abandon": null})"))),
            "field 'abandon': expected a boolean, got null");
  EXPECT_EQ(Error(ParseStopExecutionRequest(Parse(R"({"reason": {"a": 1}})"))),
            "field 'reason': expected a string, got object");
  EXPECT_EQ(Error(ParseStopExecutionRequest({{"reason", std::string(201, 'r')}})),
            "field 'reason': at most 200 bytes, got 201");
}

TEST(RetryStageRequest, ModeIsAnEnum) {
  auto r = ParseRetryStageRequest(Parse(R"({"stageName": "Build", "retryMode": "ALL_ACTIONS"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stage_name, "Build");
  EXPECT_EQ(r->mode, RetryMode::kAllActions);
  EXPECT_EQ(RetryModeName(r->mode), "ALL_ACTIONS");
  auto defaults = ParseRetryStageRequest(Parse(R"({"stageName": "Build"})"));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->mode, RetryMode::kFailedActions);
  EXPECT_EQ(Error(ParseRetryStageRequest(Parse(R"({"retryMode": "SOME"})"))),
            "field 'retryMode': expected one of FAILED_ACTIONS, ALL_ACTIONS, got \"SOME\"");
  EXPECT_EQ(Error(ParseRetryStageRequest(Parse(R"({"retryMode": ["ALL_ACTIONS"]})"))),
            "field 'retryMode': expected one of FAILED_ACTIONS, ALL_ACTIONS, got array");
  EXPECT_EQ(Error(ParseRetryStageRequest(Parse(R"({"stageName": 5})"))),
            "field 'stageName': expected a string, got number");
}

TEST(ApprovalRequest, ReadsTheFourStrings) {
  auto r = ParseApprovalRequest(Parse(
      R"({"stageName": "Gate", "actionName": "Approve", "summary": "looks good", "token": "t"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stage_name, "Gate");
  EXPECT_EQ(r->action_name, "Approve");
  EXPECT_EQ(r->summary, "looks good");
  EXPECT_EQ(r->token, "t");
  EXPECT_EQ(ParseApprovalRequest(Parse(R"({"stageName": "Gate"})"))->token, "");
  EXPECT_EQ(Error(ParseApprovalRequest(Parse(R"({"token": 7})"))),
            "field 'token': expected a string, got number");
  EXPECT_EQ(Error(ParseApprovalRequest({{"token", std::string(256, 't')}})),
            "field 'token': at most 255 bytes, got 256");
  EXPECT_EQ(Error(ParseApprovalRequest(Parse(R"({"actionName": false})"))),
            "field 'actionName': expected a string, got boolean");
  EXPECT_EQ(Error(ParseApprovalRequest({{"summary", std::string(513, 's')}})),
            "field 'summary': at most 512 bytes, got 513");
}

TEST(TransitionRequest, DisableNeedsATypeAndAReasonOf1To300Characters) {
  auto r = ParseDisableTransitionRequest(
      Parse(R"({"transitionType": "Inbound", "reason": "release freeze"})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->type, TransitionType::kInbound);
  EXPECT_EQ(r->reason, "release freeze");
  auto out =
      ParseDisableTransitionRequest(Parse(R"({"transitionType": "Outbound", "reason": "x"})"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->type, TransitionType::kOutbound);
  EXPECT_EQ(Error(ParseDisableTransitionRequest(Parse(R"({"transitionType": "Inbound"})"))),
            "field 'reason': is required");
  EXPECT_EQ(
      Error(ParseDisableTransitionRequest(Parse(R"({"transitionType": "Inbound", "reason": ""})"))),
      "field 'reason': must not be empty");
  EXPECT_EQ(Error(ParseDisableTransitionRequest(Parse(R"({"reason": "x"})"))),
            "field 'transitionType': is required");
  EXPECT_EQ(Error(ParseDisableTransitionRequest(
                Parse(R"({"transitionType": "Sideways", "reason": "x"})"))),
            "field 'transitionType': expected one of Inbound, Outbound, got \"Sideways\"");
  EXPECT_EQ(Error(ParseDisableTransitionRequest(
                {{"transitionType", "Inbound"}, {"reason", std::string(301, 'r')}})),
            "field 'reason': at most 300 characters, got 301");
  // 300 characters of two bytes each are 300 characters.
  std::string wide;
  for (int i = 0; i < 300; ++i) wide += "\xc3\xa9";
  EXPECT_TRUE(
      ParseDisableTransitionRequest({{"transitionType", "Inbound"}, {"reason", wide}}).ok());
  EXPECT_EQ(Error(ParseDisableTransitionRequest(Parse("[]"))),
            "the request body: expected an object, got array");
}

TEST(TransitionRequest, EnableNeedsOnlyTheType) {
  auto r = ParseEnableTransitionRequest(Parse(R"({"transitionType": "Inbound"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, TransitionType::kInbound);
  EXPECT_EQ(Error(ParseEnableTransitionRequest(json::object())),
            "field 'transitionType': is required");
  EXPECT_EQ(Error(ParseEnableTransitionRequest(Parse(R"({"transitionType": 1})"))),
            "field 'transitionType': expected one of Inbound, Outbound, got number");
}

TEST(StartBuildRequest, ReadsEveryField) {
  auto r = ParseStartBuildRequest(Parse(R"({
    "buildspecOverride": "version: 0.2",
    "sourceVersion": "main",
    "environmentVariablesOverride": [
      {"name": "A", "value": "1"},
      {"name": "B", "value": "/p", "type": "PARAMETER_STORE"},
      {"name": "C", "value": "s:k", "type": "SECRETS_MANAGER"}],
    "timeoutInMinutesOverride": 5})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->buildspec_override, "version: 0.2");
  EXPECT_EQ(r->source_version, "main");
  ASSERT_EQ(r->environment_variables_override.size(), 3u);
  EXPECT_EQ(r->environment_variables_override[0].type, VariableType::kPlaintext);
  EXPECT_EQ(r->environment_variables_override[1].type, VariableType::kParameterStore);
  EXPECT_EQ(r->environment_variables_override[2].type, VariableType::kSecretsManager);
  EXPECT_EQ(r->timeout_in_minutes_override, 5);
  auto empty = ParseStartBuildRequest(json::object());
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->buildspec_override);
  EXPECT_FALSE(empty->timeout_in_minutes_override);
}

TEST(StartBuildRequest, WrongTypesNameTheField) {
  EXPECT_EQ(Error(ParseStartBuildRequest(
                Parse(R"({"environmentVariablesOverride": [{"name": 1, "value": "x"}]})"))),
            "field 'environmentVariablesOverride[0].name': expected a string, got number");
  EXPECT_EQ(
      Error(ParseStartBuildRequest(Parse(R"({"environmentVariablesOverride": [{"name": "A"}]})"))),
      "field 'environmentVariablesOverride[0].value': is required");
  EXPECT_EQ(
      Error(ParseStartBuildRequest(Parse(
          R"({"environmentVariablesOverride": [{"name": "A", "value": "1", "type": "ENV"}]})"))),
      "field 'environmentVariablesOverride[0].type': expected one of PLAINTEXT, "
      "PARAMETER_STORE, SECRETS_MANAGER, got \"ENV\"");
  EXPECT_EQ(Error(ParseStartBuildRequest(Parse(R"({"environmentVariablesOverride": {"A": "1"}})"))),
            "field 'environmentVariablesOverride': expected an array, got object");
  EXPECT_EQ(Error(ParseStartBuildRequest(Parse(R"({"buildspecOverride": ["phases"]})"))),
            "field 'buildspecOverride': expected a string, got array");
  EXPECT_EQ(Error(ParseStartBuildRequest(Parse(R"({"sourceVersion": null})"))),
            "field 'sourceVersion': expected a string, got null");
  EXPECT_EQ(Error(ParseStartBuildRequest(Parse(R"({"timeoutInMinutesOverride": "60"})"))),
            "field 'timeoutInMinutesOverride': expected an integer from 5 to 2160, got string");
  EXPECT_EQ(Error(ParseStartBuildRequest(Parse(R"({"timeoutInMinutesOverride": 7.5})"))),
            "field 'timeoutInMinutesOverride': expected an integer from 5 to 2160, got number");
}

TEST(StartBuildRequest, BoundsTimeoutAndSizes) {
  EXPECT_EQ(Error(ParseStartBuildRequest(Parse(R"({"timeoutInMinutesOverride": 4})"))),
            "field 'timeoutInMinutesOverride': expected an integer from 5 to 2160, got 4");
  EXPECT_EQ(Error(ParseStartBuildRequest(Parse(R"({"timeoutInMinutesOverride": 2161})"))),
            "field 'timeoutInMinutesOverride': expected an integer from 5 to 2160, got 2161");
  EXPECT_EQ(Error(ParseStartBuildRequest(Parse(R"({"timeoutInMinutesOverride": -1})"))),
            "field 'timeoutInMinutesOverride': expected an integer from 5 to 2160, got -1");
  EXPECT_EQ(
      Error(ParseStartBuildRequest(Parse(R"({"timeoutInMinutesOverride": 18446744073709551615})"))),
      "field 'timeoutInMinutesOverride': expected an integer from 5 to 2160, got "
      "18446744073709551615");
  EXPECT_TRUE(ParseStartBuildRequest(Parse(R"({"timeoutInMinutesOverride": 2160})")).ok());
  EXPECT_EQ(
      Error(ParseStartBuildRequest({{"buildspecOverride", std::string(512 * 1024 + 1, 'b')}})),
      "field 'buildspecOverride': at most 524288 bytes, got 524289");
  EXPECT_TRUE(ParseStartBuildRequest({{"buildspecOverride", std::string(512 * 1024, 'b')}}).ok());
  json vars = json::array();
  for (int i = 0; i < 501; ++i) vars.push_back({{"name", "V"}, {"value", ""}});
  EXPECT_EQ(Error(ParseStartBuildRequest({{"environmentVariablesOverride", vars}})),
            "field 'environmentVariablesOverride': at most 500 entries, got 501");
}

TEST(StartBuildRequest, ReadsTheEnvironmentOverrides) {
  auto r = ParseStartBuildRequest(Parse(R"({
    "imageOverride": "registry.local:5000/team/builder@sha256:0123abcd",
    "privilegedModeOverride": true,
    "computeTypeOverride": "BUILD_GENERAL1_LARGE",
    "environmentTypeOverride": "LINUX_CONTAINER"})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->image_override, "registry.local:5000/team/builder@sha256:0123abcd");
  EXPECT_EQ(r->privileged_mode_override, true);
  EXPECT_EQ(r->compute_type_override, spec::ComputeType::kLarge);
  EXPECT_EQ(r->environment_type_override, "LINUX_CONTAINER");
  // Absent stays absent (the project's setting then applies), and false is a value.
  auto none = ParseStartBuildRequest(Parse(R"({"privilegedModeOverride": false})"));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->image_override);
  EXPECT_EQ(none->privileged_mode_override, false);
  EXPECT_FALSE(none->compute_type_override);
  EXPECT_FALSE(none->environment_type_override);
}

// The intake's names are spec's (kiln.yml's computeType): every one means the same size.
TEST(StartBuildRequest, ComputeTypeOverrideTakesEveryNameKilnYmlTakes) {
  for (const char* name : {"BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE",
                           "BUILD_GENERAL1_XLARGE", "BUILD_GENERAL1_2XLARGE"}) {
    auto r = ParseStartBuildRequest({{"computeTypeOverride", name}});
    ASSERT_TRUE(r.ok()) << name;
    EXPECT_EQ(r->compute_type_override, spec::ParseComputeType(name)) << name;
    EXPECT_EQ(spec::ComputeTypeName(*r->compute_type_override), name);
  }
}

TEST(StartBuildRequest, EnvironmentOverridesWithWrongTypesOrValuesNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"imageOverride": 5})", "field 'imageOverride': expected a string, got number"},
      {R"({"imageOverride": ""})", "field 'imageOverride': must not be empty"},
      {R"({"imageOverride": "busybox latest"})",
       "field 'imageOverride': expected an image reference (REPOSITORY[:TAG] or "
       "REPOSITORY@DIGEST), got \"busybox latest\""},
      {R"({"imageOverride": "busybox\n"})",
       "field 'imageOverride': expected an image reference (REPOSITORY[:TAG] or "
       "REPOSITORY@DIGEST), got \"busybox\\n\""},
      {R"({"imageOverride": "https://x/y"})",
       "field 'imageOverride': expected an image reference (REPOSITORY[:TAG] or "
       "REPOSITORY@DIGEST), got \"https://x/y\""},
      {R"({"privilegedModeOverride": "true"})",
       "field 'privilegedModeOverride': expected a boolean, got string"},
      {R"({"privilegedModeOverride": 1})",
       "field 'privilegedModeOverride': expected a boolean, got number"},
      {R"({"computeTypeOverride": "BUILD_GENERAL1_HUGE"})",
       "field 'computeTypeOverride': expected one of BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM, "
       "BUILD_GENERAL1_LARGE, BUILD_GENERAL1_XLARGE, BUILD_GENERAL1_2XLARGE, got "
       "\"BUILD_GENERAL1_HUGE\""},
      {R"({"computeTypeOverride": ["BUILD_GENERAL1_SMALL"]})",
       "field 'computeTypeOverride': expected one of BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM, "
       "BUILD_GENERAL1_LARGE, BUILD_GENERAL1_XLARGE, BUILD_GENERAL1_2XLARGE, got array"},
      {R"({"environmentTypeOverride": "ARM_CONTAINER"})",
       "field 'environmentTypeOverride': expected one of LINUX_CONTAINER, got \"ARM_CONTAINER\""},
      {R"({"environmentTypeOverride": null})",
       "field 'environmentTypeOverride': expected one of LINUX_CONTAINER, got null"},
  };
  for (const auto& [body, message] : cases) {
    EXPECT_EQ(Error(ParseStartBuildRequest(Parse(body))), message) << body;
  }
  EXPECT_EQ(Error(ParseStartBuildRequest({{"imageOverride", std::string(256, 'a')}})),
            "field 'imageOverride': at most 255 bytes, got 256");
  EXPECT_TRUE(ParseStartBuildRequest({{"imageOverride", std::string(255, 'a')}}).ok());
}

TEST(StoredBuildRequest, RoundTripsThroughTheSameParser) {
  StoredBuildRequest in{
      .project_name = "web",
      .initiator = "GitHub-Hookshot/1",
      .start = {.buildspec_override = "version: 0.2",
                .environment_variables_override = {{"A", "1", VariableType::kSecretsManager}},
                .timeout_in_minutes_override = 30,
                .image_override = "busybox:1.36",
                .privileged_mode_override = false,
                .compute_type_override = spec::ComputeType::kMedium,
                .environment_type_override = "LINUX_CONTAINER"},
      .source = BuildSourceRef{.connection = "gh", .revision = "abc", .webhook_event = "PUSH"}};
  auto out = ParseStoredBuildRequest(StoredBuildRequestJson(in));
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->project_name, "web");
  EXPECT_EQ(out->initiator, "GitHub-Hookshot/1");
  EXPECT_EQ(out->start.buildspec_override, "version: 0.2");
  ASSERT_EQ(out->start.environment_variables_override.size(), 1u);
  EXPECT_EQ(out->start.environment_variables_override[0].type, VariableType::kSecretsManager);
  EXPECT_EQ(out->start.timeout_in_minutes_override, 30);
  EXPECT_EQ(out->start.image_override, "busybox:1.36");
  EXPECT_EQ(out->start.privileged_mode_override, false);
  EXPECT_EQ(out->start.compute_type_override, spec::ComputeType::kMedium);
  EXPECT_EQ(out->start.environment_type_override, "LINUX_CONTAINER");
  ASSERT_TRUE(out->source);
  EXPECT_EQ(out->source->connection, "gh");
  EXPECT_EQ(out->source->revision, "abc");
  EXPECT_EQ(out->source->webhook_event, "PUSH");
  auto no_source = ParseStoredBuildRequest(StoredBuildRequestJson({.project_name = "web"}));
  ASSERT_TRUE(no_source.ok());
  EXPECT_FALSE(no_source->source);
}

TEST(StoredBuildRequest, HostileRowsAreErrorsNotExceptions) {
  EXPECT_EQ(Error(ParseStoredBuildRequest("not json {")), "the text is not JSON");
  EXPECT_EQ(Error(ParseStoredBuildRequest("")), "the text is not JSON");
  EXPECT_EQ(Error(ParseStoredBuildRequest("[]")),
            "the request body: expected an object, got array");
  EXPECT_EQ(Error(ParseStoredBuildRequest(R"({"environmentVariablesOverride": [{"name": 1}]})")),
            "field 'environmentVariablesOverride[0].name': expected a string, got number");
  EXPECT_EQ(Error(ParseStoredBuildRequest(R"({"source": "gh"})")),
            "field 'source': expected an object, got string");
  EXPECT_EQ(Error(ParseStoredBuildRequest(R"({"source": {"connection": 3}})")),
            "field 'source.connection': expected a string, got number");
  EXPECT_EQ(Error(ParseStoredBuildRequest(R"({"initiator": {}})")),
            "field 'initiator': expected a string, got object");
  EXPECT_EQ(Error(ParseStoredBuildRequest(R"({"timeoutInMinutesOverride": 99999999})")),
            "field 'timeoutInMinutesOverride': expected an integer from 5 to 2160, got 99999999");
}

TEST(DeployRequest, ReadsOneOfTheThreeForms) {
  auto defs = ParseDeployRequest(Parse(
      R"({"imageDefinitions": [{"name": "api", "imageUri": "api.tgz"}], "artifactDir": "/a"})"));
  ASSERT_TRUE(defs.ok()) << defs.status().message();
  ASSERT_EQ(defs->image_definitions.size(), 1u);
  EXPECT_EQ(defs->image_definitions[0].image_uri, "api.tgz");
  EXPECT_EQ(defs->artifact_dir, "/a");
  auto detail = ParseDeployRequest(Parse(R"({"imageDetail": {"ImageURI": "x.tgz"}})"));
  ASSERT_TRUE(detail.ok());
  EXPECT_EQ(detail->image_detail_uri, "x.tgz");
  auto revision = ParseDeployRequest(Parse(R"({"revision": 3})"));
  ASSERT_TRUE(revision.ok());
  EXPECT_EQ(revision->revision, 3);
}

TEST(DeployRequest, WrongTypesNameTheField) {
  EXPECT_EQ(Error(ParseDeployRequest(Parse(R"({"imageDefinitions": {"name": "api"}})"))),
            "field 'imageDefinitions': expected an array, got object");
  EXPECT_EQ(
      Error(ParseDeployRequest(Parse(R"({"imageDefinitions": [{"name": "api", "imageUri": 1}]})"))),
      "field 'imageDefinitions[0].imageUri': expected a string, got number");
  EXPECT_EQ(Error(ParseDeployRequest(Parse(R"({"imageDefinitions": []})"))),
            "field 'imageDefinitions': expected at least one entry");
  EXPECT_EQ(Error(ParseDeployRequest(Parse(R"({"imageDetail": [1]})"))),
            "field 'imageDetail': expected an object, got array");
  EXPECT_EQ(Error(ParseDeployRequest(Parse(R"({"imageDetail": {"ImageURI": null}})"))),
            "field 'imageDetail.ImageURI': expected a string, got null");
  EXPECT_EQ(Error(ParseDeployRequest(Parse(R"({"revision": "3"})"))),
            "field 'revision': expected an integer from 1 to 9223372036854775807, got string");
  EXPECT_EQ(Error(ParseDeployRequest(Parse(R"({"revision": 0})"))),
            "field 'revision': expected an integer from 1 to 9223372036854775807, got 0");
  EXPECT_EQ(Error(ParseDeployRequest(Parse(R"({"revision": 2, "artifactDir": 5})"))),
            "field 'artifactDir': expected a string, got number");
  EXPECT_EQ(Error(ParseDeployRequest(Parse(R"({"revision": 2, "artifactDir": "rel"})"))),
            "field 'artifactDir': expected an absolute path");
  EXPECT_THAT(Error(ParseDeployRequest(json::object())),
              testing::HasSubstr("give imageDefinitions"));
}

TEST(ScaleRequest, DesiredCountIsABoundedInteger) {
  auto r = ParseScaleRequest(Parse(R"({"desiredCount": 3})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->desired_count, 3);
  EXPECT_EQ(Error(ParseScaleRequest(json::object())), "field 'desiredCount': is required");
  EXPECT_EQ(Error(ParseScaleRequest(Parse(R"({"desiredCount": "3"})"))),
            "field 'desiredCount': expected an integer from 0 to 1000, got string");
  EXPECT_EQ(Error(ParseScaleRequest(Parse(R"({"desiredCount": 1001})"))),
            "field 'desiredCount': expected an integer from 0 to 1000, got 1001");
  EXPECT_EQ(Error(ParseScaleRequest(Parse(R"({"desiredCount": -1})"))),
            "field 'desiredCount': expected an integer from 0 to 1000, got -1");
}

TEST(RollbackRequest, TakesAnObjectOnly) {
  EXPECT_TRUE(ParseRollbackRequest(json::object()).ok());
  EXPECT_TRUE(ParseRollbackRequest(Parse(R"({"anything": [1]})")).ok());
  EXPECT_EQ(Error(ParseRollbackRequest(Parse("\"x\""))),
            "the request body: expected an object, got string");
}

}  // namespace
}  // namespace kiln::server
