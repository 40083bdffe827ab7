#include "spec/buildspec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/conformance.h"
#include "spec/cloudformation.h"
#include "spec/kiln_config.h"
#include "spec/pipeline.h"
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

// The buildspecs of the shared corpus (base/conformance.h says where it is found).
std::string CorpusDir() { return (base::ConformanceDir() / "buildspecs").string(); }

// Every test of these suites reads the corpus, and skips when it is absent.
class BuildspecConformanceTest : public base::ConformanceTest {};
class BuildspecInvalidTest : public base::ConformanceTest {};

// "LINE:COL: message" for each diagnostic of text, for compact assertions.
std::vector<std::string> Errors(std::string_view text, const BuildspecLimits& limits = {}) {
  ParsedBuildspec parsed = ParseBuildspec(text, "buildspec.yml", limits);
  EXPECT_EQ(parsed.spec.has_value(), parsed.diagnostics.empty());
  std::vector<std::string> out;
  for (const Diagnostic& d : parsed.diagnostics) {
    EXPECT_EQ(d.file, "buildspec.yml");
    out.push_back(std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message);
  }
  return out;
}

// Parses text that must be valid.
Buildspec Valid(std::string_view text) {
  ParsedBuildspec parsed = ParseBuildspec(text, "buildspec.yml");
  EXPECT_THAT(parsed.diagnostics, IsEmpty()) << Describe(parsed.diagnostics);
  return parsed.spec.value_or(Buildspec{});
}

// Parses a valid conformance file.
Buildspec Conformance(const std::string& name) {
  ParsedBuildspec parsed = ParseBuildspec(ReadFile(CorpusDir() + "/" + name), name);
  EXPECT_THAT(parsed.diagnostics, IsEmpty()) << Describe(parsed.diagnostics);
  return parsed.spec.value_or(Buildspec{});
}

// "install=3 build=4+f1": present phases in execution order, commands (+finally) counted.
std::string PhaseSummary(const Buildspec& spec) {
  std::string out;
  for (PhaseName p : kAllPhases) {
    const Phase& phase = spec.phase(p);
    if (!phase.present) continue;
    out += (out.empty() ? "" : " ") + std::string(PhaseKey(p)) + "=" +
           std::to_string(phase.commands.size());
    if (!phase.finally.empty()) out += "+f" + std::to_string(phase.finally.size());
  }
  return out;
}

std::vector<std::string> Names(const OrderedMap& map) {
  std::vector<std::string> out;
  for (const auto& [name, value] : map) out.push_back(name);
  return out;
}

std::string Value(const OrderedMap& map, std::string_view name) {
  for (const auto& [key, value] : map) {
    if (key == name) return value;
  }
  return "<missing " + std::string(name) + ">";
}

std::vector<std::string> Texts(const std::vector<Command>& commands) {
  std::vector<std::string> out;
  for (const Command& c : commands) out.push_back(c.text);
  return out;
}

const std::vector<Command>& Commands(const Buildspec& spec, PhaseName p) {
  return spec.phase(p).commands;
}

const std::vector<std::string> kImageDefinitions = {"imagedefinitions.json"};

// ---------------------------------------------------------------------------------------------
// The conformance corpus.

TEST_F(BuildspecConformanceTest, EveryValidFileParsesWithoutDiagnostics) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CorpusDir())) {
    std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".yml" && ext != ".yaml")) continue;
    ++files;
    SCOPED_TRACE(entry.path().filename().string());
    ParsedBuildspec parsed = ParseBuildspec(ReadFile(entry.path().string()), "f");
    EXPECT_THAT(parsed.diagnostics, IsEmpty()) << Describe(parsed.diagnostics);
    ASSERT_TRUE(parsed.spec.has_value());
    EXPECT_EQ(parsed.spec->version, "0.2");
  }
  EXPECT_GE(files, 29);  // all of them, if shared/ was found
}

TEST_F(BuildspecConformanceTest, EveryInvalidFileIsRefused) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CorpusDir() + "/invalid")) {
    ++files;
    SCOPED_TRACE(entry.path().filename().string());
    ParsedBuildspec parsed = ParseBuildspec(ReadFile(entry.path().string()), "f");
    EXPECT_FALSE(parsed.spec.has_value());
    EXPECT_THAT(parsed.diagnostics, Not(IsEmpty()));
  }
  EXPECT_GE(files, 7);
}

