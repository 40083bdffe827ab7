#include "server/http_server.h"

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <limits>
#include <map>

#include "base/json_text.h"
#include "server/http_connection.h"

namespace kiln::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kLingerBytes = 1024 * 1024;

// Sent with every answer that does not set its own (the page sets a policy for its assets).
constexpr std::pair<const char*, const char*> kSecurityHeaders[] = {
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
    {"Cache-Control", "no-store"},
};

template <typename Message>
void SetHeaders(Message& res, const Response& r) {
  res.version(11);
  res.result(r.status);
  res.set(bhttp::field::server, "kiln");
  for (const auto& [k, v] : kSecurityHeaders) res.set(k, v);
  if (!r.content_type.empty()) res.set(bhttp::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res.set(k, v);
}

}  // namespace

Response JsonError(unsigned status, const std::string& code, const std::string& message) {
  Response r;
  r.status = status;
  r.body = base::JsonText(nlohmann::json{{"error", {{"code", code}, {"message", message}}}});
  return r;
}

base::Result<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return base::InvalidInput("listen address '" + text + "': expected host:port");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) {
      return base::InvalidInput("listen address '" + text + "': bad port");
    }
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return base::InvalidInput("listen address '" + text + "': bad port");
  if (host == "localhost" || host.empty()) host = "127.0.0.1";
  return std::make_pair(host, static_cast<uint16_t>(port));
}

class ServerImpl : public HttpServer, public ConnectionHost {
 public:
  ServerImpl(asio::io_context& loop, HttpServerOptions options, HeadCheck check, Handler handler)
      : loop_(loop),
        options_(std::move(options)),
        check_(std::move(check)),
        handler_(std::move(handler)),
        budget_(std::make_shared<BodyBudget>(options_.max_inflight_body_bytes)),
        acceptor_(loop),
        backoff_(loop) {}

  base::Status Listen() {
    auto hp = ParseHostPort(options_.listen);
    if (!hp.ok()) return hp.status();
    beast::error_code ec;
    auto addr = asio::ip::make_address(hp->first, ec);
    if (ec) return base::InvalidInput("listen address '" + options_.listen + "': bad host");
    tcp::endpoint ep(addr, hp->second);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return base::Status(base::ErrorKind::kIo,
                          "cannot listen on " + options_.listen + ": " + ec.message());
    }
    host_ = hp->first;
    port_ = acceptor_.local_endpoint().port();
    Accept();
    return base::Status::Ok();
  }

  uint16_t port() const override { return port_; }
  std::string address() const override {
    return (host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_) + ":" +
           std::to_string(port_);
  }
  HttpStats stats() const override {
    HttpStats s = stats_;
    s.event_streams = streams_;
    s.body_bytes_held = budget_->used();
    return s;
  }
  void StopAccepting() override {
    beast::error_code ec;
    acceptor_.close(ec);
    backoff_.cancel();
    for (auto& weak : live_) {
      if (auto c = weak.lock()) c->StopAfterReply();
    }
  }
  void CloseAll() override {
    StopAccepting();
    auto live = live_;
    for (auto& weak : live) {
      if (auto c = weak.lock()) c->CloseNow();
    }
  }

  // ConnectionHost
  asio::io_context& loop() override { return loop_; }
  const HttpServerOptions& options() const override { return options_; }
  HeadDecision Check(const RequestHead& head, const std::string& remote) override {
    return check_(head, remote);
  }
  void Handle(std::shared_ptr<Exchange> exchange) override;
  const std::shared_ptr<BodyBudget>& budget() override { return budget_; }
  HttpStats& mutable_stats() override { return stats_; }
  bool OpenStream(const std::string& remote) override {
    int& mine = streams_by_client_[remote];
    if (streams_ >= options_.max_event_streams ||
        static_cast<size_t>(mine) >= options_.max_event_streams_per_client) {
      if (mine == 0) streams_by_client_.erase(remote);
      return false;
    }
    ++mine;
    ++streams_;
    return true;
  }
  void CloseStream(const std::string& remote) override {
    auto it = streams_by_client_.find(remote);
    if (it != streams_by_client_.end() && --it->second <= 0) streams_by_client_.erase(it);
    if (streams_ > 0) --streams_;
  }

 private:
  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) return AcceptLater(ec);
      Prune();
      if (live_.size() >= options_.max_connections) {
        ++stats_.refused;  // closing it is the answer: the client sees a reset
      } else {
        socket.set_option(tcp::no_delay(true), ec);
        auto c = std::make_shared<Connection>(std::move(socket), this);
        live_.push_back(c);
        ++stats_.connections;
        c->Start();
      }
      Accept();
    });
  }

  // Out of file descriptors (EMFILE) or the like: accepting again at once would spin. Wait a
  // little; connections closing meanwhile free descriptors.
  void AcceptLater(const beast::error_code& ec) {
    std::fprintf(stderr, "kiln serve: accept failed: %s (retrying in 100 ms)\n",
                 ec.message().c_str());
    backoff_.expires_after(std::chrono::milliseconds(100));
    backoff_.async_wait([this](beast::error_code e) {
      if (!e && acceptor_.is_open()) Accept();
    });
  }

  void Prune() {
    if (live_.size() < 64 || ++prune_tick_ % 64 != 0) return;
    std::erase_if(live_, [](const auto& w) { return w.expired(); });
  }

  asio::io_context& loop_;
  HttpServerOptions options_;
  HeadCheck check_;
  Handler handler_;
  std::shared_ptr<BodyBudget> budget_;
  tcp::acceptor acceptor_;
  asio::steady_timer backoff_;
  std::string host_;
  uint16_t port_ = 0;
  HttpStats stats_;
  size_t streams_ = 0;
  std::map<std::string, int> streams_by_client_;
  std::vector<std::weak_ptr<Connection>> live_;
  uint64_t prune_tick_ = 0;
};

