#include "deploy/load_balancer.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "deploy/lb_test_support.h"

namespace kiln::deploy::lb_test {
namespace {

using LoadBalancerTest = LoadBalancerFixture;
using std::chrono::milliseconds;

// A port nothing listens on: connecting to it is refused.
uint16_t ClosedPort() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(kLocalhost, 0));
  return acceptor.local_endpoint().port();
}

TEST_F(LoadBalancerTest, RoutesRequestsInRoundRobinAcrossThreeTargets) {
  StartBalancer();
  Register("a", backends_.AddHttp("a"));
  Register("b", backends_.AddHttp("b"));
  Register("c", backends_.AddHttp("c"));
  std::string bodies;
  for (int i = 0; i < 9; ++i) {
    Client client(port_);
    Response response = client.Get();
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response["X-Seen-Forwarded-For"], "127.0.0.1");
    EXPECT_EQ(response["X-Seen-Forwarded-Proto"], "http");
    bodies += response.body();
  }
  EXPECT_EQ(bodies, "abcabcabc");
  WaitUntilIdle();
  for (auto& [id, info] : TargetsById()) {
    EXPECT_EQ(info.served, 3u) << id;
    EXPECT_EQ(info.in_flight, 0) << id;
    EXPECT_EQ(info.state, TargetInfo::State::kRegistered);
  }
  EXPECT_EQ(Stats().requests, 9u);
}

TEST_F(LoadBalancerTest, KeepAliveClientRequestsSpreadOverPooledTargetConnections) {
  StartBalancer();
  uint16_t a = backends_.AddHttp("a"), b = backends_.AddHttp("b"), c = backends_.AddHttp("c");
  Register("a", a);
  Register("b", b);
  Register("c", c);
  Client client(port_);
  std::map<std::string, int> counts;
  for (int i = 0; i < 100; ++i) {
    Response response = client.Get();
    ASSERT_EQ(response.result_int(), 200) << "request " << i;
    ++counts[response.body()];
  }
  EXPECT_EQ(counts, (std::map<std::string, int>{{"a", 34}, {"b", 33}, {"c", 33}}));
  // One request at a time: each target's one pooled connection is reused.
  EXPECT_EQ(backends_.Accepted(a), 1);
  EXPECT_EQ(backends_.Accepted(b), 1);
  EXPECT_EQ(backends_.Accepted(c), 1);
}

TEST_F(LoadBalancerTest, Http10ClientGetsKeepAliveOnlyWhenItAsks) {
  StartBalancer();
  Register("a", backends_.AddHttp("a"));
  Client client(port_);
  http::request<http::string_body> request(http::verb::get, "/", 10);
  request.set(http::field::connection, "keep-alive");
  for (int i = 0; i < 2; ++i) {
    Response response = client.Send(request);
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.version(), 10u);
    EXPECT_TRUE(response.keep_alive());
  }
  Response last = client.Get("/", 10);
  EXPECT_EQ(last.body(), "a");
  EXPECT_TRUE(client.SeesClose());
}

TEST_F(LoadBalancerTest, ClientConnectionCloseIsRespected) {
  StartBalancer();
  Register("a", backends_.AddHttp("a"));
  Client client(port_);
  http::request<http::string_body> request(http::verb::get, "/", 11);
  request.set(http::field::connection, "close");
  Response response = client.Send(request);
  EXPECT_EQ(response.body(), "a");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.SeesClose());
}

TEST_F(LoadBalancerTest, DrainLetsInFlightRequestFinishAndRoutesNothingNew) {
  StartBalancer();
  uint16_t slow = backends_.AddHttp("a", {.delay_ms = 300});
  Register("a", slow);
  Register("b", backends_.AddHttp("b"));
  Response slow_response;
  std::thread slow_client([&] { slow_response = Client(port_).Get(); });
  while (backends_.Requests(slow) == 0) std::this_thread::sleep_for(milliseconds(2));

  auto drained = Drain("a");
  auto during = TargetsById();
  EXPECT_EQ(during["a"].state, TargetInfo::State::kDraining);
  EXPECT_EQ(during["a"].in_flight, 1);
  Client client(port_);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client.Get().body(), "b");
  EXPECT_FALSE(Ready(drained));

  ASSERT_EQ(drained.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  // on_drained came after the slow answer: the client got it whole (the backend counts its
  // response after writing it, so under load its counter may lag the balancer a moment).
  slow_client.join();
  EXPECT_EQ(slow_response.result_int(), 200);
  EXPECT_EQ(slow_response.body(), "a");
  EXPECT_EQ(backends_.Requests(slow), 1);
  WaitUntilIdle();
  auto after = TargetsById();
  EXPECT_EQ(after.count("a"), 0u);
  EXPECT_EQ(after["b"].served, 5u);
}

