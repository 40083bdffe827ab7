// Kiln's typed Docker values to and from the engine's JSON: encoders give the exact shapes of
// DOCKER-ENGINE.md, decoders refuse answers of the wrong shape.
#include "exec/docker_wire.h"

#include <gtest/gtest.h>

namespace kiln::exec {
namespace {

using Json = nlohmann::json;

TEST(DockerWireTest, Base64UrlMatchesRfc4648Vectors) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg==");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8=");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  // The URL alphabet: '-' and '_' where standard base64 has '+' and '/'.
  EXPECT_EQ(Base64UrlEncode("\xfb\xff\xbf"), "-_-_");
}

TEST(DockerWireTest, RegistryAuthHeaderIsBase64UrlJson) {
  EXPECT_EQ(RegistryAuthHeader({}), "e30=");  // "{}": anonymous
  std::string header =
      RegistryAuthHeader({.username = "u", .password = "p?>", .server_address = "127.0.0.1:5000"});
  EXPECT_EQ(header.find_first_of("+/"), std::string::npos);
  EXPECT_EQ(header, Base64UrlEncode(
                        R"({"password":"p?>","serveraddress":"127.0.0.1:5000","username":"u"})"));
}

TEST(DockerWireTest, EscapesQueryValuesAndPaths) {
  EXPECT_EQ(QueryEscape("a b&c={\"x\"}"), "a%20b%26c%3D%7B%22x%22%7D");
  EXPECT_EQ(PathEscape("127.0.0.1:5000/app:v1"), "127.0.0.1:5000/app:v1");
  EXPECT_EQ(PathEscape("a?b#c"), "a%3Fb%23c");
}

TEST(DockerWireTest, LabelFiltersAreAListOfKeyOrKeyValue) {
  EXPECT_EQ(LabelFilterJson({{"kiln.build", ""}, {"kiln.run", "r 1"}}),
            R"({"label":["kiln.build","kiln.run=r 1"]})");
}

TEST(DockerWireTest, CreateBodyCarriesEveryField) {
  ContainerSpec spec{.image = "kiln/busybox:test",
                     .cmd = {"sh", "-c", "true"},
                     .env = {"A=1"},
                     .working_dir = "/w",
                     .user = "1000:1000",
                     .labels = {{"kiln.build", "b1"}},
                     .binds = {{.source = "/src", .target = "/s", .read_only = true}},
                     .tmpfs = {{.target = "/tmp", .size_bytes = 1 << 20}},
                     .network_mode = NetworkMode::kHost,
                     .nano_cpus = 1500000000,
                     .memory_bytes = 64 << 20,
                     .pids_limit = 100,
                     .init = true,
                     .open_stdin = true,
                     .cap_drop = {"ALL"},
                     .security_opt = {"no-new-privileges"},
                     .read_only_rootfs = true,
                     .extra_hosts = {"h:127.0.0.1"}};
  Json j = ContainerCreateBody(spec);
  EXPECT_EQ(j["Image"], "kiln/busybox:test");
  EXPECT_EQ(j["Cmd"], Json({"sh", "-c", "true"}));
  EXPECT_FALSE(j.contains("Entrypoint")) << "empty: the image's own";
  EXPECT_EQ(j["WorkingDir"], "/w");
  EXPECT_EQ(j["User"], "1000:1000");
  EXPECT_EQ(j["Labels"]["kiln.build"], "b1");
  EXPECT_EQ(j["Tty"], false);
  EXPECT_EQ(j["OpenStdin"], true);
  EXPECT_EQ(j["StdinOnce"], true);
  EXPECT_EQ(j["AttachStdin"], true);
  const Json& h = j["HostConfig"];
  EXPECT_EQ(h["NetworkMode"], "host");
  EXPECT_EQ(h["NanoCpus"], 1500000000);
  EXPECT_EQ(h["Memory"], 64 << 20);
  EXPECT_EQ(h["PidsLimit"], 100);
  EXPECT_EQ(h["Init"], true);
  EXPECT_EQ(h["ReadonlyRootfs"], true);
  EXPECT_EQ(h["CapDrop"], Json({"ALL"}));
  EXPECT_EQ(h["SecurityOpt"], Json({"no-new-privileges"}));
  EXPECT_EQ(h["ExtraHosts"], Json({"h:127.0.0.1"}));
  ASSERT_EQ(h["Mounts"].size(), 2u);
  EXPECT_EQ(h["Mounts"][0],
            Json({{"Type", "bind"}, {"Source", "/src"}, {"Target", "/s"}, {"ReadOnly", true}}));
  EXPECT_EQ(h["Mounts"][1]["TmpfsOptions"]["SizeBytes"], 1 << 20);
  EXPECT_EQ(h["Mounts"][1]["TmpfsOptions"]["Mode"], 01777);
}

