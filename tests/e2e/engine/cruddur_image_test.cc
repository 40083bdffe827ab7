// The seed's build, containers end to end, against the private engine (label `engine`): a
// Cruddur backend-flask buildspec from the conformance corpus, unchanged, logs in to Kiln's
// registry with `aws ecr get-login-password`, builds the Dockerfile in a privileged build
// container, pushes the image and writes imagedefinitions.json; the image is then pulled from
// the registry and run.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <string>

#include "../pipeline_fixture.h"

namespace kiln::e2e {
namespace {

constexpr char kImage[] = "kiln/busybox:1";
// Image URL in the buildspec's env (an ECR address); the project's variable must win.
constexpr char kBuildspec[] = "PatrickCmd__aws-bootcamp-cruddur-2023__backend-flask_buildspec.yml";

class CruddurImageTest : public PipelineFixture {
 protected:
  void SetUp() override {
    std::string dir = KILN_TEST_ENGINE_DIR;
    if (fs::exists(dir + "/unavailable")) {
      GTEST_SKIP() << "no Docker engine: " << ReadText(dir + "/unavailable");
    }
    if (auto why = base::ConformanceMissing()) GTEST_SKIP() << *why;
    docker_host_ = ReadText(dir + "/docker-host");
    while (!docker_host_.empty() && docker_host_.back() == '\n') docker_host_.pop_back();
    PipelineFixture::SetUp();
    registry_port_ = FreePort();
  }

  std::vector<std::string> Env() const {
    return {"DOCKER_HOST=" + docker_host_, "DOCKER_CONFIG=" + (tmp_.path() / "docker").string()};
  }

  RunResult Docker(const std::vector<std::string>& args, const std::string& input = "") {
    std::vector<std::string> argv = {"sh", "-c", "printf %s \"$IN\" | docker \"$@\"", "docker"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env = Env();
    env.push_back("IN=" + input);
    return RunProcess(argv, tmp_.path(), env);
  }

  std::string Registry() const { return "127.0.0.1:" + std::to_string(registry_port_); }

  // The repository as a Cruddur fork has it: backend-flask/Dockerfile.prod and the buildspec.
  void CommitTheApp() {
    std::string buildspec = ReadText(base::ConformanceDir() / "buildspecs" / kBuildspec);
    ASSERT_NE(buildspec.find("IMAGE_URL: 476313879638.dkr.ecr"), std::string::npos);
    Commit({{"buildspec.yml", buildspec},
            {"backend-flask/Dockerfile.prod", std::string("FROM ") + kImage +
                                                  "\nCOPY app.txt /app/app.txt\n"
                                                  "CMD [\"cat\", \"/app/app.txt\"]\n"},
            {"backend-flask/app.txt", "cruddur backend, built in a container\n"}},
           "the backend's image");
  }

  void ConfigureProject() {
    config_extra_["registry"] = {{"listen", Registry()}};
    projects_["backend-flask"] = {
        {"buildspec", "buildspec.yml"},
        {"timeout", "10m"},
        {"environment",
         {{"type", "LINUX_CONTAINER"},
          {"image", kImage},
          {"privilegedMode", true},
          {"environmentVariables", {{{"name", "IMAGE_URL"}, {"value", Registry()}}}}}}};
    tmp_.Write("check.yml", R"Y(version: 0.2
env:
  exported-variables: [DEFINITIONS]
phases:
  build:
    commands:
      - export DEFINITIONS="$(cat "$CODEBUILD_SRC_DIR_ImageDefinition/imagedefinitions.json")"
)Y");
    Commit({{"check.yml", ReadText(tmp_.path() / "check.yml")}}, "the check");
    projects_["check"] = {{"buildspec", "check.yml"}, {"timeout", "1m"}};
    json bake = BuildAction("bake", "backend-flask", {});
    bake["outputArtifacts"] = {{{"name", "ImageDefinition"}}};
    json check = BuildAction("check", "check", {});
    check["inputArtifacts"] = {{{"name", "SourceArtifact"}}, {{"name", "ImageDefinition"}}};
    check["configuration"]["PrimarySource"] = "SourceArtifact";
    Pipeline("backend-flask", {SourceStage(), Stage("Build", {bake}), Stage("Check", {check})});
  }

  std::string docker_host_;
  uint16_t registry_port_ = 0;
};

TEST_F(CruddurImageTest, TheBuildspecBuildsPushesAndTheImageRuns) {
  auto boot = Kiln({"image", "bootstrap", "--busybox"}, Env());
  ASSERT_EQ(boot.exit_code, 0) << boot.out << boot.err;
  CommitTheApp();
  ConfigureProject();

  auto r = Kiln({"pipeline", "run", "backend-flask"}, Env());
  json e = Parse(r);
  ASSERT_EQ(e["status"], "Succeeded") << r.out << r.err;
  std::string uri = Registry() + "/backend-flask:latest";
  EXPECT_EQ(OutputVariable(e, "Check", "check", "DEFINITIONS"),
            "[{\"name\":\"backend-flask\",\"imageUri\":\"" + uri + "\"}]");

  // The run's own registry stopped with it; kiln serve keeps one up on the same storage.
  auto server = StartKiln({"--state-dir", state_.string(), "--config",
                           (tmp_.path() / "kiln.yml").string(), "serve", "--listen", "127.0.0.1:0"},
                          tmp_.path(), Env());
  ASSERT_TRUE(WaitUntil([&] { return server->Err().find("registry (ECR") != std::string::npos; }))
      << server->Err();
  // The image left the build through the registry: gone from the engine, a build that names
  // it pulls it from there with the registry's login, and runs in it.
  EXPECT_EQ(Docker({"rmi", "-f", uri, "backend-flask:latest"}).exit_code, 0);
  tmp_.Write("in-image/buildspec.yml",
             "version: 0.2\nphases:\n  build:\n    commands:\n      - cat /app/app.txt\n");
  auto built = Kiln({"build", (tmp_.path() / "in-image").string(), "--image", uri}, Env());
  EXPECT_EQ(built.exit_code, 0) << built.out << built.err;
  EXPECT_NE(built.err.find("] cruddur backend, built in a container"), std::string::npos)
      << built.err;
  EXPECT_NE(built.err.find("Pulling image " + uri), std::string::npos) << built.err;
  EXPECT_EQ(Docker({"rmi", "-f", uri}).exit_code, 0);
  auto password = Kiln({"registry", "login-password"}, Env());
  ASSERT_EQ(password.exit_code, 0) << password.err;
  EXPECT_EQ(Docker({"login", "-u", "AWS", "--password-stdin", Registry()}, "wrong").exit_code, 1);
  auto login = Docker({"login", "-u", "AWS", "--password-stdin", Registry()}, password.out);
  ASSERT_EQ(login.exit_code, 0) << login.err;
  auto pull = Docker({"pull", uri});
  ASSERT_EQ(pull.exit_code, 0) << pull.err;
  auto run = Docker({"run", "--rm", "--network", "none", uri});
  EXPECT_EQ(run.out, "cruddur backend, built in a container\n") << run.err;
  // Stopped as a user stops it, so its registry stops with it.
  server->Signal(SIGTERM);
  EXPECT_EQ(server->Wait(30).exit_code, 0);
  EXPECT_FALSE(fs::exists(state_ / "registry" / "registry.pid") &&
               Running(std::stoi(ReadText(state_ / "registry" / "registry.pid"))));
}

}  // namespace
}  // namespace kiln::e2e