TEST_F(BuildspecConformanceTest, Annleefores) {
  Buildspec s = Conformance("annleefores__cruddur__backend-flask_buildspec.yml");
  EXPECT_EQ(PhaseSummary(s), "install=3 build=4 post_build=6");
  EXPECT_THAT(s.phase(PhaseName::kInstall).runtime_versions,
              ElementsAre(std::pair<std::string, std::string>("docker", "20")));
  EXPECT_THAT(Names(s.env.variables),
              ElementsAre("AWS_DEFAULT_REGION", "CONTAINER_NAME", "REPO_NAME", "FRONTEND_URL",
                          "BACKEND_URL", "OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT"));
  EXPECT_THAT(Names(s.env.parameter_store),
              ElementsAre("AWS_ACCESS_KEY_ID", "AWS_COGNITO_USER_POOL_CLIENT_ID",
                          "AWS_COGNITO_USER_POOL_ID", "AWS_SECRET_ACCESS_KEY", "CONNECTION_URL",
                          "OTEL_EXPORTER_OTLP_HEADERS", "ROLLBAR_ACCESS_TOKEN", "AWS_ACCOUNT_ID",
                          "IMAGE_URL"));
  EXPECT_EQ(Value(s.env.parameter_store, "IMAGE_URL"), "/cruddur/backend-flask/BACKEND_IMAGE_URL");
  EXPECT_EQ(Value(s.env.variables, "REPO_NAME"), "backend-flask:latest");
  EXPECT_EQ(s.artifacts.primary.files, kImageDefinitions);
  EXPECT_EQ(Commands(s, PhaseName::kBuild)[3].text, "docker tag $REPO_NAME $IMAGE_URL/$REPO_NAME");
  // Plain scalars: backslashes are literal, not YAML escapes.
  const auto& post = Commands(s, PhaseName::kPostBuild);
  EXPECT_EQ(post[4].text,
            R"(echo "imagedefinitions.json > [{\"name\":\"$CONTAINER_NAME\",\"imageUri\":\")"
            R"($IMAGE_URL/$REPO_NAME\"}]" > imagedefinitions.json)");
  EXPECT_EQ(post[5].text,
            R"(printf "[{\"name\":\"$CONTAINER_NAME\",\"imageUri\":\"$IMAGE_URL/$REPO_NAME\"}]")"
            R"( > imagedefinitions.json)");
  EXPECT_EQ(post[5].line, 24);
}

TEST_F(BuildspecConformanceTest, KPaulius) {
  Buildspec s = Conformance("k-paulius__aws-bootcamp-cruddur-2023__backend-flask_buildspec.yml");
  EXPECT_EQ(PhaseSummary(s), "pre_build=3 build=4 post_build=5");
  EXPECT_THAT(Names(s.env.variables), ElementsAre("IMAGE_TAG"));
  EXPECT_EQ(s.artifacts.primary.files, kImageDefinitions);  // indented 4, items at 6
}

TEST_F(BuildspecConformanceTest, PatrickCmdKeepsIntegersAsTextAndDropsTrailingSpaces) {
  Buildspec s = Conformance("PatrickCmd__aws-bootcamp-cruddur-2023__backend-flask_buildspec.yml");
  EXPECT_EQ(PhaseSummary(s), "install=3 build=4 post_build=6");
  EXPECT_THAT(Names(s.env.variables), ElementsAre("AWS_ACCOUNT_ID", "AWS_DEFAULT_REGION",
                                                  "CONTAINER_NAME", "IMAGE_URL", "REPO_NAME"));
  EXPECT_EQ(Value(s.env.variables, "AWS_ACCOUNT_ID"), "476313879638");
  EXPECT_THAT(Texts(Commands(s, PhaseName::kBuild)), Contains("echo Building the Docker image..."));
  EXPECT_EQ(s.artifacts.primary.files, kImageDefinitions);
}

TEST_F(BuildspecConformanceTest, GloriamaciaKeepsLeadingZeroAccountId) {
  Buildspec s = Conformance("gloriamacia__aws-bootcamp-cruddur-2023__backend-flask_buildspec.yml");
  EXPECT_EQ(PhaseSummary(s), "install=3 build=4 post_build=6");
  EXPECT_THAT(Names(s.env.variables), ElementsAre("AWS_ACCOUNT_ID", "AWS_DEFAULT_REGION",
                                                  "CONTAINER_NAME", "IMAGE_URL", "REPO_NAME"));
  EXPECT_EQ(Value(s.env.variables, "AWS_ACCOUNT_ID"), "010116213471");  // not octal 1094260537
  EXPECT_EQ(Value(s.phase(PhaseName::kInstall).runtime_versions, "docker"), "20");
}

TEST_F(BuildspecConformanceTest, Iffydopsqueen) {
  Buildspec s =
      Conformance("iffydopsqueen__aws-bootcamp-cruddur-2023__frontend-react-js_buildspec.yml");
  EXPECT_EQ(PhaseSummary(s), "install=3 build=4 post_build=7");
  EXPECT_EQ(Value(s.env.variables, "AWS_ACCOUNT_ID"), "013073124868");
  EXPECT_THAT(Texts(Commands(s, PhaseName::kPostBuild)),
              Contains("aws ecs register-task-definition --cli-input-json "
                       "\"file://aws-bootcamp-cruddur-2023/aws/task-definitions/"
                       "frontend-react-js.json\""));
  EXPECT_EQ(s.artifacts.primary.files, kImageDefinitions);
}

TEST_F(BuildspecConformanceTest, AbdassalamAhmadFoldsAMultiLinePlainScalarIntoOneCommand) {
  Buildspec s =
      Conformance("AbdassalamAhmad__aws-bootcamp-cruddur-2023__frontend-react-js_buildspec.yml");
  EXPECT_EQ(PhaseSummary(s), "install=3 build=4 post_build=6");
  const Command& build = Commands(s, PhaseName::kBuild)[2];
  EXPECT_EQ(build.text,
            "docker build \\ --build-arg REACT_APP_BACKEND_URL=\"https://api.newcruddur.dev\" \\ "
            "--build-arg REACT_APP_AWS_PROJECT_REGION=\"$AWS_DEFAULT_REGION\" \\ --build-arg "
            "REACT_APP_AWS_COGNITO_REGION=\"$AWS_DEFAULT_REGION\" \\ --build-arg "
            "REACT_APP_AWS_USER_POOLS_ID=\"eu-south-1_VVTlAbxEV\" \\ --build-arg "
            "REACT_APP_CLIENT_ID=\"7mph1qpebk969vkggt14g8l59d\" \\ -t frontend-react-js \\ -f "
            "\"Dockerfile.prod\" \\ .");
  EXPECT_EQ(build.line, 16);
}

TEST_F(BuildspecConformanceTest, FadyGrAbWithoutFinalNewline) {
  Buildspec s = Conformance("FadyGrAb__aws-bootcamp-cruddur-2023__backend-flask_buildspec.yml");
  EXPECT_EQ(PhaseSummary(s), "install=4 build=5 post_build=7");
  EXPECT_THAT(Names(s.env.variables),
              ElementsAre("AWS_DEFAULT_REGION", "CONTAINER_NAME", "REPO_NAME"));
  const std::string export_url =
      "export IMAGE_URL=\"$AWS_ACCOUNT_ID.dkr.ecr.us-east-1.amazonaws.com\"";
  for (PhaseName p : {PhaseName::kInstall, PhaseName::kBuild, PhaseName::kPostBuild}) {
    EXPECT_EQ(Commands(s, p).front().text, export_url) << PhaseKey(p);
  }
  EXPECT_EQ(s.artifacts.primary.files, kImageDefinitions);  // the last scalar, read whole
}

TEST_F(BuildspecConformanceTest, S2nIntegrationV2IsABuildMatrix) {
  Buildspec s = Conformance("aws__s2n-tls__codebuild_spec_buildspec_ubuntu_integrationv2.yml");
  EXPECT_EQ(PhaseSummary(s), "pre_build=1 build=5");
  EXPECT_THAT(Names(s.env.variables), ElementsAre("CB_BIN_DIR"));
  EXPECT_TRUE(s.has_batch);
  EXPECT_EQ(s.batch_kind, "build-matrix");
  EXPECT_FALSE(s.artifacts.present);
}

TEST_F(BuildspecConformanceTest, S2nValgrindAbortsOnFailure) {
  Buildspec s = Conformance("aws__s2n-tls__codebuild_spec_buildspec_valgrind.yml");
  EXPECT_EQ(PhaseSummary(s), "pre_build=2 build=2 post_build=3");
  EXPECT_EQ(s.batch_kind, "build-list");
  EXPECT_EQ(s.phase(PhaseName::kPreBuild).on_failure.mode, OnFailure::Mode::kDefault);
  EXPECT_EQ(s.phase(PhaseName::kBuild).on_failure.mode, OnFailure::Mode::kAbort);
  EXPECT_EQ(s.phase(PhaseName::kPostBuild).on_failure.mode, OnFailure::Mode::kAbort);
}

TEST_F(BuildspecConformanceTest, EncryptionSdkProdRelease) {
  Buildspec s = Conformance("aws__aws-encryption-sdk-python__codebuild_release_prod-release.yml");
  EXPECT_EQ(PhaseSummary(s), "install=2 pre_build=3 build=1");
  EXPECT_THAT(Names(s.env.variables), ElementsAre("BRANCH"));
  EXPECT_THAT(
      s.env.secrets_manager,
      ElementsAre(std::pair<std::string, std::string>("TWINE_USERNAME", "PyPiAPIToken:username"),
                  std::pair<std::string, std::string>("TWINE_PASSWORD", "PyPiAPIToken:password")));
  EXPECT_EQ(s.batch_kind, "build-graph");
  // `commands` is written before `runtime-versions`.
  EXPECT_EQ(Value(s.phase(PhaseName::kInstall).runtime_versions, "python"), "latest");
  EXPECT_EQ(Commands(s, PhaseName::kPreBuild)[2].text,
            "if expr ${FOUND_VERSION} != ${VERSION}; then\n"
            "  echo \"identifiers.py version (${FOUND_VERSION}) does not match expected version "
            "(${VERSION}), stopping\"\n"
            "  exit 1;\n"
            "fi\n");
}

TEST_F(BuildspecConformanceTest, EncryptionSdkDafnyVectorsKeepsRuntimeVersionsAsText) {
  Buildspec s = Conformance(
      "aws__aws-encryption-sdk-python__codebuild_py312_decrypt_dafny_esdk_vectors_keyrings.yml");
  EXPECT_EQ(PhaseSummary(s), "install=0 pre_build=8 build=3");
  EXPECT_THAT(s.phase(PhaseName::kInstall).runtime_versions,
              ElementsAre(std::pair<std::string, std::string>("python", "3.12"),
                          std::pair<std::string, std::string>("dotnet", "6.0")));
  EXPECT_THAT(Names(s.env.variables),
              ElementsAre("TOXENV", "AWS_ENCRYPTION_SDK_PYTHON_INTEGRATION_TEST_AWS_KMS_KEY_ID",
                          "AWS_ENCRYPTION_SDK_PYTHON_INTEGRATION_TEST_AWS_KMS_KEY_ID_2",
                          "AWS_ENCRYPTION_SDK_PYTHON_INTEGRATION_TEST_AWS_KMS_MRK_KEY_ID_1",
                          "AWS_ENCRYPTION_SDK_PYTHON_INTEGRATION_TEST_AWS_KMS_MRK_KEY_ID_2"));
  EXPECT_EQ(Value(s.env.variables, "TOXENV"), "py312-full_decrypt-mpl");
  EXPECT_EQ(Value(s.env.variables, "AWS_ENCRYPTION_SDK_PYTHON_INTEGRATION_TEST_AWS_KMS_KEY_ID"),
            "arn:aws:kms:us-west-2:658956600833:key/b3537ef1-d8dc-4780-9f5a-55776cbb2f7f");
  EXPECT_EQ(s.env.git_credential_helper, "yes");
  EXPECT_EQ(Value(s.env.secrets_manager, "GITHUB_TOKEN"),
            "Github/lucasmcdonald3-fgpat:actions read");
  EXPECT_FALSE(s.artifacts.present);
}

TEST_F(BuildspecConformanceTest, JetbrainsLinuxTests) {
  Buildspec s = Conformance("aws__aws-toolkit-jetbrains__buildspec_linuxTests.yml");
  EXPECT_EQ(PhaseSummary(s), "install=10 build=11 post_build=8");
  EXPECT_EQ(Value(s.env.variables, "CI"), "true");
  EXPECT_EQ(Value(s.env.variables, "LOCAL_ENV_RUN"), "true");
  // The `>` opens the block's text; it is not a folded-scalar indicator.
  EXPECT_EQ(Commands(s, PhaseName::kInstall)[0].text,
            ">/home/codebuild-user/.gradle/gradle.properties echo \"\n"
            "org.gradle.jvmargs=-Xmx4g\nkotlin.daemon.jvmargs=-Xmx4g\n\"\n");
  // The trailing " # Encode ..." is a YAML comment; the quoted '#' stays.
  EXPECT_EQ(Commands(s, PhaseName::kBuild)[6].text,
            "CI_BUILD_URL=$(echo $CODEBUILD_BUILD_URL | sed 's/#/%23/g')");
  // The commented-out entry at column 0 is not a cache path.
  EXPECT_THAT(s.cache.paths, ElementsAre("/home/codebuild-user/.gradle/wrapper/**/*"));
  ASSERT_THAT(s.reports, SizeIs(1));
  EXPECT_EQ(s.reports[0].name, "unit-test");
  EXPECT_THAT(s.reports[0].files, ElementsAre("**/*"));
  EXPECT_EQ(s.reports[0].base_directory, "/tmp/testArtifacts/test-reports");
  EXPECT_TRUE(s.reports[0].discard_paths);
  EXPECT_EQ(s.reports[0].file_format, "JUNITXML");
  EXPECT_THAT(s.artifacts.primary.files, ElementsAre("**/*"));
  EXPECT_EQ(s.artifacts.primary.base_directory, "/tmp/testArtifacts");
  EXPECT_FALSE(s.artifacts.primary.discard_paths);
  ASSERT_THAT(s.artifacts.secondary, SizeIs(1));
  const auto& [id, plugin] = s.artifacts.secondary[0];
  EXPECT_EQ(id, "plugin");
  EXPECT_THAT(plugin.files, ElementsAre("/tmp/buildArtifacts/*"));
  EXPECT_TRUE(plugin.discard_paths);
  EXPECT_EQ(plugin.name, "plugins.zip");
}

TEST_F(BuildspecConformanceTest, JetbrainsWindowsTests) {
  Buildspec s = Conformance("aws__aws-toolkit-jetbrains__buildspec_windowsTests.yml");
  EXPECT_EQ(PhaseSummary(s), "install=2 build=1 post_build=1");
  EXPECT_THAT(Names(s.env.variables), ElementsAre("CI", "LOCAL_ENV_RUN"));
  EXPECT_THAT(Commands(s, PhaseName::kInstall)[0].text,
              StartsWith("if(-Not($Env:CODE_COV_TOKEN -eq $null)) {\n"));
  // '#' lines inside a `|` block are content, not YAML comments.
  EXPECT_THAT(Commands(s, PhaseName::kBuild)[0].text,
              StartsWith("# See https://github.com/NuGet/NuGet.Client/pull/4259\n"));
  EXPECT_EQ(s.artifacts.primary.base_directory, "$env:TEMP/testArtifacts");
  EXPECT_THAT(s.artifacts.primary.files, ElementsAre("**/*"));
  ASSERT_THAT(s.reports, SizeIs(1));
  EXPECT_EQ(s.reports[0].base_directory, "$env:TEMP/testArtifacts/test-reports");
  EXPECT_TRUE(s.reports[0].discard_paths);
}

TEST_F(BuildspecConformanceTest, SteampipeContinuesOnFailureAsCodebuildUser) {
  Buildspec s =
      Conformance("turbot__steampipe-samples__all_aws-codebuild-tf_buildspec.steampipe.yaml");
  EXPECT_EQ(PhaseSummary(s), "install=4 build=8");
  EXPECT_THAT(
      s.env.secrets_manager,
      ElementsAre(std::pair<std::string, std::string>(
                      "STEAMPIPE_CLOUD_TOKEN", "$STEAMPIPE_CLOUD_SECRETNAME:STEAMPIPE_CLOUD_TOKEN"),
                  std::pair<std::string, std::string>("WORKSPACE",
                                                      "$STEAMPIPE_CLOUD_SECRETNAME:WORKSPACE")));
  EXPECT_THAT(s.env.exported_variables, ElementsAre("STATUS_URL", "ALARM_COUNT"));
  EXPECT_EQ(s.phase(PhaseName::kBuild).on_failure.mode, OnFailure::Mode::kContinue);
  EXPECT_EQ(s.phase(PhaseName::kBuild).run_as, "codebuild-user");
  EXPECT_EQ(s.phase(PhaseName::kInstall).run_as, std::nullopt);
  EXPECT_FALSE(s.artifacts.present);
}

TEST_F(BuildspecConformanceTest, TerraformPlanQuotedCommands) {
  Buildspec s =
      Conformance("turbot__steampipe-samples__all_aws-codebuild-tf_buildspec-tf-plan.yaml");
  EXPECT_EQ(PhaseSummary(s), "install=3 pre_build=2 build=3");
  EXPECT_THAT(s.env.exported_variables, ElementsAre("BuildID", "BuildTag"));
  EXPECT_EQ(Commands(s, PhaseName::kPreBuild)[0].text, "echo env: $env");
  EXPECT_EQ(s.artifacts.primary.name, "TerraformPlan");
  EXPECT_THAT(s.artifacts.primary.files, ElementsAre("terraform/$env-terraform.tfplan"));
}

TEST_F(BuildspecConformanceTest, SagemakerPythonSdkPhaseWithOnlyFinally) {
  Buildspec s = Conformance("aws__sagemaker-python-sdk__buildspec.yml");
  EXPECT_EQ(PhaseSummary(s), "pre_build=1 build=7 post_build=0+f4");
  const auto& build = Commands(s, PhaseName::kBuild);
  EXPECT_EQ(build[4].text,
            "AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY= AWS_SESSION_TOKEN= "
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI= AWS_DEFAULT_REGION= tox -e py36,py27 -- "
            "tests/unit");
  EXPECT_EQ(build[4].line, 20);
  EXPECT_EQ(build[5].line, 25);
  EXPECT_THAT(build[6].text, AllOf(HasSubstr("\n else\n"), HasSubstr("\n fi\n")));
  EXPECT_EQ(s.phase(PhaseName::kPostBuild).finally[0].text, "FILENAME=$(ls ci-lock/)");
  EXPECT_EQ(s.phase(PhaseName::kPostBuild).finally[0].line, 43);
  EXPECT_EQ(s.phase(PhaseName::kPostBuild).line, 41);
}

TEST_F(BuildspecConformanceTest, SagemakerPytorchKeepsSingleQuotedBackslashN) {
  Buildspec s = Conformance("aws__sagemaker-pytorch-inference-toolkit__buildspec.yml");
  EXPECT_EQ(PhaseSummary(s), "pre_build=6 build=14+f1");
  EXPECT_THAT(Names(s.env.variables),
              ElementsAre("FRAMEWORK_VERSIONS", "CPU_INSTANCE_TYPE", "GPU_INSTANCE_TYPE",
                          "ECR_REPO", "GITHUB_REPO", "DLC_ACCOUNT", "SETUP_FILE", "SETUP_CMDS"));
  std::string setup = Value(s.env.variables, "SETUP_CMDS");
  EXPECT_THAT(setup, StartsWith("#!/bin/bash\\npython3.8 -m pip"));
  EXPECT_EQ(setup.find('\n'), std::string::npos);
  EXPECT_EQ(Value(s.env.variables, "DLC_ACCOUNT"), "763104351884");
  EXPECT_EQ(Value(s.env.variables, "FRAMEWORK_VERSIONS"), "2.1.0 2.2.0");
  EXPECT_THAT(s.phase(PhaseName::kBuild).finally[0].text, StartsWith("for "));
}

TEST_F(BuildspecConformanceTest, AwsLcNonRootRunAs) {
  Buildspec s = Conformance("aws__aws-lc__tests_ci_codebuild_common_run_nonroot_target.yml");
  EXPECT_EQ(PhaseSummary(s), "install=2 build=1");
  EXPECT_EQ(s.run_as, std::nullopt);
  EXPECT_EQ(s.phase(PhaseName::kInstall).run_as, "root");
  EXPECT_EQ(s.phase(PhaseName::kBuild).run_as, "postgres");
  EXPECT_THAT(Texts(Commands(s, PhaseName::kBuild)), ElementsAre("./${AWS_LC_CI_TARGET}"));
  EXPECT_EQ(Value(s.env.variables, "GOPROXY"), "https://proxy.golang.org,direct");
}

TEST_F(BuildspecConformanceTest, AwsLcX509ArtifactNameKeepsShellSyntax) {
  Buildspec s =
      Conformance("aws__aws-lc__tests_ci_codebuild_common_run_x509_limbo_reports_target.yml");
  EXPECT_EQ(PhaseSummary(s), "build=2");
  EXPECT_THAT(s.artifacts.primary.files, ElementsAre("**/*"));
  EXPECT_EQ(s.artifacts.primary.base_directory, "x509-limbo-reports");
  EXPECT_EQ(s.artifacts.primary.name,
            "x509-limbo/${CODEBUILD_WEBHOOK_TRIGGER:-$CODEBUILD_BUILD_ID}");
}

TEST_F(BuildspecConformanceTest, EksAnywhereDockerTestFoldedCommandAndReports) {
  Buildspec s = Conformance(
      "aws__eks-anywhere__cmd_integration_test_build_buildspecs_docker-test-eks-a-cli.yml");
  EXPECT_EQ(PhaseSummary(s), "pre_build=4 build=8");
  EXPECT_THAT(Names(s.env.variables),
              ElementsAre("INTEGRATION_TEST_MAX_CONCURRENT_TEST_COUNT", "EKSA_GIT_KNOWN_HOSTS",
                          "EKSA_GIT_PRIVATE_KEY", "INTEGRATION_TEST_INFRA_CONFIG"));
  EXPECT_EQ(Value(s.env.variables, "INTEGRATION_TEST_MAX_CONCURRENT_TEST_COUNT"), "60");
  EXPECT_THAT(s.env.secrets_manager, SizeIs(21));
  EXPECT_EQ(s.env.secrets_manager.front().first, "EKSA_AWS_REGION");
  EXPECT_EQ(s.env.secrets_manager.back().first, "STAGING_LICENSE_TOKEN2");
  EXPECT_EQ(Commands(s, PhaseName::kBuild)[7].text,
            "./bin/test e2e run -c ${INTEGRATION_TEST_INFRA_CONFIG} -s "
            "${INTEGRATION_TEST_STORAGE_BUCKET} -j ${JOB_ID} -i "
            "${INTEGRATION_TEST_INSTANCE_PROFILE} -p ${INTEGRATION_TEST_MAX_CONCURRENT_TEST_COUNT} "
            "-r ${TEST_REGEX} -v 4 --skip ${SKIPPED_TESTS} --bundles-override=${BUNDLES_OVERRIDE} "
            "--test-report-folder=reports --branch-name=${BRANCH_NAME} --stage=${STAGE}\n");
  ASSERT_THAT(s.reports, SizeIs(1));
  EXPECT_EQ(s.reports[0].name, "e2e-reports");
  EXPECT_THAT(s.reports[0].files, ElementsAre("reports/junit-testing-*.xml"));
  EXPECT_EQ(s.reports[0].file_format, "JUNITXML");
}

TEST_F(BuildspecConformanceTest, EksAnywhereBuildIndentlessSequences) {
  Buildspec s =
      Conformance("aws__eks-anywhere__cmd_integration_test_build_buildspecs_build-eks-a-cli.yml");
  EXPECT_EQ(PhaseSummary(s), "build=4");
  EXPECT_EQ(Commands(s, PhaseName::kBuild)[0].text,
            "make build-eks-a-for-e2e build-integration-test-binary");
  EXPECT_THAT(Commands(s, PhaseName::kBuild)[3].text,
              AllOf(StartsWith("./cmd/integration_test/build/script/upload_artifacts.sh "),
                    HasSubstr("\"linux,darwin\" \"amd64,arm64\" $BRANCH_NAME false")));
  EXPECT_THAT(
      s.artifacts.primary.files,
      ElementsAre("bin/**/*", "cmd/integration_test/build/**/*", "test/e2e/SKIPPED_TESTS.yaml",
                  "ATTRIBUTION.txt", "test/e2e/E2E_AMI_FILTER_VARS"));
  EXPECT_THAT(s.cache.paths, ElementsAre("/root/.cache/go-build/**/*", "/go/pkg/mod/**/*"));
  EXPECT_TRUE(s.cache.present);
  EXPECT_EQ(s.cache.key, std::nullopt);
}

TEST_F(BuildspecConformanceTest, BlueGreenContainerDiscardsPaths) {
  Buildspec s = Conformance(
      "aws-samples__ecs-blue-green-deployment-with-codedeploy__iac_pipeline_codebuild_"
      "buildspec-container.yaml");
  EXPECT_EQ(PhaseSummary(s), "pre_build=5 build=5 post_build=5");
  EXPECT_THAT(s.env.exported_variables, ElementsAre("IMAGE_URI"));
  EXPECT_EQ(Commands(s, PhaseName::kPostBuild)[4].text,
            R"x(printf '{"ImageURI":"%s"}' "$(echo ${IMAGE_URI})" > imageDetail.json)x");
  EXPECT_THAT(s.artifacts.primary.files, ElementsAre("/tmp/build.json", "imageDetail.json"));
  EXPECT_TRUE(s.artifacts.primary.discard_paths);
}

TEST_F(BuildspecConformanceTest, BlueGreenAppPhaseOrderIsNotFileOrder) {
  Buildspec s = Conformance(
      "aws-samples__ecs-blue-green-deployment-with-codedeploy__iac_pipeline_codebuild_"
      "buildspec-app.yaml");
  EXPECT_EQ(PhaseSummary(s), "pre_build=1 build=4");  // build is written first
  EXPECT_LT(s.phase(PhaseName::kBuild).line, s.phase(PhaseName::kPreBuild).line);
  EXPECT_FALSE(s.phase(PhaseName::kInstall).present);  // only in comments
  EXPECT_THAT(s.artifacts.primary.files,
              ElementsAre("target/helloworld.war",
                          "iac/pipeline/codebuild/buildspec-container.yaml", "Dockerfile"));
}

TEST_F(BuildspecConformanceTest, ToolkitVscodeTopLevelRunAs) {
  Buildspec s = Conformance("aws__aws-toolkit-vscode__buildspec_linuxE2ETests.yml");
  EXPECT_EQ(PhaseSummary(s), "install=2 pre_build=3 build=6+f1");
  EXPECT_EQ(s.run_as, "codebuild-user");
  EXPECT_EQ(s.phase(PhaseName::kInstall).run_as, "root");
  EXPECT_EQ(Value(s.phase(PhaseName::kInstall).runtime_versions, "nodejs"), "16");
  EXPECT_THAT(Names(s.env.variables),
              ElementsAre("AWS_TOOLKIT_TEST_NO_COLOR", "DEBIAN_FRONTEND",
                          "AWS_TOOLKIT_TEST_CACHE_DIR", "AWS_TOOLKIT_TEST_USER_DIR"));
  EXPECT_EQ(Value(s.env.variables, "AWS_TOOLKIT_TEST_NO_COLOR"), "1");
  EXPECT_EQ(Value(s.env.variables, "DEBIAN_FRONTEND"), "noninteractive");
  EXPECT_EQ(Commands(s, PhaseName::kBuild)[1].text,
            "xvfb-run npm run testE2E; npm run mergeReports -- \"$?\"");
  EXPECT_THAT(Texts(s.phase(PhaseName::kBuild).finally),
              ElementsAre("rm -rf ~/.aws/sso/cache || true"));
  ASSERT_THAT(s.reports, SizeIs(1));
  EXPECT_EQ(s.reports[0].name, "e2e-test");
  EXPECT_THAT(s.reports[0].files, ElementsAre("*"));
  EXPECT_EQ(s.reports[0].base_directory, ".test-reports");
  EXPECT_FALSE(s.artifacts.present);
}

TEST_F(BuildspecConformanceTest, EcsAgentSigning) {
  Buildspec s = Conformance("aws__amazon-ecs-agent__buildspecs_signing.yml");
  EXPECT_EQ(PhaseSummary(s), "pre_build=1 build=59");
  EXPECT_THAT(s.env.exported_variables, ElementsAre("CODEBUILD_BUILD_ID"));
  EXPECT_EQ(s.phase(PhaseName::kPreBuild).on_failure.mode, OnFailure::Mode::kAbort);
  EXPECT_EQ(s.phase(PhaseName::kBuild).on_failure.mode, OnFailure::Mode::kAbort);
  EXPECT_THAT(Commands(s, PhaseName::kPreBuild)[0].text,
              AllOf(StartsWith("cat <<- 'EOF' > /tmp/functions.sh\n"), HasSubstr("\nEOF\n")));
  const auto& files = s.artifacts.primary.files;
  ASSERT_THAT(files, SizeIs(36));
  EXPECT_EQ(files[0], "$ECS_AGENT_AMD_TAR");
  EXPECT_EQ(files[1], "$ECS_AGENT_AMD_TAR.asc");  // single-quoted in the file
  EXPECT_EQ(files[35], "$CSI_DRIVER_ARM_GITSHORTSHA_TAR.asc");
}

TEST_F(BuildspecConformanceTest, S2nUnitNix) {
  Buildspec s = Conformance("aws__s2n-tls__codebuild_spec_buildspec_unit_nix.yml");
  EXPECT_EQ(PhaseSummary(s), "install=2 pre_build=1 build=1 post_build=1");
  EXPECT_EQ(s.env.shell, "bash");
  EXPECT_EQ(Value(s.env.variables, "NIXDEV_ARGS"), "--max-jobs auto");
  EXPECT_EQ(Value(s.env.variables, "S2N_NO_HEADBUILD"), "1");
  EXPECT_EQ(s.batch_kind, "build-graph");
  EXPECT_THAT(Commands(s, PhaseName::kInstall)[0].text, HasSubstr("[[ $(date +%u) -eq 0 ]]"));
}

TEST_F(BuildspecConformanceTest, EcsAgentPrBuildNullCommands) {
  Buildspec s = Conformance("aws__amazon-ecs-agent__buildspecs_pr-build.yml");
  EXPECT_EQ(PhaseSummary(s), "install=14 build=21 post_build=0");
  EXPECT_THAT(Names(s.env.variables), ElementsAre("GITHUBUSERNAME"));
  EXPECT_EQ(Commands(s, PhaseName::kInstall)[1].text,
            "case $(uname -m) in x86_64) architecture=\"amd64\" ;; aarch64) "
            "architecture=\"arm64\" ;; esac");
  EXPECT_THAT(s.artifacts.primary.files,
              ElementsAre("$ECS_AGENT_TAR", "$ECS_AGENT_RPM", "$BUILD_LOG", "$CSI_DRIVER_TAR",
                          "$WINDOWS_EXE"));
  EXPECT_EQ(s.artifacts.primary.name, "$CODEBUILD_RESOLVED_SOURCE_VERSION");
}

TEST_F(BuildspecConformanceTest, JavaSdkReleaseToMaven) {
  Buildspec s = Conformance("aws__aws-sdk-java-v2__buildspecs_release-to-maven.yml");
  EXPECT_EQ(PhaseSummary(s), "install=1 pre_build=8 build=3");
  EXPECT_EQ(Commands(s, PhaseName::kBuild)[0].text,
            "RELEASE_VERSION=`mvn -q -Dexec.executable=echo -Dexec.args='${project.version}' "
            "--non-recursive exec:exec`");
  EXPECT_THAT(Commands(s, PhaseName::kBuild)[2].text,
              HasSubstr(R"(gsub("\\$SONATYPE_PASSWORD", var, $0))"));
  EXPECT_THAT(Commands(s, PhaseName::kPreBuild)[4].text,
              StartsWith("SDK_SIGNING_GPG_SECRING_ARN=\"arn:aws:secretsmanager:"));
  EXPECT_FALSE(s.artifacts.present);
}

TEST_F(BuildspecConformanceTest, JavaSdkNoopSmallestCase) {
  Buildspec s = Conformance("aws__aws-sdk-java-v2__buildspecs_noop-without-runtimes.yml");
  EXPECT_EQ(PhaseSummary(s), "build=1");
  EXPECT_EQ(Commands(s, PhaseName::kBuild)[0].text, "echo \"No-op.\"");
  EXPECT_EQ(Commands(s, PhaseName::kBuild)[0].line, 6);
  EXPECT_THAT(s.env.variables, IsEmpty());
  EXPECT_FALSE(s.artifacts.present);
  EXPECT_FALSE(s.cache.present);
  EXPECT_FALSE(s.has_batch);
}

// ---------------------------------------------------------------------------------------------
// The invalid corpus, with the positions EXPECTED.md gives.

std::vector<Diagnostic> InvalidFile(const std::string& name) {
  ParsedBuildspec parsed = ParseBuildspec(ReadFile(CorpusDir() + "/invalid/" + name), name);
  EXPECT_FALSE(parsed.spec.has_value());
  return parsed.diagnostics;
}

TEST_F(BuildspecInvalidTest, EmptyFileMissesVersion) {
  auto d = InvalidFile("jess-bk__aws-bootcamp-cruddur-2023__backend-flask_buildspec.yml");
  ASSERT_THAT(d, SizeIs(1));
  EXPECT_EQ(d[0].line, 1);
  EXPECT_EQ(d[0].message, "empty buildspec: missing version");
}

TEST_F(BuildspecInvalidTest, SamfarmVersionZeroAndUnknownTopLevelKeys) {
  auto d = InvalidFile("aws-samples__aws-serverless-samfarm__api_buildspec.yml");
  ASSERT_THAT(d, SizeIs(4)) << Describe(d);
  EXPECT_EQ(d[0].line, 1);
  EXPECT_EQ(d[0].column, 10);
  EXPECT_THAT(d[0].message, HasSubstr("unsupported buildspec version 0.0"));
  EXPECT_EQ(d[1].line, 2);
  EXPECT_THAT(d[1].message, HasSubstr("environment_variables is the buildspec 0.1 name"));
  EXPECT_EQ(d[2].line, 6);
  EXPECT_THAT(d[2].message, HasSubstr("unknown top-level key 'containers'"));
  EXPECT_THAT(d[3].message, HasSubstr("no phases"));
}

TEST_F(BuildspecInvalidTest, LoneQuoteCharacterAfterLastCommand) {
  // yaml-cpp reads the lone U+2019 as a key with no value; the parser names it at 27:1.
  auto d = InvalidFile("aws__aws-encryption-sdk-python__codebuild_py36_awses_local.yml");
  ASSERT_THAT(d, SizeIs(1)) << Describe(d);
  EXPECT_EQ(d[0].line, 27);
  EXPECT_EQ(d[0].column, 1);
  EXPECT_THAT(d[0].message, HasSubstr("missing ':'"));
}

TEST_F(BuildspecInvalidTest, CommandWithoutDash) {
  auto d =
      InvalidFile("aws__aws-encryption-sdk-python__codebuild_py312_decrypt_hkeyring_with_net.yml");
  ASSERT_THAT(d, SizeIs(1));
  EXPECT_EQ(d[0].line, 26);
  EXPECT_EQ(d[0].column, 7);
  EXPECT_THAT(d[0].message, HasSubstr("invalid YAML"));
}

TEST_F(BuildspecInvalidTest, BareWordInEnvVariables) {
  // yaml-cpp itself reports 18:7 (the ':' of the next key it folded the word into); the parser
  // walks back to the word that lacks its ':', as EXPECTED.md places it.
  auto d = InvalidFile("aws__aws-toolkit-vscode__buildspec_linuxE2ETests.yml");
  ASSERT_THAT(d, SizeIs(1));
  EXPECT_EQ(d[0].line, 16);
  EXPECT_EQ(d[0].column, 9);
  EXPECT_THAT(d[0].message, HasSubstr("no ':'"));
}

TEST_F(BuildspecInvalidTest, OverIndentedBatchListItem) {
  // EXPECTED.md's 212:7 is where the broken block mapping starts (PyYAML's "while parsing a block
  // mapping" mark); yaml-cpp reports the offending over-indented `- identifier` itself, 222:7.
  auto d = InvalidFile("aws__s2n-tls__codebuild_spec_buildspec_omnibus.yml");
  ASSERT_THAT(d, SizeIs(1));
  EXPECT_EQ(d[0].line, 222);
  EXPECT_EQ(d[0].column, 7);
  EXPECT_THAT(d[0].message, HasSubstr("invalid YAML"));
}

TEST_F(BuildspecInvalidTest, FiveSpaceIndentedKey) {
  auto d = InvalidFile(
      "aws__eks-anywhere__cmd_integration_test_build_buildspecs_vsphere-test-eks-a-cli.yml");
  ASSERT_THAT(d, SizeIs(1));
  EXPECT_EQ(d[0].line, 22);
  EXPECT_EQ(d[0].column, 6);
  EXPECT_THAT(d[0].message, HasSubstr("invalid YAML"));
}

// ---------------------------------------------------------------------------------------------
// on-failure.

TEST(ParseOnFailureTest, AbortAndContinue) {
  EXPECT_EQ(ParseOnFailure("ABORT")->mode, OnFailure::Mode::kAbort);
  EXPECT_EQ(ParseOnFailure("CONTINUE")->mode, OnFailure::Mode::kContinue);
}

// The retry pattern as written; "" when every error message retries.
std::string RegexOf(const OnFailure& f) { return f.retry_regex ? f.retry_regex->pattern() : ""; }

TEST(ParseOnFailureTest, RetryDefaultsToThreeAttemptsForEveryError) {
  base::Result<OnFailure> f = ParseOnFailure("RETRY");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->mode, OnFailure::Mode::kRetry);
  EXPECT_EQ(f->retry_count, 3);
  EXPECT_EQ(RegexOf(*f), "");
}

TEST(ParseOnFailureTest, RetryCount) {
  EXPECT_EQ(ParseOnFailure("RETRY-4")->retry_count, 4);
  EXPECT_EQ(RegexOf(*ParseOnFailure("RETRY-4")), "");
  EXPECT_EQ(ParseOnFailure("RETRY-0")->retry_count, 0);
  EXPECT_EQ(ParseOnFailure("RETRY-100")->retry_count, 100);
  EXPECT_FALSE(ParseOnFailure("RETRY-101").ok());
  EXPECT_FALSE(ParseOnFailure("RETRY-99999999999999999999").ok());
}

TEST(ParseOnFailureTest, RetryRegex) {
  base::Result<OnFailure> f = ParseOnFailure("RETRY-.*timeout.*");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->retry_count, 3);
  EXPECT_EQ(RegexOf(*f), ".*timeout.*");
  f = ParseOnFailure("RETRY-2-^error");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->retry_count, 2);
  EXPECT_EQ(RegexOf(*f), "^error");
  EXPECT_EQ(RegexOf(*ParseOnFailure("RETRY-2abc")), "2abc");  // not a count: all regex
}