TEST(DockerWireTest, CreateBodyDefaultsToNoNetworkAndNoStdin) {
  Json j = ContainerCreateBody({.image = "x"});
  EXPECT_EQ(j["HostConfig"]["NetworkMode"], "none");
  EXPECT_EQ(j["OpenStdin"], false);
  EXPECT_EQ(j["StdinOnce"], false);
  EXPECT_FALSE(j["HostConfig"].contains("Memory"));
}

TEST(DockerWireTest, AnImageRefWithoutTagMeansLatestNeverAllTags) {
  auto p = SplitImageRef("127.0.0.1:5000/app");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->repository, "127.0.0.1:5000/app");
  EXPECT_EQ(p->tag, "latest");
  p = SplitImageRef("127.0.0.1:1/nope:1");
  EXPECT_EQ(p->repository, "127.0.0.1:1/nope");
  EXPECT_EQ(p->tag, "1");
  p = SplitImageRef("app@sha256:abc");
  EXPECT_EQ(p->repository, "app");
  EXPECT_EQ(p->tag, "sha256:abc");
  EXPECT_FALSE(SplitImageRef("").ok());
  EXPECT_FALSE(SplitImageRef("a b").ok());
}

TEST(DockerWireTest, ParsesImageInspect) {
  auto info = ParseImageInfo(R"({"Id":"sha256:1","Size":2000,"RepoTags":["a:b"],
      "Config":{"Env":["PATH=/bin"],"Cmd":["/bin/sh"],"Entrypoint":null,"User":"",
                "WorkingDir":"","Labels":{"k":"v"}}})");
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->id, "sha256:1");
  EXPECT_EQ(info->size, 2000);
  EXPECT_EQ(info->env, std::vector<std::string>{"PATH=/bin"});
  EXPECT_EQ(info->cmd, std::vector<std::string>{"/bin/sh"});
  EXPECT_TRUE(info->entrypoint.empty());
  EXPECT_EQ(info->labels.at("k"), "v");
}

TEST(DockerWireTest, RefusesAnswersOfTheWrongShape) {
  EXPECT_FALSE(ParseImageInfo("[]").ok());
  EXPECT_FALSE(ParseImageInfo("{\"Size\":1}").ok()) << "no Id";
  EXPECT_FALSE(ParseImageInfo(R"({"Id":"x","Config":{"Cmd":"sh"}})").ok());
  EXPECT_FALSE(ParseImageInfo(R"({"Id":"x","Config":{"Env":[1]}})").ok());
  EXPECT_FALSE(ParseImageInfo(R"({"Id":"x","Size":"big"})").ok());
  EXPECT_FALSE(ParseContainerInfo(R"({"Id":"x","State":{"ExitCode":"3"}})").ok());
  EXPECT_FALSE(ParseContainerList(R"({"Id":"x"})").ok());
  EXPECT_FALSE(ParseContainerList(R"([{"Names":["/a"]}])").ok()) << "no Id";
  EXPECT_FALSE(ParseCreatedId("{}").ok());
  EXPECT_FALSE(ParseWaitAnswer("{}").ok());
  EXPECT_FALSE(ParseWaitAnswer(R"({"StatusCode":-1})").ok());
  EXPECT_FALSE(ParseWaitAnswer("truncated {").ok());
  auto st = ParseImageInfo("{").status();
  EXPECT_EQ(st.kind(), base::ErrorKind::kFailed);
  EXPECT_NE(st.message().find("malformed answer"), std::string::npos);
}

