#include "spec/kiln_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/test_tree.h"
#include "spec/test_util.h"

namespace kiln::spec {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;
using ::testing::StartsWith;

const std::string kDigest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

// DESIGN.md's reference kiln.yml, verbatim but for the token digest: the placeholder
// "<hex of the token>" is not a digest, so a real one (of "test") stands in.
const std::string kReference = R"yaml(connections:
  cruddur:
    url: https://github.com/acme/cruddur.git   # any git remote, or a local path
    arn: arn:aws:codestar-connections:us-east-1:123456789012:connection/0a1b2c3d  # optional alias
    token: ${secret:github-token}               # optional: https auth
    webhook_secret: ${env:CRUDDUR_WEBHOOK_SECRET}
    poll: 60s                                   # optional: for repos that send no webhooks
projects:
  backend-flask:
    buildspec: backend-flask/buildspec.yml      # path in the primary source (default buildspec.yml)
    timeout: 20m
    environment:
      executor: local                           # local | docker
      variables: { SERVICE: backend-flask }
    # webhook: { connection: cruddur, filter_groups: [[{type: EVENT, pattern: "PUSH, PULL_REQUEST_MERGED"}, {type: HEAD_REF, pattern: "^refs/heads/prod$"}]] }
clusters:
  local: { provider: process }                  # process | docker | swarm | ecs
services:
  backend-flask:
    cluster: local
    desiredCount: 2
    taskDefinition:
      containerDefinitions:
        - name: backend-flask                   # imagedefinitions.json entries match this
          image: bundle/backend-flask.tar.gz    # replaced by each deployment
          command: ["python3", "app.py"]        # the task's port arrives in $PORT
          environment: [{ name: FRONTEND_URL, value: "*" }]
          healthCheck: { command: ["CMD-SHELL", "curl -fs localhost:$PORT/api/health-check"], interval: 5, timeout: 2, retries: 3, startPeriod: 10 }
    deploymentConfiguration:
      minimumHealthyPercent: 100
      maximumPercent: 200
      deploymentCircuitBreaker: { enable: true, rollback: true }
    healthCheckGracePeriodSeconds: 5
    loadBalancer:                               # Kiln's HTTP load balancer in front of the tasks
      listen: 127.0.0.1:4567
      healthCheck: { path: /api/health-check, matcher: "200", interval: 2, timeout: 1, healthyThreshold: 2, unhealthyThreshold: 2 }
      deregistrationDelay: 2
pipelines:
  backend-flask: pipelines/backend-flask.json   # CodePipeline JSON or YAML (or the structure inline)
parameters:                                     # what buildspec `parameter-store` names resolve to
  /cruddur/backend-flask/CONNECTION_URL: { file: /etc/kiln/db-url }
secrets:                                        # what `secrets-manager` ids and ${secret:…} resolve to
  github-token: { env: GITHUB_TOKEN }
server:
  listen: 127.0.0.1:8080
  tokens: [{ name: ops, role: operate, sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" }]
)yaml";

// A service that is valid on its own, to build error cases around (lines 1-8).
const std::string kMinimalService = R"yaml(clusters:
  local: { provider: process }
services:
  web:
    cluster: local
    taskDefinition:
      containerDefinitions:
        - name: web
)yaml";

// "LINE:COL: message" for each diagnostic, for compact assertions.

KilnConfig Valid(std::string_view text) { return ValidKilnConfig(text, "/srv/app/kiln.yml"); }

nlohmann::json Definition(const Service& service) {
  return nlohmann::json::parse(service.definition_json);
}

TEST(KilnConfigTest, ReferenceConnectionLandsWhereExpected) {
  KilnConfig config = Valid(kReference);
  EXPECT_EQ(config.file, "/srv/app/kiln.yml");
  ASSERT_THAT(config.connections, SizeIs(1));
  const Connection& c = config.connections[0];
  EXPECT_EQ(c.name, "cruddur");
  EXPECT_EQ(c.line, 2);
  EXPECT_EQ(c.url, "https://github.com/acme/cruddur.git");
  EXPECT_EQ(c.arn, "arn:aws:codestar-connections:us-east-1:123456789012:connection/0a1b2c3d");
  EXPECT_EQ(c.token.kind, ValueRef::Kind::kSecret);
  EXPECT_EQ(c.token.text, "github-token");
  EXPECT_EQ(c.webhook_secret.kind, ValueRef::Kind::kEnv);
  EXPECT_EQ(c.webhook_secret.text, "CRUDDUR_WEBHOOK_SECRET");
  EXPECT_EQ(c.ssh_key.kind, ValueRef::Kind::kNone);
  EXPECT_EQ(c.poll_ms, 60'000);
}

TEST(KilnConfigTest, ReferenceProjectClusterPipelineAndStoresLandWhereExpected) {
  KilnConfig config = Valid(kReference);
  ASSERT_THAT(config.projects, SizeIs(1));
  const Project& p = config.projects[0];
  EXPECT_EQ(p.name, "backend-flask");
  EXPECT_EQ(p.line, 9);
  EXPECT_EQ(p.buildspec, "backend-flask/buildspec.yml");
  EXPECT_EQ(p.timeout_ms, 20 * 60 * 1000);
  EXPECT_TRUE(p.environment.on_host());
  EXPECT_THAT(p.variables, ElementsAre(Pair("SERVICE", "backend-flask")));
  EXPECT_FALSE(p.webhook.has_value());

  ASSERT_THAT(config.clusters, SizeIs(1));
  EXPECT_EQ(config.clusters[0].name, "local");
  EXPECT_EQ(config.clusters[0].provider, "process");

  ASSERT_THAT(config.pipelines, SizeIs(1));
  EXPECT_EQ(config.pipelines[0].name, "backend-flask");
  EXPECT_EQ(config.pipelines[0].path, "pipelines/backend-flask.json");
  EXPECT_EQ(config.pipelines[0].inline_json, "");

  ASSERT_EQ(config.parameters.count("/cruddur/backend-flask/CONNECTION_URL"), 1u);
  const ValueRef& parameter = config.parameters.at("/cruddur/backend-flask/CONNECTION_URL");
  EXPECT_EQ(parameter.kind, ValueRef::Kind::kFile);
  EXPECT_EQ(parameter.text, "/etc/kiln/db-url");
  ASSERT_EQ(config.secrets.count("github-token"), 1u);
  EXPECT_EQ(config.secrets.at("github-token").kind, ValueRef::Kind::kEnv);
  EXPECT_EQ(config.secrets.at("github-token").text, "GITHUB_TOKEN");

  EXPECT_EQ(config.server.listen, "127.0.0.1:8080");
  EXPECT_FALSE(config.server.read_requires_token);
  ASSERT_THAT(config.server.tokens, SizeIs(1));
  EXPECT_EQ(config.server.tokens[0].name, "ops");
  EXPECT_EQ(config.server.tokens[0].role, "operate");
  EXPECT_EQ(config.server.tokens[0].sha256, kDigest);
}

TEST(KilnConfigTest, ReferenceServiceKeepsItsEcsDefinition) {
  KilnConfig config = Valid(kReference);
  ASSERT_THAT(config.services, SizeIs(1));
  const Service& s = config.services[0];
  EXPECT_EQ(s.name, "backend-flask");
  EXPECT_EQ(s.line, 19);
  EXPECT_EQ(s.cluster, "local");
  EXPECT_EQ(s.desired_count, 2);
  EXPECT_THAT(s.container_names, ElementsAre("backend-flask"));

  nlohmann::json d = Definition(s);
  EXPECT_EQ(d["desiredCount"], 2);
  const nlohmann::json& container = d["taskDefinition"]["containerDefinitions"][0];
  EXPECT_EQ(container["image"], "bundle/backend-flask.tar.gz");
  EXPECT_EQ(container["command"], nlohmann::json::array({"python3", "app.py"}));
  EXPECT_EQ(container["environment"][0]["name"], "FRONTEND_URL");
  EXPECT_EQ(container["environment"][0]["value"], "*");
  EXPECT_EQ(container["healthCheck"]["command"][0], "CMD-SHELL");
  EXPECT_EQ(container["healthCheck"]["interval"], 5);
  EXPECT_EQ(container["healthCheck"]["startPeriod"], 10);
  const nlohmann::json& deployment = d["deploymentConfiguration"];
  EXPECT_EQ(deployment["minimumHealthyPercent"], 100);
  EXPECT_EQ(deployment["maximumPercent"], 200);
  EXPECT_EQ(deployment["deploymentCircuitBreaker"]["enable"], true);
  EXPECT_EQ(deployment["deploymentCircuitBreaker"]["rollback"], true);
  EXPECT_EQ(d["healthCheckGracePeriodSeconds"], 5);
  EXPECT_EQ(d["loadBalancer"]["listen"], "127.0.0.1:4567");
  EXPECT_EQ(d["loadBalancer"]["healthCheck"]["path"], "/api/health-check");
  EXPECT_EQ(d["loadBalancer"]["healthCheck"]["matcher"], "200");  // quoted: stays a string
  EXPECT_EQ(d["loadBalancer"]["deregistrationDelay"], 2);
}

TEST(KilnConfigTest, ReferenceWebhookLineParsesIntoFilterGroups) {
  std::string text = kReference;
  text.replace(text.find("# webhook:"), 2, "");
  KilnConfig config = Valid(text);
  ASSERT_THAT(config.projects, SizeIs(1));
  ASSERT_TRUE(config.projects[0].webhook.has_value());
  const ProjectWebhook& webhook = *config.projects[0].webhook;
  EXPECT_EQ(webhook.connection, "cruddur");
  ASSERT_THAT(webhook.filter_groups, SizeIs(1));
  ASSERT_THAT(webhook.filter_groups[0], SizeIs(2));
  EXPECT_EQ(webhook.filter_groups[0][0].type, "EVENT");
  EXPECT_EQ(webhook.filter_groups[0][0].pattern, "PUSH, PULL_REQUEST_MERGED");
  EXPECT_EQ(webhook.filter_groups[0][1].type, "HEAD_REF");
  EXPECT_EQ(webhook.filter_groups[0][1].pattern, "^refs/heads/prod$");
  EXPECT_FALSE(webhook.filter_groups[0][1].exclude_matched_pattern);
}

TEST(KilnConfigTest, FindConnectionByNameOrArn) {
  KilnConfig config = Valid(kReference);
  const Connection* by_arn = config.FindConnection(
      "arn:aws:codestar-connections:us-east-1:123456789012:connection/0a1b2c3d");
  ASSERT_NE(by_arn, nullptr);
  EXPECT_EQ(by_arn->name, "cruddur");
  EXPECT_EQ(config.FindConnection("cruddur"), by_arn);
  EXPECT_EQ(config.FindConnection("arn:aws:codestar-connections:us-east-1:1:connection/x"),
            nullptr);
  EXPECT_EQ(config.FindConnection(""), nullptr);
  EXPECT_EQ(config.FindProject("backend-flask"), &config.projects[0]);
  EXPECT_EQ(config.FindService("backend-flask"), &config.services[0]);
  EXPECT_EQ(config.FindCluster("local"), &config.clusters[0]);
  EXPECT_EQ(config.FindCluster("remote"), nullptr);
}

TEST(KilnConfigTest, EmptyFileIsAnEmptyConfigWithDefaults) {
  KilnConfig config = Valid("# nothing yet\n");
  EXPECT_THAT(config.connections, IsEmpty());
  EXPECT_EQ(config.server.listen, "127.0.0.1:8080");
}

TEST(KilnConfigTest, UnknownKeysAreNamedWithTheirPosition) {
  EXPECT_THAT(KilnConfigErrors("connection:\n  x: {url: /repo}\n"),
              ElementsAre(AllOf(StartsWith("1:1: unknown key 'connection' in kiln.yml"),
                                HasSubstr("expected one of: connections, projects"))));
  EXPECT_THAT(KilnConfigErrors("connections:\n  cruddur:\n    url: /repo\n    urll: /other\n"),
              ElementsAre(StartsWith("4:5: unknown key 'urll' in connections.cruddur")));
  EXPECT_THAT(KilnConfigErrors(kMinimalService + "    desiredcount: 2\n"),
              ElementsAre(AllOf(StartsWith("9:5: unknown key 'desiredcount' in services.web"),
                                HasSubstr("desiredCount"))));
  EXPECT_THAT(KilnConfigErrors(kMinimalService + "          imag: x\n"),
              ElementsAre(StartsWith("9:11: unknown key 'imag' in "
                                     "services.web.taskDefinition.containerDefinitions[0]")));
}

TEST(KilnConfigTest, EcsFieldsKilnDoesNotUseAreAcceptedAndKept) {
  KilnConfig config = Valid(kMinimalService +
                            "          memory: 512\n"
                            "          logConfiguration: {logDriver: awslogs}\n"
                            "      networkMode: awsvpc\n"
                            "    launchType: FARGATE\n");
  ASSERT_THAT(config.services, SizeIs(1));
  nlohmann::json d = Definition(config.services[0]);
  EXPECT_EQ(d["launchType"], "FARGATE");
  EXPECT_EQ(d["taskDefinition"]["networkMode"], "awsvpc");
  EXPECT_EQ(d["taskDefinition"]["containerDefinitions"][0]["memory"], 512);
}

TEST(KilnConfigTest, InlineSecretsAreRefusedWithoutEchoingThem) {
  std::vector<std::string> errors = KilnConfigErrors(
      "connections:\n"
      "  cruddur:\n"
      "    url: https://github.com/acme/cruddur.git\n"
      "    token: ghp_s3cr3tvalue\n"
      "    webhook_secret: \"hunter2\"\n"
      "parameters:\n"
      "  /db/url: postgres://u:pw@db/x\n"
      "secrets:\n"
      "  github-token: ghp_other\n");
  EXPECT_THAT(errors,
              ElementsAre("4:12: connections.cruddur.token must not hold a secret inline: use "
                          "{file: ...}, {env: ...}, ${env:...}, ${file:...} or ${secret:...}",
                          StartsWith("5:21: connections.cruddur.webhook_secret must not hold a "
                                     "secret inline"),
                          StartsWith("7:12: parameters./db/url must not hold a secret inline"),
                          "9:17: secrets.github-token must not hold a secret inline: use "
                          "{file: ...}, {env: ...}, ${env:...} or ${file:...}"));
  for (const std::string& e : errors) {
    EXPECT_THAT(e, AllOf(Not(HasSubstr("s3cr3t")), Not(HasSubstr("hunter2")), Not(HasSubstr("pw@")),
                         Not(HasSubstr("ghp_other"))));
  }
}

// An empty key makes every signature made with the empty key valid.
TEST(KilnConfigTest, EmptyWebhookSecretIsRefusedWhereItIsWritten) {
  EXPECT_THAT(KilnConfigErrors("connections:\n  a:\n    url: /srv/a\n    webhook_secret: \"\"\n"),
              ElementsAre("4:21: connection 'a': webhook_secret is empty"));
  EXPECT_THAT(KilnConfigErrors("connections:\n  a:\n    url: /srv/a\n    webhook_secret:\n"),
              ElementsAre(testing::EndsWith(": connection 'a': webhook_secret is empty")));
  EXPECT_THAT(
      KilnConfigErrors("connections:\n  a:\n    url: /srv/a\n    webhook_secret: {env: ''}\n"),
      ElementsAre(HasSubstr("must not be empty")));
  EXPECT_THAT(
      KilnConfigErrors("connections:\n  a:\n    url: /srv/a\n    webhook_secret: {env: S}\n"),
      IsEmpty());
}

TEST(KilnConfigTest, TokenAndPasswordInsideAUrlAreInlineSecrets) {
  EXPECT_THAT(
      KilnConfigErrors("connections:\n  a:\n    url: https://ghp_abc@github.com/acme/x.git\n"),
      ElementsAre(StartsWith("3:10: connections.a.url must not hold credentials inline")));
  EXPECT_THAT(KilnConfigErrors("connections:\n  a:\n    url: ssh://git@github.com/acme/x.git\n"),
              IsEmpty());
}

TEST(KilnConfigTest, ValueSourcesTakeEveryReferenceForm) {
  KilnConfig config = Valid(
      "secrets:\n"
      "  a: { file: secrets/a }\n"
      "  b: ${env:B_VALUE}\n"
      "  c: ${file:/run/c}\n"
      "parameters:\n"
      "  /p/one: ${secret:a}\n"
      "  /p/two: { env: TWO }\n");
  EXPECT_EQ(config.secrets.at("a").kind, ValueRef::Kind::kFile);
  EXPECT_EQ(config.secrets.at("a").text, "secrets/a");
  EXPECT_EQ(config.secrets.at("b").kind, ValueRef::Kind::kEnv);
  EXPECT_EQ(config.secrets.at("c").text, "/run/c");
  EXPECT_EQ(config.parameters.at("/p/one").kind, ValueRef::Kind::kSecret);
  EXPECT_EQ(config.parameters.at("/p/two").text, "TWO");
}

TEST(KilnConfigTest, ReferencesToSecretsMustResolveAndSecretsAreTheRoot) {
  EXPECT_THAT(
      KilnConfigErrors("parameters:\n  /p: ${secret:missing}\n"),
      ElementsAre("2:7: parameters./p refers to secret 'missing', which secrets does not define"));
  EXPECT_THAT(KilnConfigErrors("secrets:\n  a: {env: A}\n  b: ${secret:a}\n"),
              ElementsAre(StartsWith("3:6: secrets.b refers to secret 'a': a secret cannot "
                                     "refer to another secret")));
  EXPECT_THAT(
      KilnConfigErrors("secrets:\n  a: ${vault:x}\n  b: {env: 1BAD}\n  c: {file: x, env: Y}\n"),
      ElementsAre(StartsWith("2:6: secrets.a is not a reference Kiln knows"),
                  "3:6: secrets.b must refer to an environment variable name (letters, digits and "
                  "'_', not starting with a digit)",
                  StartsWith("4:6: secrets.c takes exactly one of")));
}

TEST(KilnConfigTest, BadDurationsAreRefused) {
  EXPECT_THAT(KilnConfigErrors("connections:\n  a:\n    url: /repo\n    poll: 6x\n"),
              ElementsAre("4:11: connections.a.poll: invalid duration '6x' (expected e.g. 90s, "
                          "20m, 1h30m, 500ms)"));
  EXPECT_THAT(KilnConfigErrors("projects:\n  p:\n    timeout: -5m\n"),
              ElementsAre(StartsWith("3:14: projects.p.timeout: invalid duration '-5m'")));
  EXPECT_THAT(KilnConfigErrors("projects:\n  p:\n    timeout: 0\n"),
              ElementsAre(StartsWith("3:14: projects.p.timeout must be more than 0")));
  EXPECT_EQ(Valid("projects:\n  p:\n    timeout: 90\n").projects[0].timeout_ms, 90'000);
  EXPECT_EQ(Valid("projects:\n  p:\n    timeout: 1h30m\n").projects[0].timeout_ms, 5'400'000);
  EXPECT_THAT(KilnConfigErrors(kMinimalService + "    deploymentTimeout: soon\n"),
              ElementsAre(StartsWith("9:24: services.web.deploymentTimeout: invalid duration")));
}

TEST(KilnConfigTest, ServiceMustNameADefinedCluster) {
  std::string text = kMinimalService;
  text.replace(text.find("cluster: local"), 14, "cluster: remote");
  EXPECT_THAT(KilnConfigErrors(text),
              ElementsAre("5:14: services.web.cluster names cluster 'remote', "
                          "which clusters does not define"));
  std::string no_cluster = kMinimalService;
  no_cluster.erase(no_cluster.find("    cluster: local\n"), 19);
  EXPECT_THAT(KilnConfigErrors(no_cluster),
              ElementsAre(AllOf(StartsWith("4:3: services.web.cluster names "
                                           "cluster 'default'"),
                                HasSubstr("as in ECS"))));
}

TEST(KilnConfigTest, DeploymentThatCanNeitherStartNorStopATaskIsRefused) {
  std::string stuck = kMinimalService +
                      "    desiredCount: 2\n"
                      "    deploymentConfiguration:\n"
                      "      minimumHealthyPercent: 100\n"
                      "      maximumPercent: 100\n";
  EXPECT_THAT(KilnConfigErrors(stuck),
              ElementsAre(AllOf(StartsWith("10:5: services.web.deploymentConfiguration lets a "
                                           "deployment neither start a new task nor stop an old "
                                           "one: with desiredCount 2, maximumPercent 100 allows "
                                           "at most 2 tasks"),
                                HasSubstr("minimumHealthyPercent 100 keeps 2 running"))));
  // ECS rounds: 125% of 3 starts nothing, 75% of 3 stops nothing.
  EXPECT_THAT(
      KilnConfigErrors(kMinimalService + "    desiredCount: 3\n"
                                         "    deploymentConfiguration: {minimumHealthyPercent: 75, "
                                         "maximumPercent: 125}\n"),
      SizeIs(1));
  // 50% of 2 lets one old task stop first; 0 tasks cannot be stuck.
  EXPECT_THAT(
      KilnConfigErrors(kMinimalService + "    desiredCount: 2\n"
                                         "    deploymentConfiguration: {minimumHealthyPercent: 50, "
                                         "maximumPercent: 100}\n"),
      IsEmpty());
  EXPECT_THAT(KilnConfigErrors(kMinimalService +
                               "    desiredCount: 0\n"
                               "    deploymentConfiguration: {minimumHealthyPercent: 100, "
                               "maximumPercent: 100}\n"),
              IsEmpty());
}

TEST(KilnConfigTest, DeploymentConfigurationRangesFollowEcs) {
  EXPECT_THAT(
      KilnConfigErrors(kMinimalService + "    desiredCount: -1\n"
                                         "    deploymentConfiguration:\n"
                                         "      minimumHealthyPercent: 101\n"
                                         "      maximumPercent: 250\n"
                                         "      deploymentCircuitBreaker: {enable: maybe}\n"),
      ElementsAre("9:19: services.web.desiredCount must be an integer from 0 to 5000, "
                  "not '-1'",
                  StartsWith("11:30: services.web.deploymentConfiguration."
                             "minimumHealthyPercent must be an integer from 0 to 100"),
                  StartsWith("12:23: services.web.deploymentConfiguration.maximumPercent "
                             "must be an integer from 100 to 200"),
                  StartsWith("13:42: services.web.deploymentConfiguration."
                             "deploymentCircuitBreaker.enable must be true or false"),
                  StartsWith("13:7: services.web.deploymentConfiguration."
                             "deploymentCircuitBreaker has no 'rollback'")));
}

TEST(KilnConfigTest, ContainerDefinitionsFollowEcs) {
  EXPECT_THAT(KilnConfigErrors(kMinimalService +
                               "          healthCheck: {command: [curl, x], interval: 1}\n"),
              ElementsAre(StartsWith("9:55: services.web.taskDefinition.containerDefinitions[0]."
                                     "healthCheck.interval must be an integer from 5 to 300")));
  EXPECT_THAT(KilnConfigErrors(kMinimalService + "        - name: web\n"),
              ElementsAre("9:17: services.web.taskDefinition: two containers are named 'web'"));
  EXPECT_THAT(KilnConfigErrors(kMinimalService + "          healthCheck: {command: [curl, x]}\n"),
              ElementsAre(StartsWith("9:34: services.web.taskDefinition.containerDefinitions[0]."
                                     "healthCheck.command must be [\"CMD\"")));
  EXPECT_THAT(KilnConfigErrors(kMinimalService + "          essential: false\n"),
              ElementsAre(StartsWith("7:7: services.web.taskDefinition needs at least one "
                                     "essential container")));
  EXPECT_THAT(KilnConfigErrors("clusters: {c: {}}\nservices:\n  web:\n    cluster: c\n"),
              ElementsAre("3:3: services.web has no 'taskDefinition', which is required"));
  EXPECT_THAT(
      KilnConfigErrors(kMinimalService + "          secrets: [{name: DB, valueFrom: db-url}]\n"),
      ElementsAre(StartsWith("9:43: services.web.taskDefinition.containerDefinitions[0]."
                             "secrets[0].valueFrom refers to 'db-url', which neither")));
}

TEST(KilnConfigTest, LoadBalancerChecks) {
  EXPECT_THAT(
      KilnConfigErrors(
          kMinimalService +
          "    loadBalancer:\n"
          "      listen: localhost\n"
          "      mode: udp\n"
          "      healthCheck: {path: health, matcher: \"20x\", interval: 2, timeout: 2}\n"),
      ElementsAre(StartsWith("10:15: services.web.loadBalancer.listen must be HOST:PORT"),
                  StartsWith("11:13: services.web.loadBalancer.mode must be one of http, tcp"),
                  "12:27: services.web.loadBalancer.healthCheck.path must start with '/'",
                  StartsWith("12:44: services.web.loadBalancer.healthCheck.matcher must be HTTP"),
                  StartsWith("12:73: services.web.loadBalancer.healthCheck.timeout must be less "
                             "than its interval")));
  EXPECT_THAT(
      KilnConfigErrors(kMinimalService + "    loadBalancer: {listen: \"127.0.0.1:80\", mode: tcp, "
                                         "healthCheck: {path: /}}\n"),
      ElementsAre(StartsWith("9:69: services.web.loadBalancer.healthCheck.path applies "
                             "to mode http only")));
  EXPECT_THAT(KilnConfigErrors(kMinimalService + "    loadBalancer: {listen: \"0.0.0.0:8080\"}\n"
                                                 "server: {listen: \"127.0.0.1:8080\"}\n"),
              ElementsAre("9:28: services.web.loadBalancer.listen uses the address of "
                          "server.listen (127.0.0.1:8080)"));
  KilnConfig ok = Valid(kMinimalService + "    loadBalancer: {listen: \"[::1]:0\"}\n");
  EXPECT_EQ(Definition(ok.services[0])["loadBalancer"]["listen"], "[::1]:0");
}

TEST(KilnConfigTest, BadTokenRoleDigestAndDuplicates) {
  EXPECT_THAT(KilnConfigErrors("server:\n  tokens: [{ name: ops, role: superuser, sha256: \"" +
                               kDigest + "\" }]\n"),
              ElementsAre("2:31: server.tokens[0].role must be one of read, operate, admin, not "
                          "'superuser'"));
  EXPECT_THAT(KilnConfigErrors("server:\n  tokens:\n    - {name: a, role: read, sha256: abc}\n"
                               "    - {name: a, role: read, token: plain}\n"
                               "    - {name: b, role: read}\n"),
              ElementsAre(StartsWith("3:37: server.tokens[0].sha256 must be 64 hexadecimal"),
                          StartsWith("4:36: server.tokens[1].token must not hold a secret inline"),
                          "4:7: server.tokens[1]: two tokens are named 'a'",
                          StartsWith("5:7: server.tokens[2] needs exactly one of sha256")));
}

TEST(KilnConfigTest, TopLevelTokensAreServerTokens) {
  std::string upper = kDigest;
  for (char& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
  KilnConfig config = Valid("tokens:\n  - {name: ci, role: admin, sha256: " + upper +
                            "}\n  - {name: bot, role: read, token: {env: BOT_TOKEN}}\n"
                            "server: {read_requires_token: true}\n");
  EXPECT_TRUE(config.server.read_requires_token);
  ASSERT_THAT(config.server.tokens, SizeIs(2));
  EXPECT_EQ(config.server.tokens[0].sha256, kDigest);  // normalised to lowercase
  EXPECT_EQ(config.server.tokens[1].token.kind, ValueRef::Kind::kEnv);
  EXPECT_EQ(config.server.tokens[1].token.text, "BOT_TOKEN");
}

TEST(KilnConfigTest, WebhookFilterGroupsFollowCodeBuild) {
  const std::string head =
      "connections: {cruddur: {url: /repo}}\n"
      "projects:\n"
      "  p:\n"
      "    webhook:\n"
      "      connection: cruddur\n"
      "      filter_groups:\n";
  EXPECT_THAT(
      KilnConfigErrors(head + "        - [{type: EVENT, pattern: \"PUSH, PULL_REQUEST_MERGD\"}]\n"),
      ElementsAre(AllOf(StartsWith("7:35: projects.p.webhook.filter_groups[0][0].pattern: "
                                   "'PULL_REQUEST_MERGD' is not a CodeBuild webhook event"),
                        HasSubstr("PULL_REQUEST_MERGED"))));
  EXPECT_THAT(
      KilnConfigErrors(head + "        - [{type: HEAD_REF, pattern: main}]\n"
                              "        - [{type: EVENT, pattern: PUSH}, {type: EVENT, pattern: "
                              "PUSH}]\n"),
      ElementsAre("7:11: projects.p.webhook.filter_groups[0] has 0 EVENT filters; "
                  "CodeBuild needs exactly one in each group",
                  StartsWith("8:11: projects.p.webhook.filter_groups[1] has 2 EVENT")));
  EXPECT_THAT(
      KilnConfigErrors(head + "        - [{type: EVENT, pattern: RELEASED}, {type: TAG_NAME, "
                              "pattern: v1}]\n"),
      ElementsAre(StartsWith("7:35: projects.p.webhook.filter_groups[0][0].pattern: "
                             "'RELEASED' is not an event Kiln receives"),
                  StartsWith("7:53: projects.p.webhook.filter_groups[0][1].type TAG_NAME "
                             "is not supported by Kiln")));
  ProjectWebhook webhook =
      *Valid(head +
             "        - [{type: EVENT, pattern: PUSH}, {type: FILE_PATH, pattern: "
             "\"^docs/\", excludeMatchedPattern: true}]\n")
           .projects[0]
           .webhook;
  EXPECT_TRUE(webhook.filter_groups[0][1].exclude_matched_pattern);
  EXPECT_THAT(
      KilnConfigErrors(
          "projects:\n  p:\n    webhook: {connection: gitlab, filter_groups: [[{type: EVENT, "
          "pattern: PUSH}]]}\n"),
      ElementsAre("3:27: projects.p.webhook.connection names connection 'gitlab', which "
                  "connections does not define"));
}

TEST(KilnConfigTest, ProjectEnvironmentChecks) {
  EXPECT_THAT(
      KilnConfigErrors("projects:\n  p:\n    buildspec: ../x.yml\n    environment:\n"
                       "      executor: docker\n      variables: {CODEBUILD_X: 1, ok: 2}\n"),
      ElementsAre(StartsWith("3:16: projects.p.buildspec must be a path inside"),
                  StartsWith("6:19: projects.p.environment.variables: 'CODEBUILD_X' is "
                             "not a variable name"),
                  StartsWith("4:5: projects.p.environment has no 'image'")));
  Project docker = Valid(
                       "projects:\n  p:\n    environment: {executor: docker, image: "
                       "python:3.12, variables: {PORT: 8080, EMPTY: ''}}\n")
                       .projects[0];
  EXPECT_EQ(docker.environment.image, "python:3.12");
  EXPECT_THAT(docker.variables, ElementsAre(Pair("PORT", "8080"), Pair("EMPTY", "")));
  EXPECT_EQ(docker.timeout_ms, 60 * 60 * 1000);  // CodeBuild's default: 60 minutes
}

TEST(KilnConfigTest, CodeBuildEnvironmentFields) {
  Project p = Valid(
                  "secrets:\n  hub: {env: HUB}\nparameters:\n  /db/url: {env: DB}\n"
                  "projects:\n  p:\n    environment:\n      type: LINUX_CONTAINER\n"
                  "      image: kiln/standard:1\n      computeType: BUILD_GENERAL1_MEDIUM\n"
                  "      privilegedMode: true\n      imagePullCredentialsType: SERVICE_ROLE\n"
                  "      registryCredential: {credential: hub, credentialProvider: "
                  "SECRETS_MANAGER}\n      network: none\n"
                  "      environmentVariables:\n        - {name: IMAGE_URL, value: "
                  "127.0.0.1:5000}\n        - {name: DB, value: /db/url, type: "
                  "PARAMETER_STORE}\n")
                  .projects[0];
  const BuildEnvironment& env = p.environment;
  EXPECT_EQ(env.image, "kiln/standard:1");
  EXPECT_EQ(env.compute_type, ComputeType::kMedium);
  EXPECT_EQ(LimitsOf(env.compute_type).cpus, 4);
  EXPECT_EQ(LimitsOf(env.compute_type).memory_bytes, 7ull * 1024 * 1024 * 1024);
  EXPECT_TRUE(env.privileged);
  EXPECT_EQ(env.pull_credentials, ImagePullCredentials::kServiceRole);
  EXPECT_EQ(env.registry_credential, "hub");
  EXPECT_EQ(env.network, BuildNetwork::kNone);
  ASSERT_THAT(env.variables, SizeIs(2));
  EXPECT_EQ(env.variables[0].name, "IMAGE_URL");
  EXPECT_EQ(env.variables[0].type, VariableType::kPlaintext);
  EXPECT_EQ(env.variables[1].value, "/db/url");
  EXPECT_EQ(env.variables[1].type, VariableType::kParameterStore);
}

TEST(KilnConfigTest, CodeBuildEnvironmentRefusals) {
  EXPECT_THAT(KilnConfigErrors("projects:\n  p:\n    environment:\n      type: WINDOWS_CONTAINER\n"
                               "      image: x\n      computeType: BUILD_GENERAL1_HUGE\n"),
              ElementsAre(StartsWith("4:13: projects.p.environment.type WINDOWS_CONTAINER is not "
                                     "supported by Kiln"),
                          StartsWith("6:20: projects.p.environment.computeType")));
  EXPECT_THAT(KilnConfigErrors("projects:\n  p:\n    environment: {privilegedMode: true}\n"),
              ElementsAre(HasSubstr("apply to builds in a container: set image too")));
  EXPECT_THAT(KilnConfigErrors("projects:\n  p:\n    environment: {image: 'a b'}\n"),
              ElementsAre(HasSubstr("is not an image reference")));
  EXPECT_THAT(KilnConfigErrors("projects:\n  p:\n    environment:\n      image: x\n"
                               "      environmentVariables: [{name: S, value: nope, type: "
                               "SECRETS_MANAGER}]\n"),
              ElementsAre(HasSubstr("refers to secret 'nope', which secrets does not define")));
}

TEST(KilnConfigTest, Registry) {
  EXPECT_EQ(Valid("registry: {listen: 127.0.0.1:5000}\n").registry.listen, "127.0.0.1:5000");
  Registry theirs = Valid(
                        "registry: {url: registry.example.com:5000, username: ci, password: "
                        "{env: REG_PW}}\n")
                        .registry;
  EXPECT_EQ(theirs.url, "registry.example.com:5000");
  EXPECT_EQ(theirs.username, "ci");
  EXPECT_THAT(KilnConfigErrors("registry: {listen: 127.0.0.1:5000, url: x:1}\n"),
              ElementsAre(HasSubstr("not both")));
  const std::string login = ", username: ci, password: {env: P}}\n";
  EXPECT_THAT(KilnConfigErrors("registry: {url: 'https://x'" + login),
              ElementsAre(StartsWith("1:17: registry.url is HOST[:PORT]")));
  EXPECT_THAT(KilnConfigErrors("registry: {url: x:1, username: ci, password: hunter2}\n"),
              ElementsAre(HasSubstr("registry.password")));
  EXPECT_THAT(KilnConfigErrors("registry:\n  url: x:1\n"),
              ElementsAre("2:3: registry.url needs username and password (the login for it)"));
  EXPECT_THAT(KilnConfigErrors("registry: {url: x:1, username: ci}\n"),
              ElementsAre(HasSubstr("needs username and password")));
  for (const char* bad : {"x:0", "x:65536", "x:", "x:1:2", ":5000", "-x:1", "[zz]:1", "a/b"}) {
    EXPECT_THAT(KilnConfigErrors("registry: {url: '" + std::string(bad) + "'" + login),
                ElementsAre(HasSubstr("HOST[:PORT]")))
        << bad;
  }
  for (const char* good : {"reg.example.com", "reg:5000", "10.0.0.1:443", "[::1]:5000"}) {
    EXPECT_EQ(Valid("registry: {url: '" + std::string(good) + "'" + login).registry.url, good);
  }
  EXPECT_THAT(KilnConfigErrors("registry:\n  listen: 127.0.0.1:0\n"),
              ElementsAre("2:11: registry.listen must be an IP address (e.g. 127.0.0.1) or "
                          "localhost and a port 1-65535, not '127.0.0.1:0'"));
  EXPECT_THAT(KilnConfigErrors("registry: {listen: 'registry.example.com:5000'}\n"),
              ElementsAre(HasSubstr("must be an IP address")));
  EXPECT_THAT(KilnConfigErrors("registry: {listen: 127.0.0.1:99999}\n"),
              ElementsAre(HasSubstr("registry.listen must be HOST:PORT")));
  for (const char* good : {"localhost:5000", "0.0.0.0:5000", "[::1]:5000", "192.168.1.2:1"}) {
    EXPECT_EQ(Valid("registry: {listen: '" + std::string(good) + "'}\n").registry.listen, good);
  }
  EXPECT_THAT(
      KilnConfigErrors("registry: {listen: 127.0.0.1:8080}\nserver: {listen: 127.0.0.1:8080}\n"),
      ElementsAre(HasSubstr("127.0.0.1:8080")));
}

TEST(KilnConfigTest, MissingUrlAndBadNames) {
  EXPECT_THAT(KilnConfigErrors("connections:\n  cruddur:\n    poll: 60s\n"),
              ElementsAre("2:3: connections.cruddur has no 'url', which is required"));
  EXPECT_THAT(
      KilnConfigErrors("clusters:\n  \"has space\": {provider: process}\n  b: {provider: k8s}\n"),
      ElementsAre(StartsWith("2:3: invalid name 'has space' in clusters"),
                  StartsWith("3:17: clusters.b.provider must be one of process, docker, "
                             "swarm, ecs, not 'k8s'")));
  EXPECT_THAT(KilnConfigErrors("connections:\n  a: {url: /r, arn: \"arn:x\"}\n  b: {url: /s, arn: "
                               "\"arn:x\"}\n  c: {url: /t, arn: nope}\n"),
              ElementsAre(StartsWith("4:21: connections.c.arn must be an ARN"),
                          "3:3: connections.b has the same arn as connections.a"));
}

TEST(KilnConfigTest, InlinePipelineBecomesJson) {
  KilnConfig config = Valid(
      "pipelines:\n"
      "  inline:\n"
      "    pipeline:\n"
      "      name: inline\n"
      "      stages: [{name: Source, actions: [{name: S, runOrder: 1, configuration: "
      "{BranchName: prod, Detect: \"true\"}}]}]\n");
  ASSERT_THAT(config.pipelines, SizeIs(1));
  EXPECT_EQ(config.pipelines[0].path, "");
  nlohmann::json j = nlohmann::json::parse(config.pipelines[0].inline_json);
  const nlohmann::json& action = j["pipeline"]["stages"][0]["actions"][0];
  EXPECT_EQ(action["runOrder"], 1);
  EXPECT_EQ(action["configuration"]["Detect"], "true");
  EXPECT_THAT(KilnConfigErrors("pipelines:\n  p: {name: x}\n  q: [a]\n"),
              ElementsAre(StartsWith("2:3: pipelines.p inline must hold a CodePipeline"),
                          StartsWith("3:6: pipelines.q must be a file path or the pipeline")));
}

TEST(KilnConfigTest, HostileInputIsRefusedWithoutCrashing) {
  EXPECT_THAT(KilnConfigErrors("- a\n- b\n"),
              ElementsAre("1:1: kiln.yml must be a mapping, not a sequence"));
  EXPECT_THAT(KilnConfigErrors("connections: {a: [}\n"), ElementsAre(HasSubstr("invalid YAML")));
  EXPECT_THAT(KilnConfigErrors(std::string(70, '[') + std::string(70, ']')),
              ElementsAre(HasSubstr("nesting is deeper than 64 levels")));
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'h'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [*" + char(c - 1) + ", *" + char(c - 1) + ", *" +
            char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) + ", *" +
            char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) + "]\n";
  }
  EXPECT_THAT(KilnConfigErrors(bomb), ElementsAre(HasSubstr("more than 200000 nodes")));
  EXPECT_THAT(KilnConfigErrors("server: {}\n", {.max_bytes = 4}),
              ElementsAre("0:0: kiln.yml is 11 bytes; the limit is 4"));
  EXPECT_THAT(KilnConfigErrors(std::string("server: {listen: \"a\0b\"}\n", 24)),
              ElementsAre(HasSubstr("NUL byte")));
  for (std::string_view junk : {"services: {a: {taskDefinition: {containerDefinitions: [[]]}}}",
                                "services: {a: {taskDefinition: 1}}", "server: {tokens: {}}",
                                "projects: {p: {webhook: {filter_groups: [1, [2], [{}]]}}}",
                                "secrets: {a: {}}", "? [a]\n: b\n", "tokens: [[]]"}) {
    EXPECT_THAT(KilnConfigErrors(junk), Not(IsEmpty())) << junk;
  }
}

TEST(KilnConfigTest, ResolveValueReadsEnvironmentFilesAndSecrets) {
  base::TestTree tree;
  tree.Write("secrets/db-url", "postgres://db/app\n");
  ASSERT_EQ(::setenv("KILN_CONFIG_TEST_TOKEN", "tok-123", 1), 0);
  KilnConfig config = Valid(
      "secrets:\n  token: {env: KILN_CONFIG_TEST_TOKEN}\n"
      "  db: {file: secrets/db-url}\n");
  config.file = (tree / "kiln.yml").string();

  ResolvedValue env = ResolveValue({ValueRef::Kind::kEnv, "KILN_CONFIG_TEST_TOKEN"}, config);
  EXPECT_TRUE(env.ok) << env.error;
  EXPECT_EQ(env.value, "tok-123");
  ResolvedValue secret = ResolveValue({ValueRef::Kind::kSecret, "token"}, config);
  EXPECT_TRUE(secret.ok) << secret.error;
  EXPECT_EQ(secret.value, "tok-123");
  // A relative path is read from kiln.yml's folder; one trailing newline goes.
  ResolvedValue file = ResolveValue({ValueRef::Kind::kSecret, "db"}, config);
  EXPECT_TRUE(file.ok) << file.error;
  EXPECT_EQ(file.value, "postgres://db/app");
  ResolvedValue absolute =
      ResolveValue({ValueRef::Kind::kFile, (tree / "secrets/db-url").string()}, config);
  EXPECT_EQ(absolute.value, "postgres://db/app");
  EXPECT_EQ(ResolveValue({ValueRef::Kind::kLiteral, "plain"}, config).value, "plain");
  ::unsetenv("KILN_CONFIG_TEST_TOKEN");
}

TEST(KilnConfigTest, ResolveValueErrorsNameTheReferenceNeverAValue) {
  base::TestTree tree;
  ::unsetenv("KILN_CONFIG_TEST_MISSING");
  KilnConfig config;
  config.file = (tree / "kiln.yml").string();
  config.secrets["loop"] = {ValueRef::Kind::kSecret, "loop"};

  ResolvedValue env = ResolveValue({ValueRef::Kind::kEnv, "KILN_CONFIG_TEST_MISSING"}, config);
  EXPECT_FALSE(env.ok);
  EXPECT_EQ(env.error, "environment variable KILN_CONFIG_TEST_MISSING is not set");
  ResolvedValue file = ResolveValue({ValueRef::Kind::kFile, "nope/db-url"}, config);
  EXPECT_FALSE(file.ok);
  EXPECT_THAT(file.error,
              AllOf(HasSubstr((tree / "nope/db-url").string()), HasSubstr("No such file")));
  EXPECT_EQ(ResolveValue({ValueRef::Kind::kSecret, "absent"}, config).error,
            "secret 'absent' is not defined");
  EXPECT_EQ(ResolveValue({ValueRef::Kind::kSecret, "loop"}, config).error,
            "secret 'loop' refers to another secret");
  EXPECT_FALSE(ResolveValue({}, config).ok);

  ASSERT_EQ(::setenv("KILN_CONFIG_TEST_SECRET", "s3cr3t", 1), 0);
  config.secrets["bad"] = {ValueRef::Kind::kFile, "missing-file"};
  ResolvedValue nested = ResolveValue({ValueRef::Kind::kSecret, "bad"}, config);
  EXPECT_THAT(nested.error,
              AllOf(StartsWith("secret 'bad': cannot read "), Not(HasSubstr("s3cr3t"))));
  ::unsetenv("KILN_CONFIG_TEST_SECRET");
}

}  // namespace
}  // namespace kiln::spec
