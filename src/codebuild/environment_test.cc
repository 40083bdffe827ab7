#include "codebuild/environment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "codebuild/engine.h"
#include "codebuild/log_sink.h"

namespace kiln::codebuild {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

const std::map<std::string, std::string> kParameters = {{"/app/db", "db-pa55"}};
const std::map<std::string, std::string> kSecrets = {{"prod/api", R"({"token":"t0ken-xyz"})"}};

nlohmann::json Typed() {
  return nlohmann::json::parse(R"([
    {"name": "PLAIN", "value": "visible"},
    {"name": "DB", "value": "/app/db", "type": "PARAMETER_STORE"},
    {"name": "TOKEN", "value": "prod/api:token", "type": "SECRETS_MANAGER"}])");
}

// The values of typed secrets are registered for masking where they are resolved.
TEST(AppendTypedVariables, ResolvesAndRegistersEverySecretValueForMasking) {
  VarList vars;
  std::vector<std::string> mask;
  ASSERT_TRUE(AppendTypedVariables(Typed(), kParameters, kSecrets, &vars, &mask).ok());
  EXPECT_THAT(vars, ElementsAre(Pair("PLAIN", "visible"), Pair("DB", "db-pa55"),
                                Pair("TOKEN", "t0ken-xyz")));
  EXPECT_THAT(mask, UnorderedElementsAre("db-pa55", "t0ken-xyz"));
}

TEST(AppendTypedVariables, AMissingOneIsNamedWithoutAnyValue) {
  VarList vars;
  std::vector<std::string> mask;
  auto missing =
      nlohmann::json::parse(R"([{"name": "X", "value": "/nope", "type": "PARAMETER_STORE"}])");
  base::Status st = AppendTypedVariables(missing, kParameters, kSecrets, &vars, &mask);
  EXPECT_EQ(st.kind(), base::ErrorKind::kNotFound);
  EXPECT_THAT(st.message(), testing::HasSubstr("/nope"));
  EXPECT_THAT(mask, IsEmpty());
}

// Both paths (a pipeline action's EnvironmentVariables, an API build's overrides) go through
// AddTypedOverrides: what it resolves lands in the request's mask, which ComposeEnvironment
// keeps beside the buildspec's own secrets.
TEST(AddTypedOverrides, FeedsTheSameMaskListAsTheBuildspecSecrets) {
  BuildRequest req{.parameters = kParameters, .secrets = kSecrets};
  ASSERT_TRUE(AddTypedOverrides(Typed(), &req).ok());
  EXPECT_THAT(req.mask, UnorderedElementsAre("db-pa55", "t0ken-xyz"));
  spec::Env buildspec;
  buildspec.parameter_store.emplace_back("OWN", "/app/db");
  auto env = ComposeEnvironment({.buildspec = &buildspec,
                                 .overrides = req.overrides,
                                 .parameters = req.parameters,
                                 .secrets = req.secrets,
                                 .mask = req.mask});
  ASSERT_TRUE(env.ok());
  EXPECT_THAT(env->mask, UnorderedElementsAre("db-pa55", "t0ken-xyz", "db-pa55"));
  EXPECT_EQ(MaskText(env->mask, "db=db-pa55 token=t0ken-xyz plain=visible"),
            "db=*** token=*** plain=visible");
}

TEST(MaskText, HidesASecretInsideALongerValue) {
  EXPECT_EQ(MaskText({"s3cr3t"}, "prefix-s3cr3t-suffix"), "prefix-***-suffix");
  EXPECT_EQ(MaskText({}, "as is"), "as is");
}

}  // namespace
}  // namespace kiln::codebuild

namespace kiln::codebuild {
namespace {

// A project's environmentVariables come after its plain variables, typed ones resolved and
// masked; its build environment travels with the request.
TEST(ApplyProjectSettings, TypedProjectVariablesResolveMaskAndCarryTheEnvironment) {
  spec::Project project;
  project.variables = {{"STAGE", "prod"}};
  project.environment.image = "kiln/standard:1";
  project.environment.compute_type = spec::ComputeType::kLarge;
  project.environment.variables = {
      {.name = "IMAGE_URL", .value = "127.0.0.1:5000"},
      {.name = "DB", .value = "/app/db", .type = spec::VariableType::kParameterStore}};
  BuildRequest req;
  req.parameters = kParameters;
  ASSERT_TRUE(ApplyProjectSettings(project, &req).ok());
  EXPECT_THAT(req.project_vars,
              ElementsAre(Pair("STAGE", "prod"), Pair("IMAGE_URL", "127.0.0.1:5000"),
                          Pair("DB", "db-pa55")));
  EXPECT_THAT(req.mask, ElementsAre("db-pa55"));
  EXPECT_EQ(req.environment.image, "kiln/standard:1");
  EXPECT_EQ(req.environment.compute_type, spec::ComputeType::kLarge);
}

TEST(ApplyProjectSettings, AnUnknownParameterIsAnErrorNamingIt) {
  spec::Project project;
  project.environment.variables = {
      {.name = "DB", .value = "/nope", .type = spec::VariableType::kParameterStore}};
  BuildRequest req;
  base::Status st = ApplyProjectSettings(project, &req);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/nope"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace kiln::codebuild