TEST(DockerWireTest, ParsesContainerInspectAndList) {
  auto c = ParseContainerInfo(R"({"Id":"abc","Name":"/kiln-1","Image":"sha256:9",
      "Config":{"Labels":{"kiln.build":"1"}},
      "State":{"Status":"exited","ExitCode":3,"OOMKilled":false,"Pid":0,"Error":"",
               "Health":{"Status":"healthy"}}})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->name, "kiln-1");
  EXPECT_EQ(c->status, ContainerStatus::kExited);
  EXPECT_EQ(c->exit_code, 3);
  EXPECT_EQ(c->health, HealthStatus::kHealthy);
  EXPECT_EQ(c->labels.at("kiln.build"), "1");
  auto list = ParseContainerList(
      R"([{"Id":"a","Names":["/x"],"Image":"i","State":"running","Labels":{"k":"v"}}])");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].names[0], "x");
  EXPECT_EQ((*list)[0].status, ContainerStatus::kRunning);
}

TEST(DockerWireTest, CreateBodyCarriesHealthcheckReservationAndStopTimeout) {
  ContainerSpec spec{.image = "i",
                     .memory_reservation_bytes = 32 << 20,
                     .healthcheck = HealthcheckConfig{.test = {"CMD-SHELL", "exit 0"},
                                                      .interval_ns = 1000000000,
                                                      .timeout_ns = 5000000000,
                                                      .start_period_ns = 2000000,
                                                      .retries = 3},
                     .stop_timeout_seconds = 30};
  Json j = ContainerCreateBody(spec);
  EXPECT_EQ(j["HostConfig"]["MemoryReservation"], 32 << 20);
  EXPECT_EQ(j["StopTimeout"], 30);
  EXPECT_EQ(j["Healthcheck"], Json({{"Test", {"CMD-SHELL", "exit 0"}},
                                    {"Interval", 1000000000},
                                    {"Timeout", 5000000000},
                                    {"StartPeriod", 2000000},
                                    {"Retries", 3}}));
  Json plain = ContainerCreateBody({.image = "i"});
  EXPECT_FALSE(plain.contains("Healthcheck")) << "none: the image's own";
  EXPECT_FALSE(plain.contains("StopTimeout"));
  EXPECT_FALSE(plain["HostConfig"].contains("MemoryReservation"));
}

TEST(DockerWireTest, EngineTimesAreNanosecondsSinceTheEpoch) {
  EXPECT_EQ(*ParseEngineTime("1970-01-01T00:00:01Z"), 1000000000);
  EXPECT_EQ(*ParseEngineTime("1970-01-01T00:00:01.5Z"), 1500000000);
  EXPECT_EQ(*ParseEngineTime("2026-12-07T17:43:28.123456789Z"), 1796665408123456789);
  EXPECT_EQ(*ParseEngineTime("0001-01-01T00:00:00Z"), 0) << "Go's zero time: never";
  EXPECT_EQ(*ParseEngineTime(""), 0);
  EXPECT_FALSE(ParseEngineTime("yesterday").ok());
  EXPECT_FALSE(ParseEngineTime("2026-12-07T17:43:28+01:00").ok()) << "the engine writes UTC";
  EXPECT_FALSE(ParseEngineTime("2026-12-07T17:43:28.1Zjunk").ok());
  EXPECT_FALSE(ParseEngineTime("2026-1-07T17:43:28Z").ok());
}

