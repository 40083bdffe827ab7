#include "server/admission.h"

#include <gtest/gtest.h>

namespace kiln::server {
namespace {

namespace bhttp = boost::beast::http;

class AdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec::KilnConfig config;
    config.server.tokens.push_back({.name = "viewer", .role = "read", .sha256 = Sha256Hex("r")});
    config.server.tokens.push_back({.name = "ops", .role = "operate", .sha256 = Sha256Hex("o")});
    config.server.tokens.push_back({.name = "root", .role = "admin", .sha256 = Sha256Hex("a")});
    auth_ = std::move(Auth::FromConfig(config).value());
    policy_.auth = &auth_;
    policy_.hosts = {"kiln.example.com", "ci.example.com:8443"};
    policy_.webhook_connection = [](std::string_view name) { return name == "cruddur"; };
  }

  static RequestHead Head(bhttp::verb method, const std::string& target,
                          std::vector<std::pair<std::string, std::string>> fields = {
                              {"Host", "127.0.0.1:8080"}}) {
    RequestHead head;
    head.method(method);
    head.target(target);
    head.version(11);
    for (const auto& [k, v] : fields) head.set(k, v);
    return head;
  }

  // 0 when admitted, else the refusal's status.
  unsigned StatusOf(const RequestHead& head) {
    HeadDecision d = Admit(head, policy_);
    return d.refusal ? d.refusal->status : 0;
  }

  Auth auth_;
  AdmissionPolicy policy_;
};

TEST_F(AdmissionTest, ReadsAreOpenMutationsNeedOperateSettingsNeedAdmin) {
  EXPECT_EQ(StatusOf(Head(bhttp::verb::get, "/api/v1/pipelines")), 0u);
  EXPECT_EQ(StatusOf(Head(bhttp::verb::post, "/api/v1/pipelines/p/executions",
                          {{"Host", "127.0.0.1:8080"}, {"Content-Type", "application/json"}})),
            401u);
  auto post = [&](const std::string& token, const std::string& target) {
    return StatusOf(Head(bhttp::verb::post, target,
                         {{"Host", "127.0.0.1:8080"},
                          {"Content-Type", "application/json; charset=utf-8"},
                          {"Authorization", "Bearer " + token}}));
  };
  EXPECT_EQ(post("r", "/api/v1/pipelines/p/executions"), 403u);
  EXPECT_EQ(post("o", "/api/v1/pipelines/p/executions"), 0u);
  EXPECT_EQ(post("x", "/api/v1/pipelines/p/executions"), 401u);
  EXPECT_EQ(post("o", "/api/v1/server/local-token/rotate"), 403u);
  EXPECT_EQ(post("a", "/api/v1/server/local-token/rotate"), 0u);
  EXPECT_EQ(StatusOf(Head(bhttp::verb::get, "/api/v1/server")), 401u);
  EXPECT_EQ(StatusOf(Head(bhttp::verb::get, "/api/v1/server",
                          {{"Host", "127.0.0.1"}, {"Authorization", "Bearer a"}})),
            0u);
}

TEST_F(AdmissionTest, AMutationNeedsJsonContentType) {
  auto with_type = [&](const std::string& type) {
    std::vector<std::pair<std::string, std::string>> fields = {{"Host", "localhost:8080"},
                                                               {"Authorization", "Bearer o"}};
    if (!type.empty()) fields.emplace_back("Content-Type", type);
    return StatusOf(Head(bhttp::verb::post, "/api/v1/projects/p/builds", fields));
  };
  EXPECT_EQ(with_type(""), 415u);
  EXPECT_EQ(with_type("text/plain"), 415u);  // a form a page can send without preflight
  EXPECT_EQ(with_type("application/x-www-form-urlencoded"), 415u);
  EXPECT_EQ(with_type("multipart/form-data; boundary=x"), 415u);
  EXPECT_EQ(with_type("application/jsonp"), 415u);
  EXPECT_EQ(with_type("Application/JSON"), 0u);
}

TEST_F(AdmissionTest, HostMustNameThisServer) {
  EXPECT_TRUE(HostAllowed("127.0.0.1:8080", policy_.hosts));
  EXPECT_TRUE(HostAllowed("[::1]:8080", policy_.hosts));
  EXPECT_TRUE(HostAllowed("localhost", policy_.hosts));
  EXPECT_TRUE(HostAllowed("LOCALHOST:1", policy_.hosts));
  EXPECT_TRUE(HostAllowed("10.1.2.3", policy_.hosts));
  EXPECT_TRUE(HostAllowed("kiln.example.com:8080", policy_.hosts));
  EXPECT_TRUE(HostAllowed("ci.example.com:8443", policy_.hosts));
  EXPECT_FALSE(HostAllowed("ci.example.com:9000", policy_.hosts));
  EXPECT_FALSE(HostAllowed("attacker.example:8080", policy_.hosts));  // DNS rebinding
  EXPECT_FALSE(HostAllowed("127.0.0.1.attacker.example", policy_.hosts));
  EXPECT_FALSE(HostAllowed("localhost.attacker.example", policy_.hosts));
  EXPECT_FALSE(HostAllowed("127.0.0.1:", policy_.hosts));
  EXPECT_FALSE(HostAllowed("127.0.0.1:80x", policy_.hosts));
  EXPECT_FALSE(HostAllowed("[::1", policy_.hosts));
  EXPECT_FALSE(HostAllowed("", policy_.hosts));
  EXPECT_EQ(StatusOf(Head(bhttp::verb::get, "/api/v1/pipelines", {{"Host", "evil.test"}})), 403u);
  EXPECT_EQ(StatusOf(Head(bhttp::verb::get, "/api/v1/pipelines", {})), 400u);
}