TEST(ParseOnFailureTest, Garbage) {
  for (std::string_view bad :
       {"", "garbage", "abort", "RETRY-", "RETRY-2-", "RETRYX", "RETRY4", "ABORT ", "CONTINUE-1"}) {
    base::Result<OnFailure> f = ParseOnFailure(bad);
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_THAT(f.status().message(), StartsWith("must be ABORT, CONTINUE")) << bad;
  }
}

TEST(ParseOnFailureTest, InvalidOrOversizedRegexIsRefused) {
  base::Result<OnFailure> f = ParseOnFailure("RETRY-2-(unclosed");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "invalid regex '(unclosed': missing ): (unclosed");
  EXPECT_FALSE(ParseOnFailure("RETRY-(?=lookahead)").ok());  // RE2 has no lookaround
  EXPECT_THAT(
      ParseOnFailure("RETRY-" + std::string(kMaxRetryRegexBytes + 1, 'a')).status().message(),
      HasSubstr("longer than 1024 bytes"));
  // Within the length limit but past RE2's memory budget.
  EXPECT_THAT(ParseOnFailure("RETRY-((((a{100}){100}){100}){100})").status().message(),
              HasSubstr("invalid regex"));
}

// The ReDoS classic: std::regex backtracks exponentially here (and recurses per character);
// RE2 is linear in the text.
TEST(RetryRegexTest, CatastrophicBacktrackingPatternFinishesFast) {
  base::Result<RetryRegex> re = RetryRegex::Compile("(a+)+$");
  ASSERT_TRUE(re.ok());
  std::string text(100 * 1024, 'a');
  text += 'b';
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(re->Matches(text));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(RetryRegexTest, MatchesALineOfTheErrorMessage) {
  base::Result<RetryRegex> re = RetryRegex::Compile("(?m)^Reason: .*timed? ?out");
  ASSERT_TRUE(re.ok());
  EXPECT_TRUE(re->Matches("Error while executing command: ./fetch\nReason: timed out\n"));
  EXPECT_FALSE(re->Matches("Error while executing command: ./fetch\nReason: exit status 1\n"));
}

TEST(RetryRegexTest, SearchesOnlyTheEndOfALongMessage) {
  base::Result<RetryRegex> re = RetryRegex::Compile("needle");
  ASSERT_TRUE(re.ok());
  std::string filler(kRetryScanBytes, 'x');
  EXPECT_TRUE(re->Matches(filler + "needle"));
  EXPECT_FALSE(re->Matches("needle" + filler));
}

TEST(BuildspecOnFailureTest, InvalidValueNamesItsPosition) {
  EXPECT_THAT(Errors("version: 0.2\nphases:\n  build:\n    on-failure: RETRY-101\n"
                     "    commands: [make]\n"),
              ElementsAre(StartsWith("4:17: phases.build.on-failure must be ABORT, CONTINUE")));
}

TEST(BuildspecOnFailureTest, InvalidRegexIsAValidationErrorAtItsPosition) {
  EXPECT_THAT(Errors("version: 0.2\nphases:\n  build:\n    on-failure: RETRY-2-a(b\n"
                     "    commands: [make]\n"),
              ElementsAre("4:17: phases.build.on-failure invalid regex 'a(b': missing ): a(b"));
}

TEST(BuildspecOnFailureTest, ParsedIntoThePhase) {
  Buildspec s = Valid("version: 0.2\nphases:\n  build:\n    on-failure: RETRY-2-^error\n");
  const OnFailure& f = s.phase(PhaseName::kBuild).on_failure;
  EXPECT_EQ(f.mode, OnFailure::Mode::kRetry);
  EXPECT_EQ(f.retry_count, 2);
  ASSERT_TRUE(f.retry_regex);
  EXPECT_TRUE(f.retry_regex->Matches("error: flaky network"));
  EXPECT_FALSE(f.retry_regex->Matches("fatal error"));
}

// ---------------------------------------------------------------------------------------------
// Keys, types and shapes.

TEST(BuildspecTest, PhaseKeys) {
  EXPECT_EQ(PhaseKey(PhaseName::kInstall), "install");
  EXPECT_EQ(PhaseKey(PhaseName::kPreBuild), "pre_build");
  EXPECT_EQ(PhaseKey(PhaseName::kBuild), "build");
  EXPECT_EQ(PhaseKey(PhaseName::kPostBuild), "post_build");
}

TEST(BuildspecTest, VersionZeroOneIsAcceptedWithItsEnvironmentVariables) {
  Buildspec s = Valid(
      "version: 0.1\nenvironment_variables:\n  plaintext:\n    A: x\n"
      "phases:\n  build:\n    commands: [make]\n");
  EXPECT_EQ(s.version, "0.1");
  EXPECT_THAT(Names(s.env.variables), ElementsAre("A"));
}

TEST(BuildspecTest, VersionProblems) {
  EXPECT_THAT(Errors("phases:\n  build: {}\n"), ElementsAre(HasSubstr("1:1: missing version")));
  EXPECT_THAT(Errors("version: 1.0\nphases: {build: {}}\n"),
              ElementsAre("1:10: unsupported buildspec version 1.0 (use 0.2)"));
  EXPECT_THAT(Errors("version: [0.2]\nphases: {build: {}}\n"),
              ElementsAre(StartsWith("1:10: version must be 0.2")));
}

TEST(BuildspecTest, EmptyOrNonMappingDocuments) {
  for (std::string_view text : {"", "\n\n", "# only a comment\n", "~\n", "---\n"}) {
    EXPECT_THAT(Errors(text), ElementsAre("1:0: empty buildspec: missing version")) << text;
  }
  EXPECT_THAT(Errors("- a\n- b\n"),
              ElementsAre(HasSubstr("empty buildspec: missing version (the top level is a "
                                    "sequence, not a mapping)")));
  EXPECT_THAT(Errors("just text\n"), ElementsAre(HasSubstr("missing version")));
}

TEST(BuildspecTest, PhasesAreRequired) {
  EXPECT_THAT(Errors("version: 0.2\nenv:\n  variables: {A: b}\n"),
              ElementsAre("1:1: buildspec has no phases"));
}

TEST(BuildspecTest, UnknownKeysNameTheirPosition) {
  EXPECT_THAT(Errors("version: 0.2\nphase:\n  build: {}\nphases: {build: {}}\n"),
              ElementsAre(StartsWith("2:1: unknown top-level key 'phase'; expected one of: ")));
  EXPECT_THAT(Errors("version: 0.2\nphases:\n  during_build:\n    commands: [x]\n"),
              ElementsAre(StartsWith("3:3: unknown phase 'during_build'; expected one of: "
                                     "install, pre_build, build, post_build")));
  EXPECT_THAT(Errors("version: 0.2\nphases:\n  pre-build:\n    commands: [x]\n"),
              ElementsAre(HasSubstr("3:3: unknown phase 'pre-build' (did you mean 'pre_build'?)")));
  EXPECT_THAT(Errors("version: 0.2\nenv:\n  plaintext: {A: b}\nphases: {build: {}}\n"),
              ElementsAre(HasSubstr("3:3: unknown key 'plaintext' in env (buildspec 0.2 renamed "
                                    "plaintext to variables)")));
  EXPECT_THAT(Errors("version: 0.2\nphases:\n  build:\n    command: [x]\n"),
              ElementsAre(HasSubstr("4:5: unknown key 'command' in phases.build")));
  EXPECT_THAT(Errors("version: 0.2\nphases:\n  build:\n    runtime-versions: {go: 1.21}\n"),
              ElementsAre(HasSubstr("runtime-versions belongs in phases.install")));
  EXPECT_THAT(Errors("version: 0.2\nphases: {build: {}}\nartifacts:\n  files: [a]\n  bogus: 1\n"),
              ElementsAre(HasSubstr("5:3: unknown key 'bogus' in artifacts")));
  EXPECT_THAT(Errors("version: 0.2\nphases: {build: {}}\ncache:\n  paths: [a]\n  keys: k\n"),
              ElementsAre(HasSubstr("5:3: unknown key 'keys' in cache")));
  EXPECT_THAT(Errors("version: 0.2\nphases: {build: {}}\nreports:\n  r:\n    files: [a]\n"
                     "    format: X\n"),
              ElementsAre(HasSubstr("6:5: unknown key 'format' in reports.r")));
}

TEST(BuildspecTest, EnvironmentVariablesUnderZeroTwoHasAHint) {
  EXPECT_THAT(Errors("version: 0.2\nenvironment_variables:\n  plaintext: {A: b}\n"
                     "phases: {build: {}}\n"),
              ElementsAre(AllOf(StartsWith("2:1: environment_variables is the buildspec 0.1 "
                                           "name"),
                                HasSubstr("env:"))));
}

TEST(BuildspecTest, WrongTypesNameTheFieldPath) {
  EXPECT_THAT(Errors("version: 0.2\nphases:\n  build:\n    commands: make\n"),
              ElementsAre(StartsWith("4:15: phases.build.commands must be a sequence of strings")));
  EXPECT_THAT(Errors("version: 0.2\nphases:\n  build:\n    commands:\n      - [a, b]\n"),
              ElementsAre(StartsWith("5:9: phases.build.commands item 1 must be a string, not "
                                     "a sequence")));
  EXPECT_THAT(Errors("version: 0.2\nphases: [build]\n"),
              ElementsAre("2:9: phases must be a mapping, not a sequence"));
  EXPECT_THAT(Errors("version: 0.2\nenv:\n  variables:\n    A: [1, 2]\nphases: {build: {}}\n"),
              ElementsAre("4:8: env.variables.A must be a string, not a sequence"));
  EXPECT_THAT(Errors("version: 0.2\nenv:\n  variables:\n    A:\nphases: {build: {}}\n"),
              ElementsAre(StartsWith("4:5: env.variables.A has no value")));
  EXPECT_THAT(Errors("version: 0.2\nenv:\n  exported-variables: A\nphases: {build: {}}\n"),
              ElementsAre(StartsWith("3:23: env.exported-variables must be a sequence")));
  EXPECT_THAT(Errors("version: 0.2\nrun-as: {a: b}\nphases: {build: {}}\n"),
              ElementsAre("2:9: run-as must be a string, not a mapping"));
  EXPECT_THAT(Errors("version: 0.2\nphases:\n  build:\n    run-as:\n"),
              ElementsAre("4:5: phases.build.run-as must be a string, not null"));
}

TEST(BuildspecTest, CommandThatYamlReadsAsAMapping) {
  EXPECT_THAT(
      Errors("version: 0.2\nphases:\n  build:\n    commands:\n      - echo ok\n"
             "      - echo foo: bar\n"),
      ElementsAre(AllOf(StartsWith("6:9: phases.build.commands item 2 must be a string, not a "
                                   "mapping"),
                        HasSubstr("`echo foo: bar`"), HasSubstr("quote the whole command"))));
}

TEST(BuildspecTest, CommandsKeepTheirLines) {
  Buildspec s = Valid(
      "version: 0.2\nphases:\n  build:\n    commands:\n      - echo a\n      - |\n"
      "        echo b\n        echo c\n      - >-\n        echo\n        d\n      -\n"
      "    finally:\n      - \"echo e\"\n");
  EXPECT_THAT(Texts(s.phase(PhaseName::kBuild).commands),
              ElementsAre("echo a", "echo b\necho c\n", "echo d"));  // an empty `-` is skipped
  EXPECT_EQ(s.phase(PhaseName::kBuild).commands[0].line, 5);
  EXPECT_EQ(s.phase(PhaseName::kBuild).commands[1].line, 6);
  EXPECT_EQ(s.phase(PhaseName::kBuild).commands[2].line, 9);
  EXPECT_EQ(s.phase(PhaseName::kBuild).finally[0].line, 14);
}

TEST(BuildspecTest, EmptyPhasesAndNullCommandsAreAccepted) {
  Buildspec s = Valid(
      "version: 0.2\nphases:\n  install:\n  pre_build: {}\n  build:\n"
      "    commands:\n  post_build:\n    finally: [echo done]\n");
  EXPECT_EQ(PhaseSummary(s), "install=0 pre_build=0 build=0 post_build=0+f1");
}

TEST(BuildspecTest, ScalarFileListsAreOneElementLists) {
  Buildspec s = Valid(
      "version: 0.2\nphases: {build: {}}\nartifacts:\n  files: images.json\n  exclude-paths: x\n"
      "cache:\n  paths: /root/.m2/**/*\nreports:\n  r:\n    files: out.xml\n");
  EXPECT_THAT(s.artifacts.primary.files, ElementsAre("images.json"));
  EXPECT_THAT(s.artifacts.primary.exclude_paths, ElementsAre("x"));
  EXPECT_THAT(s.cache.paths, ElementsAre("/root/.m2/**/*"));
  EXPECT_THAT(s.reports[0].files, ElementsAre("out.xml"));
}

TEST(BuildspecTest, BooleansInAnyCase) {
  Buildspec s = Valid(
      "version: 0.2\nphases: {build: {}}\nproxy: {upload-artifacts: No, logs: TRUE}\n"
      "artifacts:\n  files: [a]\n  discard-paths: YES\n  enable-symlinks: True\n");
  EXPECT_TRUE(s.artifacts.primary.discard_paths);
  EXPECT_TRUE(s.artifacts.primary.enable_symlinks);
  s = Valid(
      "version: 0.2\nphases: {build: {}}\nartifacts:\n  files: [a]\n  discard-paths: false\n");
  EXPECT_FALSE(s.artifacts.primary.discard_paths);
  EXPECT_THAT(Errors("version: 0.2\nphases: {build: {}}\nartifacts:\n  files: [a]\n"
                     "  discard-paths: 1\n"),
              ElementsAre("5:18: artifacts.discard-paths must be yes, no, true or false"));
  EXPECT_THAT(Errors("version: 0.2\nenv: {git-credential-helper: maybe}\nphases: {build: {}}\n"),
              ElementsAre(HasSubstr("env.git-credential-helper must be yes, no")));
}

TEST(BuildspecTest, ArtifactsNeedFiles) {
  EXPECT_THAT(Errors("version: 0.2\nphases: {build: {}}\nartifacts:\n  name: x\n"),
              ElementsAre(StartsWith("3:1: artifacts.files is required")));
  EXPECT_THAT(Errors("version: 0.2\nphases: {build: {}}\nartifacts:\n"),
              ElementsAre(StartsWith("3:1: artifacts.files is required")));
  // Even when only secondary artifacts are wanted; and each secondary needs its own.
  EXPECT_THAT(Errors("version: 0.2\nphases: {build: {}}\nartifacts:\n  secondary-artifacts:\n"
                     "    one:\n      files: [a]\n    two:\n      name: b\n"),
              ElementsAre(StartsWith("7:5: artifacts.secondary-artifacts.two.files is required"),
                          StartsWith("3:1: artifacts.files is required")));
}

TEST(BuildspecTest, ArtifactsAllFields) {
  Buildspec s = Valid(
      "version: 0.2\nphases: {build: {}}\nartifacts:\n  files: [a, 'b/**/*']\n  name: n-$(date)\n"
      "  base-directory: out\n  exclude-paths: ['*.tmp']\n  s3-prefix: p\n  type: zip\n"
      "  secondary-artifacts:\n    second:\n      files: [c]\n      base-directory: o2\n"
      "    third:\n      files: [d]\n");
  const ArtifactSpec& a = s.artifacts.primary;
  EXPECT_TRUE(s.artifacts.present);
  EXPECT_THAT(a.files, ElementsAre("a", "b/**/*"));
  EXPECT_EQ(a.name, "n-$(date)");
  EXPECT_EQ(a.base_directory, "out");
  EXPECT_THAT(a.exclude_paths, ElementsAre("*.tmp"));
  EXPECT_EQ(a.s3_prefix, "p");
  ASSERT_THAT(s.artifacts.secondary, SizeIs(2));
  EXPECT_EQ(s.artifacts.secondary[0].first, "second");
  EXPECT_EQ(s.artifacts.secondary[0].second.base_directory, "o2");
  EXPECT_EQ(s.artifacts.secondary[1].first, "third");
}

TEST(BuildspecTest, Reports) {
  Buildspec s = Valid(
      "version: 0.2\nphases: {build: {}}\nreports:\n  arn:aws:codebuild:r:1:x/y:\n"
      "    files: [a.json]\n    file-format: CUCUMBERJSON\n  b:\n    files: [b]\n");
  ASSERT_THAT(s.reports, SizeIs(2));
  EXPECT_EQ(s.reports[0].name, "arn:aws:codebuild:r:1:x/y");
  EXPECT_EQ(s.reports[0].file_format, "CUCUMBERJSON");
  EXPECT_EQ(s.reports[1].file_format, "JUNITXML");
  EXPECT_THAT(Errors("version: 0.2\nphases: {build: {}}\nreports:\n  r:\n    base-directory: x\n"),
              ElementsAre(StartsWith("4:3: reports.r.files is required")));
  EXPECT_THAT(Errors("version: 0.2\nphases: {build: {}}\nreports:\n  r:\n    files: [a]\n"
                     "    file-format: XUNIT\n"),
              ElementsAre(StartsWith("6:18: reports.r.file-format must be one of JUNITXML")));
}

TEST(BuildspecTest, Cache) {
  Buildspec s = Valid(
      "version: 0.2\nphases: {build: {}}\ncache:\n  key: k-$(codebuild-hash-files "
      "a.lock)\n  fallback-keys: [k-, k]\n  action: restore\n  paths: [a, b]\n");
  EXPECT_EQ(s.cache.key, "k-$(codebuild-hash-files a.lock)");
  EXPECT_THAT(s.cache.fallback_keys, ElementsAre("k-", "k"));
  EXPECT_EQ(s.cache.action, "restore");
  EXPECT_THAT(s.cache.paths, ElementsAre("a", "b"));
  EXPECT_THAT(Errors("version: 0.2\nphases: {build: {}}\ncache:\n  key: k\n"),
              ElementsAre(StartsWith("3:1: cache.paths is required")));
  EXPECT_THAT(Errors("version: 0.2\nphases: {build: {}}\ncache:\n  paths: [a]\n  action: both\n"),
              ElementsAre("5:11: cache.action must be restore or save, not both"));
  EXPECT_THAT(Errors("version: 0.2\nphases: {build: {}}\ncache:\n  paths: [a]\n"
                     "  fallback-keys: [a, b, c, d, e, f]\n"),
              ElementsAre(HasSubstr("5:18: cache.fallback-keys has 6 entries")));
}

TEST(BuildspecTest, EnvAllFields) {
  Buildspec s = Valid(
      "version: 0.2\nrun-as: builder\nenv:\n  shell: /bin/sh\n  variables:\n    B: 2\n    A: \"\"\n"
      "  parameter-store:\n    P: /ssm/p\n  secrets-manager:\n    S: id:key:AWSCURRENT\n"
      "  exported-variables: [B]\n  git-credential-helper: no\nphases: {build: {}}\n");
  EXPECT_EQ(s.run_as, "builder");
  EXPECT_EQ(s.env.shell, "/bin/sh");
  EXPECT_THAT(Names(s.env.variables), ElementsAre("B", "A"));  // file order, not sorted
  EXPECT_EQ(Value(s.env.variables, "A"), "");
  EXPECT_EQ(Value(s.env.parameter_store, "P"), "/ssm/p");
  EXPECT_EQ(Value(s.env.secrets_manager, "S"), "id:key:AWSCURRENT");
  EXPECT_EQ(s.env.git_credential_helper, "no");
  EXPECT_THAT(Errors("version: 0.2\nenv: {shell: zsh}\nphases: {build: {}}\n"),
              ElementsAre(HasSubstr("2:14: env.shell must be one of bash, /bin/sh")));
}

TEST(BuildspecTest, Batch) {
  Buildspec s = Valid(
      "version: 0.2\nbatch:\n  fast-fail: false\n  build-fanout:\n"
      "    parallelism: 4\nphases: {build: {}}\n");
  EXPECT_TRUE(s.has_batch);
  EXPECT_EQ(s.batch_kind, "build-fanout");
  EXPECT_THAT(Errors("version: 0.2\nbatch: [a]\nphases: {build: {}}\n"),
              ElementsAre("2:8: batch must be a mapping, not a sequence"));
  EXPECT_THAT(Errors("version: 0.2\nbatch:\n  fast-fail: true\nphases: {build: {}}\n"),
              ElementsAre(StartsWith("2:1: batch needs one of build-list")));
  EXPECT_THAT(Errors("version: 0.2\nbatch:\n  build-list: []\n  build-graph: []\n"
                     "phases: {build: {}}\n"),
              ElementsAre(StartsWith("4:3: batch may use only one of")));
  EXPECT_THAT(Errors("version: 0.2\nbatch:\n  build-list: {a: b}\nphases: {build: {}}\n"),
              ElementsAre("3:15: batch.build-list must be a sequence, not a mapping"));
}

TEST(BuildspecTest, SeveralErrorsAreCollected) {
  auto errors = Errors(
      "version: 0.2\nrun-as: [x]\nphases:\n  build:\n    commands: x\n"
      "  later: {}\ncache: {}\n");
  EXPECT_THAT(errors, ElementsAre(StartsWith("2:9: run-as"), StartsWith("5:15: phases.build"),
                                  StartsWith("6:3: unknown phase 'later'"),
                                  StartsWith("7:1: cache.paths is required")));
}

TEST(BuildspecTest, DuplicateKeys) {
  EXPECT_THAT(Errors("version: 0.2\nphases:\n  build: {}\n  build: {}\n"),
              ElementsAre("4:3: duplicate key 'build' (first at line 3)"));
}

TEST(BuildspecTest, SyntaxErrorsCarryPositions) {
  EXPECT_THAT(Errors("version: 0.2\nphases:\n  build:\n    commands: [a, b\n"),
              ElementsAre(AllOf(StartsWith("5:1: invalid YAML"))));
  EXPECT_THAT(Errors("version: 0.2\nenv:\n  variables:\n    A: 1\n    B\n    C: 3\n"
                     "phases: {build: {}}\n"),
              ElementsAre(StartsWith("5:5: invalid YAML: expected 'key: value'")));
  EXPECT_THAT(Errors("version: 0.2\nphases: {build: {}}\n---\nversion: 0.2\n"),
              ElementsAre(StartsWith("4:1: a second YAML document")));
}

TEST(BuildspecTest, TrailingDocumentMarkerAndCrLfAreFine) {
  Buildspec s =
      Valid("version: 0.2\r\nphases:\r\n  build:\r\n    commands:\r\n      - make\r\n---\n");
  EXPECT_THAT(Texts(s.phase(PhaseName::kBuild).commands), ElementsAre("make"));
}

TEST(BuildspecTest, AnchorsAndAliasesWithinLimits) {
  Buildspec s = Valid(
      "version: 0.2\nphases:\n  build:\n    commands: &c [make, make test]\n"
      "  post_build:\n    commands: *c\n");
  EXPECT_EQ(PhaseSummary(s), "build=2 post_build=2");
}

// ---------------------------------------------------------------------------------------------
// Limits: a hostile file is refused quickly and without crashing.

double SecondsToParse(const std::string& text, std::vector<std::string>* errors) {
  auto start = std::chrono::steady_clock::now();
  *errors = Errors(text);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(BuildspecLimitsTest, BillionLaughsIsRefusedQuickly) {
  std::string text =
      "version: 0.2\nphases: {build: {}}\nlol:\n  a0: &a0 [lol, lol, lol, lol, lol, "
      "lol, lol, lol, lol]\n";
  for (int level = 1; level <= 8; ++level) {
    std::string alias = "*a" + std::to_string(level - 1);
    text += "  a" + std::to_string(level) + ": &a" + std::to_string(level) + " [" + alias;
    for (int i = 1; i < 9; ++i) text += ", " + alias;
    text += "]\n";
  }
  std::vector<std::string> errors;
  EXPECT_LT(SecondsToParse(text, &errors), 1.0);
  EXPECT_THAT(errors, ElementsAre(HasSubstr("more than 200000 nodes")));
}

TEST(BuildspecLimitsTest, DeepFlowNestingIsRefusedBeforeYamlCpp) {
  std::vector<std::string> errors;
  EXPECT_LT(SecondsToParse("version: 0.2\na: " + std::string(100000, '['), &errors), 1.0);
  EXPECT_THAT(errors, ElementsAre("2:67: YAML nesting is deeper than 64 levels"));
}

TEST(BuildspecLimitsTest, DeepBlockNestingIsRefusedBeforeYamlCpp) {
  std::vector<std::string> errors;
  std::string dashes;
  for (int i = 0; i < 100000; ++i) dashes += "- ";
  EXPECT_LT(SecondsToParse("version: 0.2\na:\n" + dashes + "x\n", &errors), 1.0);
  EXPECT_THAT(errors, ElementsAre(StartsWith("3:")));
  std::string indented = "version: 0.2\n";
  for (int i = 0; i < 200; ++i) indented += std::string(i, ' ') + "k:\n";
  EXPECT_THAT(Errors(indented), ElementsAre("66:65: YAML nesting is deeper than 64 levels"));
}

TEST(BuildspecLimitsTest, NestingUpToTheLimitIsAccepted) {
  // 62 flow levels under a key of a top-level mapping: 64 levels in all.
  std::string text =
      "version: 0.2\nphases: {build: {}}\nbatch:\n  build-list: " + std::string(62, '[') +
      std::string(62, ']') + "\n";
  EXPECT_THAT(Errors(text), IsEmpty());
  BuildspecLimits tight{.max_depth = 3};
  EXPECT_THAT(Errors("version: 0.2\nphases:\n  build:\n    commands: [x]\n", tight),
              ElementsAre(HasSubstr("deeper than 3 levels")));
}

TEST(BuildspecLimitsTest, QuotesCommentsAndBlockScalarsDoNotCountAsNesting) {
  std::string brackets(100, '[');
  Buildspec s = Valid("version: 0.2\n# " + brackets +
                      "\nphases:\n  build:\n    commands:\n"
                      "      - echo '" +
                      brackets + "'\n      - echo \"" + brackets +
                      "\"\n"
                      "      - |\n        " +
                      brackets + "\n      - echo " + brackets + "\n");
  EXPECT_THAT(s.phase(PhaseName::kBuild).commands, SizeIs(4));
}

TEST(BuildspecLimitsTest, AliasCycleIsRefused) {
  EXPECT_THAT(Errors("version: 0.2\nphases: {build: {}}\nx: &a [*a]\n"),
              ElementsAre("3:4: an alias refers to a node that contains it"));
}

TEST(BuildspecLimitsTest, SizeIsCheckedBeforeParsing) {
  BuildspecLimits small{.max_bytes = 16};
  EXPECT_THAT(Errors("version: 0.2\nphases: {build: {}}\n", small),
              ElementsAre("0:0: buildspec is 33 bytes; the limit is 16"));
}

TEST(BuildspecLimitsTest, NulByteIsRefused) {
  EXPECT_THAT(Errors(std::string("version: 0.2\nph\0ses: {}\n", 24)),
              ElementsAre(StartsWith("2:3: buildspec contains a NUL byte")));
}

TEST(BuildspecLimitsTest, NeverThrowsOnGarbage) {
  const std::string pieces[] = {"- ", ": ", "[",  "]",   "{",  "}", "'",
                                "\"", "|",  ">",  "&a ", "*a", "#", "\n",
                                "  ", "\t", "? ", "!!",  "%",  "@", "\xe2\x80"};
  unsigned seed = 12345;
  for (int round = 0; round < 300; ++round) {
    std::string text;
    for (int i = 0; i < 40; ++i) {
      seed = seed * 1103515245 + 12345;
      text += pieces[(seed >> 16) % std::size(pieces)];
    }
    ParsedBuildspec parsed = ParseBuildspec(text, "fuzz.yml");
    EXPECT_EQ(parsed.spec.has_value(), parsed.diagnostics.empty());
  }
}

}  // namespace
}  // namespace kiln::spec

namespace kiln::spec {
namespace {

// Found by spec_fuzz: yaml-cpp 0.7's LoadAll reports empty documents forever on this input,
// which used to exhaust memory. Every parser must refuse it at once.
TEST(YamlRegression, FuzzedInputThatLoopedInLoadAllIsRefused) {
  const std::string input = std::string(",o+") + '\xc0';
  EXPECT_FALSE(ParseBuildspec(input, "f.yml").spec);
  EXPECT_FALSE(ParsePipeline(input, "f.yml").pipeline);
  auto config = ParseKilnConfig(input, "kiln.yml");  // reads as an empty document: no resources
  ASSERT_TRUE(config.config);
  EXPECT_TRUE(config.config->connections.empty() && config.config->pipelines.empty());
  EXPECT_FALSE(ImportCloudFormation(input, "t.yml", {}).pipeline);
}

}  // namespace
}  // namespace kiln::spec
