// Fixture for the `kiln serve` end-to-end tests: the real server on a loopback port (port 0,
// read back from its first line), a temp state dir, a real git repository, driven only
// through HTTP and the CLI.
#pragma once

#include <signal.h>

#include <regex>

#include "http_client.h"
#include "pipeline_fixture.h"

namespace kiln::e2e {

inline constexpr char kSecret[] = "It's a Secret to Everybody";

// Source (branch prod) -> Build (bake: `echo built $CODEBUILD_RESOLVED_SOURCE_VERSION`).
class ServerFixture : public PipelineFixture {
 protected:
  void SetUp() override {
    PipelineFixture::SetUp();
    tmp_.Write("repo/buildspec.yml",
               "version: 0.2\nphases:\n  build:\n    commands:\n"
               "      - echo \"built $CODEBUILD_RESOLVED_SOURCE_VERSION\"\n"
               "      - sleep \"${SLEEP:-0}\"\n");
    Commit({}, "buildspec");
    connection_extra_ = {{"webhook_secret", {{"env", "KILN_TEST_WEBHOOK_SECRET"}}}};
    Project("backend-flask", "buildspec.yml");
    Pipeline("backend-flask",
             {SourceStage(), Stage("Build", {BuildAction("bake", "backend-flask", {})})});
  }

  void TearDown() override {
    if (server_ && !server_->Exited()) {
      server_->Signal(SIGTERM);
      server_->Wait(30);
    }
  }

  // Starts `kiln serve --listen 127.0.0.1:0` and waits for its address.
  void StartServer(const std::vector<std::string>& extra = {},
                   const std::vector<std::string>& env = {}) {
    std::vector<std::string> args = {
        "--state-dir", state_.string(), "--config",    (tmp_.path() / "kiln.yml").string(),
        "serve",       "--listen",      "127.0.0.1:0", "--grace",
        "5s"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<std::string> all_env = {std::string("KILN_TEST_WEBHOOK_SECRET=") + kSecret};
    all_env.insert(all_env.end(), env.begin(), env.end());
    server_ = StartKiln(args, tmp_.path(), all_env);
    std::smatch m;
    std::regex re("listening on http://127\\.0\\.0\\.1:([0-9]+)");
    ASSERT_TRUE(WaitUntil([&] {
      std::string out = server_->Out();
      return std::regex_search(out, m, re) || server_->Exited();
    })) << server_->Err();
    std::string out = server_->Out();
    ASSERT_TRUE(std::regex_search(out, m, re)) << out << server_->Err();
    port_ = static_cast<uint16_t>(std::stoi(m[1]));
    // The CLI runs in tmp_ as a user runs it where `kiln serve` keeps its state (./.kiln):
    // that is where it finds the local token by itself.
    std::error_code ec;
    if (!fs::exists(tmp_.path() / ".kiln", ec))
      fs::create_directory_symlink(state_, tmp_.path() / ".kiln", ec);
  }

  // The local operator token the server made (none when kiln.yml names tokens).
  std::string Token() const {
    std::string t = ReadText(state_ / "server-token");
    while (!t.empty() && t.back() == '\n') t.pop_back();
    return t;
  }

  // A mutation with the local token (and JSON), as the CLI sends it.
  HttpReply Post(const std::string& target, const std::string& body = "{}",
                 std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Authorization", "Bearer " + Token());
    headers.emplace_back("Content-Type", "application/json");
    return Http(port_, "POST", target, body, headers);
  }

  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  HttpReply Get(const std::string& target) { return Http(port_, "GET", target); }

  // Posts a GitHub delivery signed with kSecret (or `secret`).
  HttpReply Deliver(const std::string& event, const std::string& body, const std::string& id,
                    const std::string& secret = kSecret) {
    return Http(port_, "POST", "/webhooks/github/cruddur", body,
                {{"X-GitHub-Event", event},
                 {"X-GitHub-Delivery", id},
                 {"X-Hub-Signature-256", SignGithub(secret, body)},
                 {"Content-Type", "application/json"}});
  }

  // A real payload from the conformance folder.
  json Payload(const std::string& event, const std::string& file) {
    return json::parse(ReadText(ConformanceDir() / "webhooks" / event / file));
  }

  json Executions(const std::string& pipeline = "backend-flask") {
    auto r = Get("/api/v1/pipelines/" + pipeline + "/executions");
    EXPECT_EQ(r.status, 200) << r.body;
    json j = r.Json();
    return j.is_object() ? j["pipelineExecutionSummaries"] : json::array();
  }

  json Execution(const std::string& id) { return Get("/api/v1/executions/" + id).Json(); }

  bool WaitForStatus(const std::string& id, const std::string& status, int timeout_ms = 30000) {
    return WaitUntil([&] { return Execution(id).value("status", "") == status; }, timeout_ms);
  }

  std::unique_ptr<BackgroundProcess> server_;
  uint16_t port_ = 0;
};

}  // namespace kiln::e2e
