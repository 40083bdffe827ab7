#include "server/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <deque>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/json_text.h"

namespace kiln::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

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

class ServerImpl;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, ServerImpl* server, const HttpServerOptions& options);
  ~Connection();
  void Start() { ReadHead(); }
  void Reply(Response response);
  std::shared_ptr<EventStream> StartEvents(size_t max_buffered);
  void QueueRaw(std::string bytes);
  void CloseNow();
  void StopAfterReply() { keep_alive_ = false; }

 private:
  void ReadHead();
  void OnHead(beast::error_code ec);
  void OnBody(beast::error_code ec);
  void Dispatch();
  void Fail(unsigned status, const std::string& code, const std::string& message);
  void WriteNext();
  void WatchPeerClose();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  ServerImpl* server_;
  const HttpServerOptions& options_;
  std::string remote_;
  bool keep_alive_ = true;
  bool closed_ = false;
  // SSE mode: raw bytes out.
  std::shared_ptr<EventStream> events_;
  std::deque<std::string> out_;
  bool writing_ = false;
  char peek_[64];
};

class ServerImpl : public HttpServer {
 public:
  ServerImpl(asio::io_context& loop, HttpServerOptions options, BodyLimit limit, Handler handler)
      : loop_(loop),
        options_(std::move(options)),
        limit_(std::move(limit)),
        handler_(std::move(handler)),
        acceptor_(loop) {}

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
    Accept();
    return base::Status::Ok();
  }

  uint16_t port() const override { return acceptor_.local_endpoint().port(); }
  std::string address() const override {
    return (host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_) + ":" +
           std::to_string(port_);
  }
  HttpStats stats() const override { return stats_; }
  void StopAccepting() override {
    beast::error_code ec;
    acceptor_.close(ec);
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

  void Accept() {
    port_ = acceptor_.local_endpoint().port();
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        Prune();
        if (live_.size() >= options_.max_connections) {
          ++stats_.refused;  // closing it is the answer: the client sees a reset
        } else {
          socket.set_option(tcp::no_delay(true), ec);
          auto c = std::make_shared<Connection>(std::move(socket), this, options_);
          live_.push_back(c);
          ++stats_.connections;
          c->Start();
        }
      }
      Accept();
    });
  }

  void Prune() {
    if (live_.size() < 64 || ++prune_tick_ % 64 != 0) return;
    std::erase_if(live_, [](const auto& w) { return w.expired(); });
  }

  asio::io_context& loop_;
  HttpServerOptions options_;
  BodyLimit limit_;
  Handler handler_;
  tcp::acceptor acceptor_;
  std::string host_;
  uint16_t port_ = 0;
  HttpStats stats_;
  std::vector<std::weak_ptr<Connection>> live_;
  uint64_t prune_tick_ = 0;
};

Connection::Connection(tcp::socket socket, ServerImpl* server, const HttpServerOptions& options)
    : stream_(std::move(socket)), server_(server), options_(options) {
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string();
}

Connection::~Connection() {
  if (events_) events_->MarkClosed();
}

void Connection::ReadHead() {
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(options_.max_header_bytes));
  // The route's limit is applied once the head is read. (Not boost::none: Beast 1.74 compares
  // a Content-Length with an empty optional as if the limit were 0.)
  parser_->body_limit(std::numeric_limits<uint64_t>::max());
  stream_.expires_after(std::chrono::milliseconds(options_.header_timeout_ms));
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHead(ec); });
}

void Connection::OnHead(beast::error_code ec) {
  if (ec == bhttp::error::header_limit) {
    return Fail(
        431, "header_too_large",
        "request header fields exceed " + std::to_string(options_.max_header_bytes) + " bytes");
  }
  if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
      ec == asio::error::eof) {
    return CloseNow();
  }
  if (ec) return Fail(400, "bad_request", "malformed HTTP request: " + ec.message());
  uint64_t limit = server_->limit_(parser_->get().base());
  auto length = parser_->content_length();
  if (length && *length > limit) {
    return Fail(413, "payload_too_large",
                "request body of " + std::to_string(*length) + " bytes exceeds the limit of " +
                    std::to_string(limit));
  }
  parser_->body_limit(limit);
  if (parser_->is_done()) return Dispatch();
  stream_.expires_after(std::chrono::milliseconds(options_.body_timeout_ms));
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

void Connection::OnBody(beast::error_code ec) {
  if (ec == bhttp::error::body_limit) {
    return Fail(413, "payload_too_large", "request body exceeds the limit");
  }
  if (ec == beast::error::timeout) return Fail(408, "timeout", "request body too slow");
  if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream) {
    return CloseNow();  // truncated body: the client is gone
  }
  if (ec) return Fail(400, "bad_request", "malformed request body: " + ec.message());
  Dispatch();
}

void Connection::Dispatch() {
  stream_.expires_never();
  Request request = parser_->release();
  keep_alive_ = keep_alive_ && request.keep_alive();
  ++server_->stats_.requests;
  auto exchange =
      std::make_shared<Exchange>(shared_from_this(), server_->loop_, std::move(request), remote_);
  server_->handler_(exchange);
}