TEST_F(LoadBalancerTest, DrainWithNothingInFlightCompletesAtOnce) {
  StartBalancer();
  Register("a", backends_.AddHttp("a"));
  Drain("a").wait();
  Drain("unknown").wait();
  EXPECT_TRUE(Targets().empty());
}

TEST_F(LoadBalancerTest, DrainGivesUpAfterDeregistrationDelay) {
  StartBalancer({.deregistration_delay_ms = 50});
  uint16_t slow = backends_.AddHttp("a", {.delay_ms = 600});
  Register("a", slow);
  std::thread slow_client([&] { Client(port_).Get(); });
  while (backends_.Requests(slow) == 0) std::this_thread::sleep_for(milliseconds(2));
  auto drained = Drain("a");
  ASSERT_EQ(drained.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(backends_.Responses(slow), 0);
  EXPECT_TRUE(Targets().empty());
  slow_client.join();
}

TEST_F(LoadBalancerTest, RegisterCancelsDrain) {
  StartBalancer();
  uint16_t slow = backends_.AddHttp("a", {.delay_ms = 200});
  Register("a", slow);
  std::thread slow_client([&] { Client(port_).Get(); });
  while (backends_.Requests(slow) == 0) std::this_thread::sleep_for(milliseconds(2));
  auto drained = std::make_shared<std::atomic<bool>>(false);
  OnLoop([&] { lb_->Drain("a", [drained] { *drained = true; }); });
  Register("a", slow);
  slow_client.join();
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_FALSE(*drained);
  WaitUntilIdle();
  auto targets = TargetsById();
  EXPECT_EQ(targets["a"].state, TargetInfo::State::kRegistered);
  EXPECT_EQ(targets["a"].served, 1u);
}

TEST_F(LoadBalancerTest, NoRegisteredTargetAnswers503) {
  StartBalancer();
  Client client(port_);
  Response response = client.Get();
  EXPECT_EQ(response.result_int(), 503);
  EXPECT_EQ(response[http::field::content_type], "application/json");
  EXPECT_EQ(response.body(), R"({"error":{"code":"no_target","message":"no registered target"}})");
  EXPECT_EQ(client.Get().result_int(), 503);  // the connection stays usable
  EXPECT_EQ(Stats().no_target, 2u);
}

TEST_F(LoadBalancerTest, RefusedTargetIsRetriedOnAnotherWithoutClientFailures) {
  StartBalancer();
  Register("a", backends_.AddHttp("a"));
  Register("dead", ClosedPort());
  Client client(port_);
  for (int i = 0; i < 10; ++i) {
    Response response = client.Get();
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), "a");
  }
  WaitUntilIdle();
  LoadBalancerStats stats = Stats();
  EXPECT_EQ(stats.retried, 9u);  // every second pick is "dead", except the first request's
  EXPECT_EQ(stats.upstream_errors, 0u);
  EXPECT_EQ(TargetsById()["a"].served, 10u);
}

TEST_F(LoadBalancerTest, OnlyRefusedTargetsAnswer502AfterTwoRetries) {
  StartBalancer();
  Register("dead", ClosedPort());
  Client client(port_);
  Response response = client.Get();
  EXPECT_EQ(response.result_int(), 502);
  EXPECT_NE(response.body().find(R"({"error":{"code":"upstream_error","message":)"),
            std::string::npos);
  LoadBalancerStats stats = Stats();
  EXPECT_EQ(stats.retried, 2u);
  EXPECT_EQ(stats.upstream_errors, 1u);
  EXPECT_EQ(TargetsById()["dead"].served, 0u);
  EXPECT_EQ(TargetsById()["dead"].in_flight, 0);
}

TEST_F(LoadBalancerTest, TargetClosingKeepAliveConnectionsSilentlyCausesNoFailure) {
  StartBalancer();
  uint16_t a = backends_.AddHttp("a", {.close_after_response = true});
  Register("a", a);
  Client client(port_);
  for (int i = 0; i < 50; ++i) {
    Response response = client.Get();
    ASSERT_EQ(response.result_int(), 200) << "request " << i;
    EXPECT_EQ(response.body(), "a");
  }
  EXPECT_EQ(Stats().upstream_errors, 0u);
  EXPECT_EQ(backends_.Accepted(a), 50);
}