// The catch boundary of every request: whatever a handler throws becomes a 500 with a JSON
// error and one log line; the loop and the other requests go on.
void ServerImpl::Handle(std::shared_ptr<Exchange> exchange) {
  try {
    handler_(exchange);
  } catch (const std::exception& e) {
    ++stats_.faults;
    std::fprintf(stderr, "kiln serve: internal error answering %s: %s\n",
                 std::string(exchange->request().target().substr(0, 200)).c_str(), e.what());
    exchange->Reply(JsonError(500, "internal", "internal error; the server logged it"));
  } catch (...) {
    ++stats_.faults;
    std::fprintf(stderr, "kiln serve: internal error answering a request\n");
    exchange->Reply(JsonError(500, "internal", "internal error; the server logged it"));
  }
}

Connection::Connection(tcp::socket socket, ConnectionHost* host)
    : stream_(std::move(socket)), host_(host) {
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string();
}

// Not ForgetStream() here: a connection in stream mode always has a read pending that ends in
// CloseNow(); one destroyed with the loop may outlive its server.
Connection::~Connection() {
  if (events_) events_->MarkClosed();
}

void Connection::ReadHead() {
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(host_->options().max_header_bytes));
  // The route's limit is applied once the head is read. (Not boost::none: Beast 1.74 compares
  // a Content-Length with an empty optional as if the limit were 0.)
  parser_->body_limit(std::numeric_limits<uint64_t>::max());
  head_request_ = false;
  stream_.expires_after(std::chrono::milliseconds(host_->options().header_timeout_ms));
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHead(ec); });
}

void Connection::OnHead(beast::error_code ec) {
  if (ec == bhttp::error::header_limit) {
    return Fail(431, "header_too_large",
                "request header fields exceed " +
                    std::to_string(host_->options().max_header_bytes) + " bytes");
  }
  if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
      ec == asio::error::eof) {
    return CloseNow();
  }
  if (ec) return Fail(400, "bad_request", "malformed HTTP request: " + ec.message());
  head_request_ = parser_->get().method() == bhttp::verb::head;
  HeadDecision decision = host_->Check(parser_->get().base(), remote_);
  if (decision.refusal) return Fail(std::move(*decision.refusal));
  auto length = parser_->content_length();
  if (length && *length > decision.body_limit) {
    return Fail(413, "payload_too_large",
                "request body of " + std::to_string(*length) + " bytes exceeds the limit of " +
                    std::to_string(decision.body_limit));
  }
  if (!ReserveBody(decision.body_limit)) return;
  parser_->body_limit(decision.body_limit);
  if (parser_->is_done()) return Dispatch();
  stream_.expires_after(std::chrono::milliseconds(host_->options().body_timeout_ms));
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