void Connection::Fail(unsigned status, const std::string& code, const std::string& message) {
  ++server_->stats_.refused;
  keep_alive_ = false;
  Reply(JsonError(status, code, message));
}

void Connection::Reply(Response r) {
  if (closed_) return;
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
  res->version(11);
  res->result(r.status);
  res->set(bhttp::field::server, "kiln");
  if (!r.content_type.empty()) res->set(bhttp::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) res->set(k, v);
  res->body() = std::move(r.body);
  res->keep_alive(keep_alive_);
  res->prepare_payload();
  stream_.expires_after(std::chrono::milliseconds(options_.body_timeout_ms));
  bhttp::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
    if (ec || !self->keep_alive_) return self->CloseNow();
    self->ReadHead();
  });
}

std::shared_ptr<EventStream> Connection::StartEvents(size_t max_buffered) {
  events_ = std::make_shared<EventStream>(weak_from_this(), max_buffered);
  stream_.expires_never();
  out_.push_back(
      "HTTP/1.1 200 OK\r\nServer: kiln\r\nContent-Type: text/event-stream\r\n"
      "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n");
  WriteNext();
  WatchPeerClose();
  return events_;
}

void Connection::WatchPeerClose() {
  stream_.socket().async_read_some(
      asio::buffer(peek_), [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return self->CloseNow();
        self->WatchPeerClose();  // a client does not send on an event stream; ignore it
      });
}

void Connection::QueueRaw(std::string bytes) {
  if (closed_) return;
  out_.push_back(std::move(bytes));
  WriteNext();
}

void Connection::WriteNext() {
  if (writing_ || closed_) return;
  if (out_.empty()) {
    if (events_ && events_->closing_) CloseNow();
    return;
  }
  writing_ = true;
  // Gather what is queued into one write: fewer syscalls for many small events.
  std::string chunk = std::move(out_.front());
  out_.pop_front();
  while (!out_.empty() && chunk.size() < 256 * 1024) {
    chunk += out_.front();
    out_.pop_front();
  }
  auto data = std::make_shared<std::string>(std::move(chunk));
  asio::async_write(stream_.socket(), asio::buffer(*data),
                    [self = shared_from_this(), data](beast::error_code ec, size_t n) {
                      self->writing_ = false;
                      if (ec) return self->CloseNow();
                      if (self->events_) self->events_->Written(n);
                      self->WriteNext();
                    });
}

void Connection::CloseNow() {
  if (closed_) return;
  closed_ = true;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
  if (events_) events_->MarkClosed();
}

bool EventStream::Send(std::string bytes) {
  if (closed_ || closing_) return false;
  auto c = connection_.lock();
  if (!c) {
    MarkClosed();
    return false;
  }
  buffered_ += bytes.size();
  c->QueueRaw(std::move(bytes));
  if (buffered_ > max_buffered_) {
    c->QueueRaw("event: dropped\ndata: {\"reason\":\"client too slow: more than " +
                std::to_string(max_buffered_) + " bytes waiting\"}\n\n");
    Close();
    return false;
  }
  return true;
}

void EventStream::Written(size_t n) {
  buffered_ = n > buffered_ ? 0 : buffered_ - n;
  if (buffered_ == 0 && on_drained_ && !closed_ && !closing_) {
    auto fn = on_drained_;
    fn();
  }
}

void EventStream::Close() {
  if (closed_ || closing_) return;
  closing_ = true;
  if (auto c = connection_.lock()) {
    c->QueueRaw("");  // wakes the writer, which closes once the queue is empty
  } else {
    MarkClosed();
  }
}

void EventStream::MarkClosed() {
  if (closed_) return;
  closed_ = true;
  on_drained_ = nullptr;
  if (auto fn = std::move(on_closed_)) {
    on_closed_ = nullptr;
    fn();
  }
}

void Exchange::Reply(Response response) {
  if (replied_.exchange(true)) return;
  asio::post(loop_, [c = std::move(connection_), r = std::move(response)]() mutable {
    c->Reply(std::move(r));
  });
}

std::shared_ptr<EventStream> Exchange::StartEvents(size_t max_buffered) {
  if (replied_.exchange(true)) {  // already answered: a stream that is closed at once
    auto dead = std::make_shared<EventStream>(std::weak_ptr<Connection>(), max_buffered);
    dead->MarkClosed();
    return dead;
  }
  auto c = std::move(connection_);
  return c->StartEvents(max_buffered);
}

base::Result<std::unique_ptr<HttpServer>> HttpServer::Start(asio::io_context& loop,
                                                            HttpServerOptions options,
                                                            BodyLimit body_limit, Handler handler) {
  auto server = std::make_unique<ServerImpl>(loop, std::move(options), std::move(body_limit),
                                             std::move(handler));
  if (auto st = server->Listen(); !st.ok()) return st;
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace kiln::server
