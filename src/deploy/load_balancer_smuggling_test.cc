// The HTTP balancer against request smuggling and header leaks (RFC 9112 section 6, RFC 9110
// section 7.6.1): ambiguous framing is refused before any target sees it, hop-by-hop headers
// stop at the balancer both ways, HEAD answers carry no body, and a target answering garbage
// gets the client a 502, never a crash.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "deploy/lb_test_support.h"
#include "deploy/load_balancer.h"

namespace kiln::deploy::lb_test {
namespace {

using LoadBalancerSmugglingTest = LoadBalancerFixture;

std::set<std::string> Names(const std::string& list) {
  std::set<std::string> names;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');) names.insert(name);
  return names;
}

// Reads the answer to a HEAD: the header only, whatever length it announces.
Response ReadHeadAnswer(Client& client, beast::flat_buffer& buffer) {
  http::response_parser<http::string_body> parser;
  parser.skip(true);
  boost::system::error_code ec;
  http::read(client.socket(), buffer, parser, ec);
  if (ec) return Failed();
  return parser.release();
}

Response ReadAnswer(Client& client, beast::flat_buffer& buffer) {
  Response response;
  boost::system::error_code ec;
  http::read(client.socket(), buffer, response, ec);
  return ec ? Failed() : response;
}

// A target on its own thread that answers every connection with the same raw bytes once it has
// read a request header, then closes it (so a pooled connection to it is found closed).
class RawBackend {
 public:
  explicit RawBackend(std::string answer)
      : answer_(std::move(answer)),
        acceptor_(io_, tcp::endpoint(kLocalhost, 0)),
        thread_([this] { Serve(); }) {}
  ~RawBackend() {
    stop_ = true;
    boost::system::error_code ec;
    tcp::socket wake(io_);
    wake.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  void Serve() {
    while (!stop_) {
      boost::system::error_code ec;
      tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec || stop_) return;
      SetReceiveTimeout(socket);
      std::string request;
      char chunk[4096];
      while (request.find("\r\n\r\n") == std::string::npos && !ec) {
        size_t n = socket.read_some(asio::buffer(chunk), ec);
        request.append(chunk, n);
      }
      asio::write(socket, asio::buffer(answer_), ec);
      socket.shutdown(tcp::socket::shutdown_send, ec);  // all read: a clean close, no reset
    }
  }