TEST_F(LoadBalancerTest, SlowTargetAnswers504) {
  StartBalancer({.upstream_timeout_ms = 100});
  Register("a", backends_.AddHttp("a", {.delay_ms = 1000}));
  Client client(port_);
  Response response = client.Get();
  EXPECT_EQ(response.result_int(), 504);
  EXPECT_NE(response.body().find("upstream_timeout"), std::string::npos);
  EXPECT_EQ(Stats().upstream_timeouts, 1u);
  EXPECT_EQ(TargetsById()["a"].in_flight, 0);
}

TEST_F(LoadBalancerTest, BadRequestsAreAnsweredAndTheBalancerGoesOn) {
  StartBalancer({.max_header_bytes = 1024, .max_body_bytes = 1024});
  Register("a", backends_.AddHttp("a"));
  {
    Client client(port_);
    client.WriteRaw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'x') + "\r\n\r\n");
    EXPECT_EQ(client.Read().result_int(), 431);
    EXPECT_TRUE(client.SeesClose());
  }
  {
    Client client(port_);
    client.WriteRaw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" +
                    std::string(5000, 'x'));
    EXPECT_EQ(client.Read().result_int(), 413);
  }
  {
    Client client(port_);
    client.WriteRaw("NOT HTTP AT ALL\r\n\r\n");
    Response response = client.Read();
    EXPECT_EQ(response.result_int(), 400);
    EXPECT_NE(response.body().find("bad_request"), std::string::npos);
  }
  Client client(port_);
  EXPECT_EQ(client.Get().body(), "a");
  WaitUntilIdle();
  EXPECT_EQ(TargetsById()["a"].served, 1u);
}

TEST_F(LoadBalancerTest, PostBodyReachesTargetAndIdleClientIsClosed) {
  StartBalancer({.idle_timeout_ms = 100});
  Register("a", backends_.AddHttp("a"));
  Client client(port_);
  http::request<http::string_body> request(http::verb::post, "/", 11);
  request.body() = std::string(10'000, 'y');
  EXPECT_EQ(client.Send(request).body(), "a");
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.SeesClose());
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(80));
}

TEST_F(LoadBalancerTest, StopClosesConnectionsAndCompletesDrains) {
  StartBalancer();
  uint16_t slow = backends_.AddHttp("a", {.delay_ms = 2000});
  Register("a", slow);
  Client idle(port_);
  Response response;
  std::thread slow_client([&] { response = Client(port_).Get(); });
  while (backends_.Requests(slow) == 0) std::this_thread::sleep_for(milliseconds(2));
  auto drained = Drain("a");
  OnLoop([this] { lb_->Stop(); });
  ASSERT_EQ(drained.wait_for(std::chrono::seconds(1)), std::future_status::ready);
  slow_client.join();
  EXPECT_EQ(response.result_int(), 0);  // cut off
  EXPECT_TRUE(idle.SeesClose());
  Client refused(port_);
  EXPECT_EQ(refused.Get().result_int(), 0);
  EXPECT_TRUE(Targets().empty());
}

TEST_F(LoadBalancerTest, StartRejectsBadListenAddresses) {
  for (const char* listen : {"nonsense", "127.0.0.1:99999", "127.0.0.1:", "::1:80",
                             "example.com:80", ":80", "127.0.0.1:8x"}) {
    auto started = OnLoop([&] { return LoadBalancer::Start(loop_, {.listen = listen}); });
    ASSERT_FALSE(started.ok()) << listen;
    EXPECT_EQ(started.status().kind(), base::ErrorKind::kInvalidInput) << listen;
    EXPECT_EQ(started.status().message().rfind(std::string("listen address '") + listen + "': ", 0),
              0u)
        << started.status().message();
  }
}

TEST_F(LoadBalancerTest, StartReportsBindFailureAndAcceptsLocalhost) {
  StartBalancer({.listen = "localhost:0"});
  const std::string taken = "127.0.0.1:" + std::to_string(port_);
  auto started = OnLoop([&] { return LoadBalancer::Start(loop_, {.listen = taken}); });
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().kind(), base::ErrorKind::kIo);
  EXPECT_NE(started.status().message().find(taken), std::string::npos);
  auto v6 = OnLoop([&] { return LoadBalancer::Start(loop_, {.listen = "[::1]:0"}); });
  if (v6.ok()) {
    EXPECT_NE((*v6)->port(), 0);
    OnLoop([&] { v6->reset(); });
  } else {
    EXPECT_EQ(v6.status().kind(), base::ErrorKind::kIo);  // no IPv6 on this host
  }
}

}  // namespace
}  // namespace kiln::deploy::lb_test
