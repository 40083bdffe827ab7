#include <gtest/gtest.h>

#include <string>

#include "deploy/lb_test_support.h"
#include "deploy/load_balancer.h"

namespace kiln::deploy::lb_test {
namespace {

using LoadBalancerTcpTest = LoadBalancerFixture;

constexpr LoadBalancerOptions kTcp = {.mode = LoadBalancerOptions::Mode::kTcp};

// Connects through the balancer, sends `text`, half-closes and reads until the peer closes.
std::string EchoThrough(uint16_t port, const std::string& text) {
  asio::io_context io;
  tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect(tcp::endpoint(kLocalhost, port), ec);
  if (ec) return "connect: " + ec.message();
  SetReceiveTimeout(socket);
  asio::write(socket, asio::buffer(text), ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  std::string reply;
  asio::read(socket, asio::dynamic_buffer(reply), ec);
  return ec == asio::error::eof ? reply : "read: " + ec.message();
}

TEST_F(LoadBalancerTcpTest, SplicesConnectionsToTargetsInRoundRobin) {
  StartBalancer(kTcp);
  Register("a", backends_.AddEcho("a"));
  Register("b", backends_.AddEcho("b"));
  EXPECT_EQ(EchoThrough(port_, "one"), "a:one");
  EXPECT_EQ(EchoThrough(port_, "two"), "b:two");
  EXPECT_EQ(EchoThrough(port_, std::string(100'000, 'z')), "a:" + std::string(100'000, 'z'));
  auto targets = TargetsById();
  EXPECT_EQ(targets["a"].served, 2u);
  EXPECT_EQ(targets["b"].served, 1u);
  EXPECT_EQ(Stats().requests, 3u);
}

TEST_F(LoadBalancerTcpTest, DrainWaitsForOpenConnection) {
  StartBalancer(kTcp);
  Register("a", backends_.AddEcho("a"));
  Register("b", backends_.AddEcho("b"));
  asio::io_context io;
  tcp::socket open(io);
  open.connect(tcp::endpoint(kLocalhost, port_));  // to "a", the first pick
  SetReceiveTimeout(open);
  asio::write(open, asio::buffer(std::string("held")));
  while (TargetsById()["a"].in_flight == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));

  auto drained = Drain("a");
  EXPECT_EQ(EchoThrough(port_, "new"), "b:new");
  EXPECT_EQ(EchoThrough(port_, "newer"), "b:newer");
  EXPECT_FALSE(Ready(drained));

  open.shutdown(tcp::socket::shutdown_send);
  std::string reply;
  boost::system::error_code ec;
  asio::read(open, asio::dynamic_buffer(reply), ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_EQ(reply, "a:held");
  ASSERT_EQ(drained.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(TargetsById().count("a"), 0u);
}

TEST_F(LoadBalancerTcpTest, RefusedTargetIsSkippedAndNoTargetClosesConnection) {
  StartBalancer(kTcp);
  {
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(kLocalhost, port_));
    SetReceiveTimeout(socket);
    char byte;
    boost::system::error_code ec;
    socket.read_some(asio::buffer(&byte, 1), ec);
    EXPECT_EQ(ec, asio::error::eof);  // closed at once
  }
  asio::io_context io;
  uint16_t closed = tcp::acceptor(io, tcp::endpoint(kLocalhost, 0)).local_endpoint().port();
  Register("dead", closed);
  Register("a", backends_.AddEcho("a"));
  EXPECT_EQ(EchoThrough(port_, "x"), "a:x");
  auto stats = Stats();
  EXPECT_EQ(stats.no_target, 1u);
  EXPECT_EQ(stats.retried, 1u);
}

}  // namespace
}  // namespace kiln::deploy::lb_test
