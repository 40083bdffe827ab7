// Test helpers for the load balancer: backends on their own thread (tiny HTTP servers that
// answer their name, TCP echo servers), a blocking HTTP client, and a fixture running the
// balancer's loop on a thread.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "deploy/load_balancer.h"

namespace kiln::deploy::lb_test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Response = http::response<http::string_body>;

inline const asio::ip::address kLocalhost = asio::ip::make_address("127.0.0.1");

// A blocking socket read never hangs a test: it fails after 10 s.
inline void SetReceiveTimeout(tcp::socket& socket) {
  timeval tv{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

struct BackendOptions {
  int delay_ms = 0;                   // before answering
  bool close_after_response = false;  // drops keep-alive connections without saying so
  // Added to every response as they are (hop-by-hop ones included), after its framing.
  std::vector<std::pair<std::string, std::string>> extra_headers = {};
};

// Servers on one thread of their own. HTTP ones answer every request 200 with their name as
// the body and what they saw: the X-Forwarded-* headers, every header name (X-Seen-Headers,
// lower-case, comma-separated) and a short body (X-Seen-Body); echo ones answer
// "<name>:<all bytes>" when the client half-closes.
class Backends {
 public:
  Backends() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~Backends() {
    io_.stop();
    thread_.join();
  }

  uint16_t AddHttp(const std::string& name, BackendOptions options = {}) {
    return Add(name, options, /*echo=*/false);
  }
  uint16_t AddEcho(const std::string& name) { return Add(name, {}, /*echo=*/true); }
  // Closes the listener and its connections: later connections are refused.
  void Shut(uint16_t port) {
    Server* server = Find(port);
    asio::post(io_, [server] { server->Shut(); });
  }
  int Requests(uint16_t port) { return Find(port)->requests; }
  int Responses(uint16_t port) { return Find(port)->responses; }
  int Accepted(uint16_t port) { return Find(port)->accepted; }

 private:
  struct Server;
  struct Connection : std::enable_shared_from_this<Connection> {
    Connection(Server* s, tcp::socket sock)
        : server(s), socket(std::move(sock)), timer(socket.get_executor()) {}
    void ReadRequest();
    void Respond();
    void ReadEcho();
    Server* server;
    tcp::socket socket;
    asio::steady_timer timer;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    Response response;
    std::string echoed;
    std::array<char, 4096> chunk;
  };
  struct Server {
    Server(asio::io_context& io) : acceptor(io) {}
    void Accept();
    void Shut() {
      boost::system::error_code ec;
      acceptor.close(ec);
      for (auto& weak : connections) {
        if (auto c = weak.lock()) c->socket.close(ec);
      }
    }
    std::string name;
    BackendOptions options;
    bool echo = false;
    tcp::acceptor acceptor;
    std::vector<std::weak_ptr<Connection>> connections;
    std::atomic<int> requests{0}, responses{0}, accepted{0};
  };

  uint16_t Add(const std::string& name, BackendOptions options, bool echo) {
    auto server = std::make_unique<Server>(io_);
    server->name = name;
    server->options = options;
    server->echo = echo;
    tcp::endpoint endpoint(kLocalhost, 0);
    server->acceptor.open(endpoint.protocol());
    server->acceptor.bind(endpoint);
    server->acceptor.listen();
    uint16_t port = server->acceptor.local_endpoint().port();
    Server* raw = server.get();
    {
      // A shut server's port may be handed out again: the newest server owns it.
      std::lock_guard lock(mutex_);
      by_port_[port] = raw;
      servers_.push_back(std::move(server));
    }
    asio::post(io_, [raw] { raw->Accept(); });
    return port;
  }
  Server* Find(uint16_t port) {
    std::lock_guard lock(mutex_);
    return by_port_.at(port);
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Server>> servers_;  // kept until the end: handlers point to them
  std::map<uint16_t, Server*> by_port_;
  std::thread thread_;
};

inline void Backends::Server::Accept() {
  acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) return;
    ++accepted;
    auto connection = std::make_shared<Connection>(this, std::move(socket));
    connections.push_back(connection);
    echo ? connection->ReadEcho() : connection->ReadRequest();
    Accept();
  });
}

inline void Backends::Connection::ReadRequest() {
  request = {};
  http::async_read(
      socket, buffer, request, [self = shared_from_this()](boost::system::error_code ec, size_t) {
        if (ec) return;
        ++self->server->requests;
        if (self->server->options.delay_ms == 0) return self->Respond();
        self->timer.expires_after(std::chrono::milliseconds(self->server->options.delay_ms));
        self->timer.async_wait([self](boost::system::error_code) { self->Respond(); });
      });
}

inline void Backends::Connection::Respond() {
  response = {};
  response.result(http::status::ok);
  response.version(11);
  response.set("X-Seen-Forwarded-For", request["X-Forwarded-For"]);
  response.set("X-Seen-Forwarded-Proto", request["X-Forwarded-Proto"]);
  std::string seen;
  for (const auto& field : request) {
    if (!seen.empty()) seen += ',';
    for (char c : field.name_string()) seen += static_cast<char>(std::tolower(c));
  }
  response.set("X-Seen-Headers", seen);
  if (request.body().size() <= 256) response.set("X-Seen-Body", request.body());
  response.body() = server->name;
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  for (const auto& [name, value] : server->options.extra_headers) response.insert(name, value);
  http::async_write(
      socket, response, [self = shared_from_this()](boost::system::error_code ec, size_t) {
        ++self->server->responses;
        if (ec || self->server->options.close_after_response || !self->request.keep_alive()) {
          self->socket.close(ec);
          return;
        }
        self->ReadRequest();
      });
}

