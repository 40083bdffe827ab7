// The HTTP health check against targets that answer garbage: a failed check soon, never a
// crash, an endless read or a spinning loop.
#include "deploy/health_probe.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

namespace kiln::deploy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::steady_clock;

// A target on its own thread: accepts one connection, reads a little, sends `answer`, then
// closes it (or keeps it open until the test ends).
class RawTarget {
 public:
  RawTarget(std::string answer, bool close)
      : acceptor_(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
        thread_([this, answer = std::move(answer), close] { Serve(answer, close); }) {}
  ~RawTarget() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  void Serve(const std::string& answer, bool close) {
    boost::system::error_code ec;
    tcp::socket socket(io_);
    acceptor_.accept(socket, ec);
    if (ec) return;
    char request[512];
    socket.read_some(asio::buffer(request), ec);
    asio::write(socket, asio::buffer(answer), ec);
    if (close) return;
    socket.read_some(asio::buffer(request), ec);  // until the probe closes
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

struct Outcome {
  ProbeResult result;
  std::chrono::milliseconds took;
};

Outcome Probe(const RawTarget& target, const std::string& matcher = "200") {
  asio::io_context loop;
  std::optional<ProbeResult> result;
  BalancerHealthCheck check{.path = "/h", .matcher = matcher, .timeout_ms = 3000};
  auto start = steady_clock::now();
  ProbeHttp(loop, target.port(), check, [&](ProbeResult r) { result = std::move(r); });
  loop.run_for(std::chrono::seconds(6));  // returns early only once no handler is left
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - start);
  EXPECT_TRUE(loop.stopped()) << "handlers still running after the probe ended";
  return {result.value_or(ProbeResult{false, "no result"}), took};
}

TEST(HealthProbeTest, GarbageWithoutHeaderEndFailsAtOnceWhenTheTargetCloses) {
  RawTarget target("garbage, no HTTP here\r\n", /*close=*/true);
  Outcome outcome = Probe(target);
  EXPECT_FALSE(outcome.result.ok);
  EXPECT_EQ(outcome.result.detail, "GET /h: no HTTP response");
  EXPECT_LT(outcome.took, std::chrono::milliseconds(2000));
}

TEST(HealthProbeTest, EndlessHeaderStopsAt64KiB) {
  RawTarget target("HTTP/1.1 200 OK\r\nX-Big: " + std::string(200'000, 'x'), /*close=*/false);
  Outcome outcome = Probe(target);
  EXPECT_FALSE(outcome.result.ok);
  EXPECT_EQ(outcome.result.detail, "GET /h: no HTTP response");
  EXPECT_LT(outcome.took, std::chrono::milliseconds(2000));
}

TEST(HealthProbeTest, MalformedStatusAndLengthAreFailuresNotCrashes) {
  for (const char* answer : {"HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200",
                             "HTTP/1.1 200 OK\r\nContent-Length:",
                             "HTTP/1.1 500 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                             "HTTP/1.1 500 OK\r\nContent-Length: -5\r\n\r\nab"}) {
    RawTarget target(answer, /*close=*/true);
    Outcome outcome = Probe(target);
    EXPECT_FALSE(outcome.result.ok) << answer;
    EXPECT_LT(outcome.took, std::chrono::milliseconds(2000)) << answer;
  }
}

TEST(HealthProbeTest, WellFormedAnswerPasses) {
  RawTarget target("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", /*close=*/false);
  Outcome outcome = Probe(target);
  EXPECT_TRUE(outcome.result.ok) << outcome.result.detail;
  EXPECT_EQ(outcome.result.detail, "GET /h answered 200");
}

}  // namespace
}  // namespace kiln::deploy