// Holds the body's bytes against the budget of all in-flight bodies: its Content-Length, or
// the whole limit for a chunked body (its size is unknown until read).
bool Connection::ReserveBody(uint64_t limit) {
  auto length = parser_->content_length();
  uint64_t need = length ? *length : (parser_->chunked() ? limit : 0);
  if (need == 0) return true;
  if (!host_->budget()->TryReserve(need)) {
    ++host_->mutable_stats().busy;
    Response busy =
        JsonError(503, "busy", "the server is reading too many request bodies; retry shortly");
    busy.headers.emplace_back("Retry-After", "1");
    Fail(std::move(busy));
    return false;
  }
  reservation_ = BodyReservation(host_->budget(), need);
  return true;
}

void Connection::OnBody(beast::error_code ec) {
  if (ec == bhttp::error::body_limit) {
    return Fail(413, "payload_too_large", "request body exceeds the limit");
  }
  if (ec == beast::error::timeout) return Fail(408, "timeout", "request body too slow");
  if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream) {
    reservation_.Reset();
    return CloseNow();  // truncated body: the client is gone
  }
  if (ec) return Fail(400, "bad_request", "malformed request body: " + ec.message());
  Dispatch();
}

void Connection::Dispatch() {
  stream_.expires_never();
  Request request = parser_->release();
  keep_alive_ = keep_alive_ && request.keep_alive();
  ++host_->mutable_stats().requests;
  auto exchange = std::make_shared<Exchange>(shared_from_this(), host_->loop(), std::move(request),
                                             remote_, std::move(reservation_));
  host_->Handle(std::move(exchange));
}

// Refused before the body was read: the connection closes after the answer, since what is
// left of the request on it cannot be told from the next one.
void Connection::Fail(Response response) {
  ++host_->mutable_stats().refused;
  keep_alive_ = false;
  linger_ = true;
  reservation_.Reset();
  Reply(std::move(response));
}

void Connection::Fail(unsigned status, const std::string& code, const std::string& message) {
  Fail(JsonError(status, code, message));
}

void Connection::Reply(Response r) {
  if (closed_) return;
  stream_.expires_after(std::chrono::milliseconds(host_->options().write_timeout_ms));
  auto done = [self = shared_from_this()](beast::error_code ec, size_t) {
    if (!ec && self->linger_) return self->Linger(kLingerBytes);
    if (ec || !self->keep_alive_) return self->CloseNow();
    self->ReadHead();
  };
  if (head_request_) {  // RFC 9110 9.3.2: the head of the GET answer, without its content
    auto res = std::make_shared<bhttp::response<bhttp::empty_body>>();
    SetHeaders(*res, r);
    res->content_length(r.body.size());
    res->keep_alive(keep_alive_);
    bhttp::async_write(stream_, *res, [res, done](beast::error_code ec, size_t n) { done(ec, n); });
    return;
  }
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
  SetHeaders(*res, r);
  res->body() = std::move(r.body);
  res->keep_alive(keep_alive_);
  res->prepare_payload();
  bhttp::async_write(stream_, *res, [res, done](beast::error_code ec, size_t n) { done(ec, n); });
}

// After a refusal the client may still be sending the body it announced; closing at once
// would reset the connection and could discard the answer before the client reads it. So the
// sending side is shut and what arrives is read and dropped, up to a budget or a second.
void Connection::Linger(size_t budget) {
  linger_ = false;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return CloseNow();
  stream_.expires_after(std::chrono::seconds(1));
  Drain(budget, std::make_shared<std::array<char, 16 * 1024>>());
}

void Connection::Drain(size_t budget, std::shared_ptr<std::array<char, 16 * 1024>> buffer) {
  stream_.async_read_some(asio::buffer(*buffer), [self = shared_from_this(), buffer, budget](
                                                     beast::error_code e, size_t n) {
    if (e || n >= budget) return self->CloseNow();
    self->Drain(budget - n, buffer);
  });
}

void Connection::CloseNow() {
  if (closed_) return;
  closed_ = true;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
  ForgetStream();
  if (events_) events_->MarkClosed();
}

void Connection::ForgetStream() {
  if (!counted_stream_) return;
  counted_stream_ = false;
  host_->CloseStream(remote_);
}

base::Result<std::unique_ptr<HttpServer>> HttpServer::Start(asio::io_context& loop,
                                                            HttpServerOptions options,
                                                            HeadCheck check, Handler handler) {
  auto server =
      std::make_unique<ServerImpl>(loop, std::move(options), std::move(check), std::move(handler));
  if (auto st = server->Listen(); !st.ok()) return st;
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace kiln::server