inline void Backends::Connection::ReadEcho() {
  socket.async_read_some(
      asio::buffer(chunk), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
        if (!ec) {
          self->echoed.append(self->chunk.data(), n);
          return self->ReadEcho();
        }
        if (ec != asio::error::eof) return;
        auto reply = std::make_shared<std::string>(self->server->name + ":" + self->echoed);
        asio::async_write(self->socket, asio::buffer(*reply),
                          [self, reply](boost::system::error_code, size_t) {
                            boost::system::error_code ignored;
                            self->socket.close(ignored);
                          });
      });
}

// A response standing for a failed exchange (a default one says 200).
inline Response Failed() {
  Response response;
  response.result(0u);
  return response;
}

// A blocking HTTP client on one connection; failures come back as status 0, never throw.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(io_) {
    boost::system::error_code ec;
    socket_.connect(tcp::endpoint(kLocalhost, port), ec);
    SetReceiveTimeout(socket_);
  }

  Response Send(http::request<http::string_body> request) {
    request.prepare_payload();
    boost::system::error_code ec;
    http::write(socket_, request, ec);
    return ec ? Failed() : Read();
  }
  Response Get(const std::string& target = "/", unsigned version = 11) {
    http::request<http::string_body> request(http::verb::get, target, version);
    request.set(http::field::host, "test");
    return Send(std::move(request));
  }
  void WriteRaw(const std::string& bytes) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(bytes), ec);
  }
  Response Read() {
    Response response;
    boost::system::error_code ec;
    http::read(socket_, buffer_, response, ec);
    if (ec) return Failed();
    return response;
  }
  // True when the peer closed the connection (read gives end of file).
  bool SeesClose() {
    char byte;
    boost::system::error_code ec;
    socket_.read_some(asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
  tcp::socket& socket() { return socket_; }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

// Runs the balancer's loop on a thread; tests talk to it through OnLoop.
class LoadBalancerFixture : public ::testing::Test {
 protected:
  LoadBalancerFixture()
      : work_(asio::make_work_guard(loop_)), thread_([this] {
          loop_.run();
          loop_done_.set_value();
        }) {}
  ~LoadBalancerFixture() override {
    OnLoop([this] { lb_.reset(); });
    work_.reset();
    // After Stop nothing may keep the loop busy: every connection and timer must be gone.
    auto done = loop_done_.get_future();
    if (done.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      ADD_FAILURE() << "the loop still had work 5 s after Stop";
      loop_.stop();
    }
    thread_.join();
  }

  template <typename F>
  auto OnLoop(F f) -> decltype(f()) {
    using R = decltype(f());
    auto task = std::make_shared<std::packaged_task<R()>>(std::move(f));
    asio::post(loop_, [task] { (*task)(); });
    return task->get_future().get();
  }

  void StartBalancer(LoadBalancerOptions options = {}) {
    lb_ = OnLoop([&]() -> std::unique_ptr<LoadBalancer> {
      auto started = LoadBalancer::Start(loop_, options);
      if (!started.ok()) {
        ADD_FAILURE() << started.status().message();
        return nullptr;
      }
      return std::move(started).value();
    });
    ASSERT_NE(lb_, nullptr);
    port_ = OnLoop([this] { return lb_->port(); });
  }
  void Register(const std::string& id, uint16_t port) {
    OnLoop([&] { lb_->Register(id, "127.0.0.1", port); });
  }
  // The future is ready once on_drained was called.
  std::shared_future<void> Drain(const std::string& id) {
    auto drained = std::make_shared<std::promise<void>>();
    std::shared_future<void> future = drained->get_future().share();
    OnLoop([&] { lb_->Drain(id, [drained] { drained->set_value(); }); });
    return future;
  }
  std::vector<TargetInfo> Targets() {
    return OnLoop([this] { return lb_->Targets(); });
  }
  std::map<std::string, TargetInfo> TargetsById() {
    std::map<std::string, TargetInfo> by_id;
    for (auto& info : Targets()) by_id[info.id] = info;
    return by_id;
  }
  // A client can read a response before the balancer's write handler has run: wait until
  // the balancer has accounted for every request.
  void WaitUntilIdle() {
    auto busy = [this] {
      for (auto& info : Targets()) {
        if (info.in_flight != 0) return true;
      }
      return false;
    };
    for (int i = 0; i < 2000 && busy(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  LoadBalancerStats Stats() {
    return OnLoop([this] { return lb_->Stats(); });
  }

  asio::io_context loop_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::promise<void> loop_done_;
  std::thread thread_;
  std::unique_ptr<LoadBalancer> lb_;
  uint16_t port_ = 0;
  Backends backends_;  // destroyed after the destructor has stopped the balancer
};

inline bool Ready(const std::shared_future<void>& future) {
  return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

}  // namespace kiln::deploy::lb_test