// A damaged year made ns since the epoch overflow int64 (UBSan: signed integer overflow).
TEST(DockerWireTest, EngineTimeOutsideInt64NanosecondsIsAnError) {
  EXPECT_FALSE(ParseEngineTime("0004-01-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseEngineTime("1969-12-31T23:59:59Z").ok());
  EXPECT_FALSE(ParseEngineTime("9999-12-31T23:59:59Z").ok());
  EXPECT_TRUE(ParseEngineTime("2262-01-01T00:00:00Z").ok());
}

TEST(DockerWireTest, ContainerInspectGivesTimesAndStopTimeout) {
  auto c = ParseContainerInfo(R"({"Id":"a","Config":{"StopTimeout":30},
      "State":{"Status":"exited","StartedAt":"1970-01-01T00:00:02.25Z",
               "FinishedAt":"0001-01-01T00:00:00Z"}})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->started_at_ns, 2250000000);
  EXPECT_EQ(c->finished_at_ns, 0);
  EXPECT_EQ(c->stop_timeout_seconds, 30);
  EXPECT_FALSE(ParseContainerInfo(R"({"Id":"a"})")->stop_timeout_seconds.has_value());
  EXPECT_FALSE(ParseContainerInfo(R"({"Id":"a","State":{"StartedAt":"soon"}})").ok());
  EXPECT_FALSE(ParseContainerInfo(R"({"Id":"a","State":{"StartedAt":7}})").ok());
  EXPECT_FALSE(ParseContainerInfo(R"({"Id":"a","Config":{"StopTimeout":"30"}})").ok());
  EXPECT_FALSE(ParseContainerInfo(R"({"Id":"a","Config":{"StopTimeout":-1}})").ok());
}

TEST(DockerWireTest, WaitAnswerGivesTheExitCodeOrTheEnginesError) {
  EXPECT_EQ(*ParseWaitAnswer(R"({"StatusCode":143,"Error":null})"), 143);
  auto failed = ParseWaitAnswer(R"({"StatusCode":0,"Error":{"Message":"boom"}})");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("boom"), std::string::npos);
}

TEST(DockerWireTest, ErrorMessagesFromJsonOrPlainText) {
  EXPECT_EQ(EngineErrorMessage(R"({"message":"No such container: x"})"), "No such container: x");
  EXPECT_EQ(EngineErrorMessage("No such container: nope\r\n"), "No such container: nope");
  EXPECT_EQ(EngineErrorMessage(std::string(100000, 'a')).size(), 4096u);
}

TEST(DockerWireTest, PublishedPortsAreReadBackAndValidated) {
  auto c = ParseContainerInfo(R"({"Id":"a","NetworkSettings":{"Ports":{
      "80/tcp":[{"HostIp":"127.0.0.1","HostPort":"32768"}],"81/tcp":null}}})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->published_ports, (std::map<std::string, int>{{"80/tcp", 32768}}));
  auto host = ParseContainerInfo(R"({"Id":"a","NetworkSettings":{"Ports":null}})");
  ASSERT_TRUE(host.ok());
  EXPECT_TRUE(host->published_ports.empty());
  for (const char* ports :
       {R"("x")", R"({"80/tcp":"32768"})", R"({"80/tcp":[{"HostPort":32768}]})",
        R"({"80/tcp":[{"HostPort":""}]})", R"({"80/tcp":[{"HostPort":"99999"}]})",
        R"({"80/tcp":[{"HostPort":"0"}]})", R"({"80/tcp":[{"HostPort":"-1"}]})",
        R"({"80/tcp":["32768"]})"}) {
    std::string text = std::string(R"({"Id":"a","NetworkSettings":{"Ports":)") + ports + "}}";
    EXPECT_FALSE(ParseContainerInfo(text).ok()) << text;
  }
}

TEST(DockerWireTest, PortBindingsAreExposedAndBound) {
  Json j = ContainerCreateBody(
      {.image = "x",
       .network_mode = NetworkMode::kBridge,
       .port_bindings = {
           {.container_port = 80},
           {.container_port = 53, .host_port = 5353, .protocol = "udp", .host_ip = "0.0.0.0"}}});
  EXPECT_EQ(j["HostConfig"]["NetworkMode"], "bridge");
  EXPECT_EQ(j["HostConfig"]["PortBindings"],
            Json::parse(R"({"80/tcp":[{"HostIp":"127.0.0.1","HostPort":""}],
                            "53/udp":[{"HostIp":"0.0.0.0","HostPort":"5353"}]})"));
  EXPECT_EQ(j["ExposedPorts"], Json::parse(R"({"80/tcp":{},"53/udp":{}})"));
}

}  // namespace
}  // namespace kiln::exec