TEST_F(AdmissionTest, OriginMustBeTheServersOwn) {
  auto with_origin = [&](const std::string& origin) {
    return StatusOf(Head(bhttp::verb::post, "/api/v1/projects/p/builds",
                         {{"Host", "127.0.0.1:8080"},
                          {"Origin", origin},
                          {"Content-Type", "application/json"},
                          {"Authorization", "Bearer o"}}));
  };
  EXPECT_EQ(with_origin("http://127.0.0.1:8080"), 0u);
  EXPECT_EQ(with_origin("https://127.0.0.1:8080"), 0u);
  EXPECT_EQ(with_origin("http://evil.test"), 403u);
  EXPECT_EQ(with_origin("http://127.0.0.1:9999"), 403u);
  EXPECT_EQ(with_origin("null"), 403u);
  // Reads too: an event stream or a log read from another site's page.
  EXPECT_EQ(StatusOf(Head(bhttp::verb::get, "/api/v1/events",
                          {{"Host", "127.0.0.1:8080"}, {"Origin", "http://evil.test"}})),
            403u);
}

TEST_F(AdmissionTest, WebhooksNeedAKnownConnectionButNoTokenOrHost) {
  HeadDecision known =
      Admit(Head(bhttp::verb::post, "/webhooks/github/cruddur", {{"Host", "hooks.example.org"}}),
            policy_);
  EXPECT_FALSE(known.refusal.has_value());
  EXPECT_EQ(known.body_limit, policy_.limits.webhook_body);
  EXPECT_EQ(StatusOf(Head(bhttp::verb::post, "/webhooks/github/unknown")), 404u);
  EXPECT_EQ(StatusOf(Head(bhttp::verb::post, "/webhooks/github/%ff")), 404u);
  EXPECT_EQ(StatusOf(Head(bhttp::verb::get, "/webhooks/github/cruddur")), 405u);
}

TEST_F(AdmissionTest, BodiesOnlyForMutationsAndWithinTheLimit) {
  EXPECT_EQ(Admit(Head(bhttp::verb::get, "/api/v1/pipelines"), policy_).body_limit, 0u);
  HeadDecision post = Admit(Head(bhttp::verb::post, "/api/v1/pipelines/p/executions",
                                 {{"Host", "127.0.0.1"},
                                  {"Content-Type", "application/json"},
                                  {"Authorization", "Bearer o"}}),
                            policy_);
  EXPECT_EQ(post.body_limit, policy_.limits.request_body);
  EXPECT_EQ(StatusOf(Head(bhttp::verb::options, "/api/v1/pipelines")), 405u);
  EXPECT_EQ(StatusOf(Head(bhttp::verb::trace, "/")), 405u);
}

TEST_F(AdmissionTest, ReadsNeedATokenWhenConfiguredSo) {
  spec::KilnConfig config;
  config.server.read_requires_token = true;
  config.server.tokens.push_back({.name = "viewer", .role = "read", .sha256 = Sha256Hex("r")});
  Auth strict = std::move(Auth::FromConfig(config).value());
  policy_.auth = &strict;
  EXPECT_EQ(StatusOf(Head(bhttp::verb::get, "/api/v1/pipelines")), 401u);
  EXPECT_EQ(StatusOf(Head(bhttp::verb::get, "/api/v1/pipelines",
                          {{"Host", "127.0.0.1"}, {"Authorization", "Bearer r"}})),
            0u);
  EXPECT_EQ(StatusOf(Head(bhttp::verb::get, "/healthz")), 0u);
}

TEST(LocalToken, ReplacesTheEarlierOneAndIsAdmin) {
  Auth auth = std::move(Auth::FromConfig(spec::KilnConfig{}).value());
  EXPECT_FALSE(auth.has_tokens());
  auth.SetLocalToken("first");
  EXPECT_EQ(auth.RoleOf("Bearer first"), Role::kAdmin);
  auth.SetLocalToken("second");
  EXPECT_EQ(auth.RoleOf("Bearer first"), Role::kNone);
  EXPECT_EQ(auth.RoleOf("Bearer second"), Role::kAdmin);
  EXPECT_FALSE(auth.has_tokens());
  EXPECT_EQ(auth.Describe().size(), 1u);
}

}  // namespace
}  // namespace kiln::server