  std::string answer_;
  std::atomic<bool> stop_{false};
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

void ExpectRefused(Client& client, const std::string& why) {
  Response response = client.Read();
  EXPECT_EQ(response.result_int(), 400) << why;
  EXPECT_EQ(response[http::field::content_type], "application/json") << why;
  EXPECT_NE(response.body().find(R"({"error":{"code":"bad_request","message":)"), std::string::npos)
      << response.body();
  EXPECT_FALSE(response.keep_alive()) << why;
  EXPECT_TRUE(client.SeesClose()) << why;
}

TEST_F(LoadBalancerSmugglingTest, ChunkedIdentityWithContentLengthIsRefusedAndClosed) {
  StartBalancer();
  uint16_t a = backends_.AddHttp("a");
  Register("a", a);
  Client client(port_);
  // A front end trusting Content-Length sends one request; one honouring the chunked coding
  // sees a second, smuggled one.
  client.WriteRaw(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n"
      "Content-Length: 5\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
  ExpectRefused(client, "chunked, identity + Content-Length");
  EXPECT_EQ(backends_.Accepted(a), 0);
  EXPECT_EQ(backends_.Requests(a), 0);
}

TEST_F(LoadBalancerSmugglingTest, AmbiguousFramingIsRefusedBeforeAnyTargetSeesIt) {
  StartBalancer();
  uint16_t a = backends_.AddHttp("a");
  Register("a", a);
  const std::string post = "POST / HTTP/1.1\r\nHost: x\r\n";
  for (const char* headers : {
           "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
           "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding: identity\r\n",
           "Transfer-Encoding: gzip, chunked\r\n",
           "Transfer-Encoding: chunked, chunked\r\n",
           "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
           "Content-Length: 5, 6\r\n",
           "Content-Length: 5\r\nContent-Length: 6\r\n",
           "Content-Length: +5\r\n",
           "X-Folded: a\r\n b\r\nContent-Length: 5\r\n",
           "Transfer-Encoding: identity\r\n\tchunked\r\n",
           "Bad Name: x\r\nContent-Length: 5\r\n",
       }) {
    Client client(port_);
    client.WriteRaw(post + headers + "\r\n0\r\n\r\n");
    ExpectRefused(client, headers);
  }
  {
    Client client(port_);
    client.WriteRaw("POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    ExpectRefused(client, "Transfer-Encoding in HTTP/1.0");
  }
  {
    // Refusing a HEAD sends the header only, then closes.
    Client client(port_);
    client.WriteRaw("HEAD / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n");
    beast::flat_buffer buffer;
    Response response = ReadHeadAnswer(client, buffer);
    EXPECT_EQ(response.result_int(), 400);
    EXPECT_EQ(response.body(), "");
    EXPECT_EQ(buffer.size(), 0u);
    EXPECT_TRUE(client.SeesClose());
  }
  EXPECT_EQ(backends_.Accepted(a), 0);
  // The balancer goes on serving well-formed requests.
  Client client(port_);
  EXPECT_EQ(client.Get().body(), "a");
}

// Beast throws when asked to frame a TRACE with a body: that must be a 400, not an abort.
TEST_F(LoadBalancerSmugglingTest, TraceWithABodyIsRefusedNotACrash) {
  StartBalancer();
  uint16_t a = backends_.AddHttp("a");
  Register("a", a);
  Client client(port_);
  client.WriteRaw("TRACE / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  ExpectRefused(client, "TRACE with a body");
  EXPECT_EQ(backends_.Requests(a), 0);
  EXPECT_EQ(Client(port_).Get().body(), "a");
}

TEST_F(LoadBalancerSmugglingTest, PlainChunkedBodyIsReframedWithItsLength) {
  StartBalancer();
  Register("a", backends_.AddHttp("a"));
  Client client(port_);
  client.WriteRaw(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  Response response = client.Read();
  ASSERT_EQ(response.result_int(), 200);
  EXPECT_EQ(response["X-Seen-Body"], "hello world");
  std::set<std::string> seen = Names(std::string(response["X-Seen-Headers"]));
  EXPECT_TRUE(seen.contains("content-length")) << response["X-Seen-Headers"];
  EXPECT_FALSE(seen.contains("transfer-encoding")) << response["X-Seen-Headers"];
  EXPECT_TRUE(response.keep_alive());
  EXPECT_EQ(client.Get().body(), "a");  // the connection stays in step
}

TEST_F(LoadBalancerSmugglingTest, HopByHopRequestHeadersDoNotReachTheTarget) {
  StartBalancer();
  Register("a", backends_.AddHttp("a"));
  Client client(port_);
  http::request<http::string_body> request(http::verb::get, "/", 11);
  request.set(http::field::host, "x");
  request.set(http::field::connection, "keep-alive, X-Secret");
  request.set("X-Secret", "1");
  request.set(http::field::keep_alive, "timeout=5");
  request.set(http::field::te, "trailers");
  request.set(http::field::trailer, "X-T");
  request.set(http::field::upgrade, "websocket");
  request.set(http::field::proxy_authorization, "Basic eDp5");
  request.set("Proxy-Connection", "keep-alive");
  request.set("Proxy-Anything", "y");
  request.set("X-Kept", "1");
  Response response = client.Send(request);
  ASSERT_EQ(response.result_int(), 200);
  std::set<std::string> seen = Names(std::string(response["X-Seen-Headers"]));
  for (const char* hop : {"connection", "x-secret", "keep-alive", "te", "trailer", "upgrade",
                          "proxy-authorization", "proxy-connection", "proxy-anything"}) {
    EXPECT_FALSE(seen.contains(hop)) << hop << " reached the target";
  }
  EXPECT_TRUE(seen.contains("x-kept"));
  EXPECT_TRUE(seen.contains("host"));
  EXPECT_TRUE(response.keep_alive());
}

TEST_F(LoadBalancerSmugglingTest, HopByHopResponseHeadersDoNotReachTheClient) {
  StartBalancer();
  Register("a", backends_.AddHttp("a", {.extra_headers = {{"Connection", "X-Hop"},
                                                          {"X-Hop", "1"},
                                                          {"Keep-Alive", "timeout=5"},
                                                          {"Proxy-Authenticate", "Basic"},
                                                          {"Proxy-Connection", "keep-alive"},
                                                          {"Upgrade", "h2c"},
                                                          {"Trailer", "X-T"},
                                                          {"TE", "trailers"},
                                                          {"X-End", "ok"}}}));
  Client client(port_);
  Response response = client.Get();
  ASSERT_EQ(response.result_int(), 200);
  for (const char* hop : {"X-Hop", "Keep-Alive", "Proxy-Authenticate", "Proxy-Connection",
                          "Upgrade", "Trailer", "TE", "Transfer-Encoding"}) {
    EXPECT_EQ(response.count(hop), 0u) << hop << " reached the client";
  }
  EXPECT_EQ(response["Connection"], "");  // HTTP/1.1 keep-alive needs none
  EXPECT_EQ(response["X-End"], "ok");
  EXPECT_EQ(response.body(), "a");
}

TEST_F(LoadBalancerSmugglingTest, HeadAnswersCarryNoBodyAndKeepAliveStaysInStep) {
  StartBalancer();
  Register("a", backends_.AddHttp("a"));
  Client client(port_);
  // Pipelined: the GET's answer must start right where the HEAD's header ends.
  client.WriteRaw("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
  beast::flat_buffer buffer;
  Response head = ReadHeadAnswer(client, buffer);
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(head[http::field::content_length], "1");  // what a GET would get
  Response get = ReadAnswer(client, buffer);
  EXPECT_EQ(get.result_int(), 200);
  EXPECT_EQ(get.body(), "a");
  EXPECT_EQ(buffer.size(), 0u);
}

TEST_F(LoadBalancerSmugglingTest, HeadToATargetSendingABodyAnywayGetsNone) {
  StartBalancer();
  RawBackend target("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody");
  Register("raw", target.port());
  Client client(port_);
  client.WriteRaw("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
  beast::flat_buffer buffer;
  Response head = ReadHeadAnswer(client, buffer);
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(head[http::field::content_length], "4");
  Response get = ReadAnswer(client, buffer);
  EXPECT_EQ(get.result_int(), 200);
  EXPECT_EQ(get.body(), "body");
  EXPECT_EQ(buffer.size(), 0u);
}

TEST_F(LoadBalancerSmugglingTest, BalancersOwnErrorAnswersToHeadHaveHeadersOnly) {
  StartBalancer({.upstream_timeout_ms = 100});
  auto head_then_get = [this](int status) {
    Client client(port_);
    client.WriteRaw("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    beast::flat_buffer buffer;
    Response head = ReadHeadAnswer(client, buffer);
    EXPECT_EQ(head.result_int(), status);
    EXPECT_EQ(head[http::field::content_type], "application/json");
    Response get = ReadAnswer(client, buffer);
    EXPECT_EQ(get.result_int(), status);
    EXPECT_NE(get.body().find(R"({"error":)"), std::string::npos) << get.body();
    EXPECT_EQ(head[http::field::content_length], std::to_string(get.body().size()));
  };
  head_then_get(503);  // no target
  RawBackend garbage("not HTTP at all\r\n\r\n");
  Register("garbage", garbage.port());
  head_then_get(502);
  Drain("garbage").wait();
  Register("slow", backends_.AddHttp("slow", {.delay_ms = 1000}));
  head_then_get(504);
}

TEST_F(LoadBalancerSmugglingTest, MalformedTargetAnswersBecome502) {
  StartBalancer({.max_header_bytes = 4096});
  int i = 0;
  for (const std::string& answer : {
           std::string("garbage\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n"
                       "Content-Length: 3\r\n\r\nabc"),
           std::string("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
           std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxxxx"),
           std::string("HTTP/1.1 200 OK\r\nX-Big: ") + std::string(10'000, 'x') + "\r\n\r\n",
           std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n"
                       "Connection: upgrade\r\n\r\n"),
           std::string("HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
           std::string("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"),
       }) {
    RawBackend target(answer);
    const std::string id = "t" + std::to_string(++i);
    Register(id, target.port());
    Client client(port_);
    Response response = client.Get();
    EXPECT_EQ(response.result_int(), 502) << answer.substr(0, 80);
    EXPECT_EQ(response[http::field::content_type], "application/json");
    EXPECT_NE(response.body().find(R"({"error":{"code":"upstream_error","message":)"),
              std::string::npos)
        << response.body();
    Drain(id).wait();
  }
  Register("a", backends_.AddHttp("a"));
  EXPECT_EQ(Client(port_).Get().body(), "a");
}

}  // namespace
}  // namespace kiln::deploy::lb_test
