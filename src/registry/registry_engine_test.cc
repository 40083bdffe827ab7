// The registry process against the real docker-registry (no Docker engine needed, but it runs
// with the engine tests: it starts servers): readiness, login, restart after a crash, stop.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "exec/docker_test_engine.h"
#include "exec/process.h"
#include "registry/credentials.h"
#include "registry/http_probe.h"
#include "registry/registry_process.h"

namespace kiln::registry {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

// GET /v2/ with basic auth through curl: the HTTP status.
int GetWithLogin(const std::string& listen, const std::string& user, const std::string& pw) {
  auto r = exec::Capture({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u",
                          user + ":" + pw, "http://" + listen + "/v2/"},
                         "");
  return r.ok() && !r->out.empty() ? std::stoi(r->out) : -1;
}

class RegistryProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!FindRegistryBinary().ok()) GTEST_SKIP() << "docker-registry is not installed";
    char tmpl[] = "/tmp/kiln-regproc-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    paths_ = PathsUnder(dir_);
    listen_ = "127.0.0.1:" + std::to_string(exec::testing::FreeLoopbackPort());
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  fs::path dir_;
  Paths paths_;
  std::string listen_;
};

TEST_F(RegistryProcessTest, AcceptsTheCurrentPasswordOnly) {
  auto sup = Supervisor::Start(paths_, listen_, [](const std::string&) {});
  ASSERT_TRUE(sup.ok()) << sup.status().message();
  auto pw = CurrentPassword(paths_);
  ASSERT_TRUE(pw.ok());
  EXPECT_EQ(GetWithLogin(listen_, "AWS", *pw), 200);
  EXPECT_EQ(GetWithLogin(listen_, "AWS", *pw + "x"), 401);
  EXPECT_EQ(GetWithLogin(listen_, "root", *pw), 401);
  // A rotated password works at once: the registry re-reads htpasswd.
  auto rotated = CurrentPassword(paths_, std::time(nullptr) + kPasswordMaxAgeSeconds + 5);
  ASSERT_TRUE(rotated.ok());
  ASSERT_NE(*rotated, *pw);
  bool took = false;
  for (int i = 0; i < 50 && !took; ++i) {
    took = GetWithLogin(listen_, "AWS", *rotated) == 200;
    if (!took) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(took);
  EXPECT_EQ(GetWithLogin(listen_, "AWS", *pw), 401);
}

TEST_F(RegistryProcessTest, SupervisorRestartsAKilledRegistryAndStopsIt) {
  std::vector<std::string> logged;
  std::mutex mu;
  auto sup = Supervisor::Start(paths_, listen_, [&](const std::string& line) {
    std::lock_guard lock(mu);
    logged.push_back(line);
  });
  ASSERT_TRUE(sup.ok()) << sup.status().message();
  pid_t first = (*sup)->pid();
  ASSERT_GT(first, 0);
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  bool back = false;
  for (int i = 0; i < 100 && !back; ++i) {  // 1 s backoff + start: well within 10 s
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    pid_t now = (*sup)->pid();
    auto code = HttpGetStatus(listen_, "/v2/");
    back = now > 0 && now != first && code.ok() && *code == 401;
  }
  EXPECT_TRUE(back);
  {
    std::lock_guard lock(mu);
    ASSERT_FALSE(logged.empty());
    EXPECT_THAT(logged.front(), HasSubstr("exited (code 137); restarting in 1 s"));
  }
  pid_t second = (*sup)->pid();
  sup->reset();
  EXPECT_FALSE(HttpGetStatus(listen_, "/v2/", 500).ok());
  EXPECT_NE(::kill(second, 0), 0);
}

// kill -9 of kiln serve leaves its registry running (a child in its own process group): the
// next start stops that one and takes the address, instead of failing on "address in use".
TEST_F(RegistryProcessTest, ARestartedServerReplacesTheRegistryAKilledOneLeft) {
  auto left = StartRegistry(paths_, listen_);  // never stopped: as if its server died
  ASSERT_TRUE(left.ok()) << left.status().message();
  auto sup = Supervisor::Start(paths_, listen_, [](const std::string&) {});
  ASSERT_TRUE(sup.ok()) << sup.status().message();
  EXPECT_NE((*sup)->pid(), left->pid);
  EXPECT_TRUE(ExitedWithin(left->pid, 2'000).has_value());
  auto code = HttpGetStatus(listen_, "/v2/", 500);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 401);
  sup->reset();
  EXPECT_FALSE(HttpGetStatus(listen_, "/v2/", 500).ok());
}

TEST_F(RegistryProcessTest, AnAddressInUseIsAClearError) {
  auto first = StartRegistry(paths_, listen_);
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto second = StartRegistry(PathsUnder(dir_ / "other"), listen_, 3'000);
  StopRegistry(*first);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr(listen_));
  EXPECT_THAT(second.status().message(), HasSubstr("registry.log"));
}

TEST_F(RegistryProcessTest, BuildRegistryUsesOneThatAnswersAndStartsOneOtherwise) {
  {
    auto own = BuildRegistry::Ensure(paths_, listen_);
    ASSERT_TRUE(own.ok()) << own.status().message();
    EXPECT_TRUE((*own)->started());
    auto shared = BuildRegistry::Ensure(paths_, listen_);
    ASSERT_TRUE(shared.ok());
    EXPECT_FALSE((*shared)->started());
  }
  EXPECT_FALSE(HttpGetStatus(listen_, "/v2/", 500).ok());
}

}  // namespace
}  // namespace kiln::registry
