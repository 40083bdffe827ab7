// The point of the balancer: a rolling replacement of every target under load fails no request.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "deploy/lb_test_support.h"
#include "deploy/load_balancer.h"

namespace kiln::deploy::lb_test {
namespace {

using LoadBalancerRollingTest = LoadBalancerFixture;

TEST_F(LoadBalancerRollingTest, EveryRequestSucceedsWhileTargetsAreReplaced) {
  constexpr int kClients = 8;
  constexpr int kRequestsEach = 200;
  StartBalancer();
  std::vector<uint16_t> ports;
  for (int i = 0; i < 2; ++i) {
    ports.push_back(backends_.AddHttp("t" + std::to_string(i)));
    Register("t" + std::to_string(i), ports.back());
  }

  std::atomic<int> ok{0}, running{kClients};
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto client = std::make_unique<Client>(port_);
      for (int i = 0; i < kRequestsEach; ++i) {
        if (i % 50 == 49) client = std::make_unique<Client>(port_);  // some new connections
        Response response = client->Get();
        if (response.result_int() == 200 && response.body()[0] == 't') {
          ++ok;
        } else if (failures[c].empty()) {
          failures[c] = std::to_string(response.result_int()) + " " + response.body();
        }
      }
      --running;
    });
  }

  // Rolling replacement: start the next task, register it, drain the oldest, then stop it.
  int next = 2, replaced = 0;
  std::vector<std::shared_future<void>> drains;
  while (running > 0) {
    std::string id = "t" + std::to_string(next);
    ports.push_back(backends_.AddHttp(id));
    Register(id, ports.back());
    const std::string old_id = "t" + std::to_string(next - 2);
    const uint16_t old_port = ports[next - 2];
    auto drained = std::make_shared<std::promise<void>>();
    drains.push_back(drained->get_future().share());
    OnLoop([&] {
      lb_->Drain(old_id, [this, old_port, drained] {
        backends_.Shut(old_port);  // the task stops once drained
        drained->set_value();
      });
    });
    ++next;
    ++replaced;
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
  }
  for (auto& client : clients) client.join();
  for (auto& drained : drains) {
    EXPECT_EQ(drained.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  }

  for (int c = 0; c < kClients; ++c) EXPECT_EQ(failures[c], "") << "client " << c;
  EXPECT_EQ(ok, kClients * kRequestsEach);
  EXPECT_GE(replaced, 3);
  WaitUntilIdle();
  LoadBalancerStats stats = Stats();
  EXPECT_EQ(stats.requests, uint64_t{kClients * kRequestsEach});
  EXPECT_EQ(stats.upstream_errors, 0u);
  EXPECT_EQ(stats.no_target, 0u);
  EXPECT_EQ(Targets().size(), 2u);  // the last two tasks
}

}  // namespace
}  // namespace kiln::deploy::lb_test
