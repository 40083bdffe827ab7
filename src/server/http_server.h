// Kiln's HTTP/1.1 server on the one event loop (Boost.Beast): keep-alive, limits on headers
// and bodies decided from the request head (so a body over its limit is refused with 413
// before it is read), timeouts against slow clients, and server-sent-event streams with
// bounded buffers.
//
// Loop affinity: HttpServer, Connection and EventStream live on the io_context they were
// started on. Exchange::Reply may be called from any thread (it posts to the loop).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kiln::server {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using RequestHead = boost::beast::http::request_header<>;

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// {"error": {"code": ..., "message": ...}} with the status.
Response JsonError(unsigned status, const std::string& code, const std::string& message);

class Connection;

// A server-sent-event stream that replaced a connection's response. Loop-affine.
class EventStream {
 public:
  explicit EventStream(std::weak_ptr<Connection> connection, size_t max_buffered)
      : connection_(std::move(connection)), max_buffered_(max_buffered) {}
  // Queues bytes (already formatted as SSE). Returns false once closed. If more than
  // max_buffered bytes are waiting (a slow client), the stream is ended with a final
  // `event: dropped` naming the reason, and closed.
  bool Send(std::string bytes);
  size_t buffered() const { return buffered_; }
  bool closed() const { return closed_; }
  // Called (on the loop) whenever the buffer empties: pull-model producers refill here.
  void OnDrained(std::function<void()> fn) { on_drained_ = std::move(fn); }
  // Called once when the stream closes (client gone, dropped, or Close()).
  void OnClosed(std::function<void()> fn) { on_closed_ = std::move(fn); }
  // Ends the stream after what is queued has been written.
  void Close();

 private:
  friend class Connection;
  friend class Exchange;
  void Written(size_t n);
  void MarkClosed();
  std::weak_ptr<Connection> connection_;
  size_t max_buffered_;
  size_t buffered_ = 0;
  bool closed_ = false;
  bool closing_ = false;
  std::function<void()> on_drained_, on_closed_;
};

// One request being answered.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  // Holds the connection open until the reply (or the event stream) is under way.
  Exchange(std::shared_ptr<Connection> connection, boost::asio::io_context& loop, Request request,
           std::string remote)
      : connection_(std::move(connection)),
        loop_(loop),
        request_(std::move(request)),
        remote_(std::move(remote)) {}
  const Request& request() const { return request_; }
  const std::string& remote() const { return remote_; }
  // Answers the request; thread-safe; only the first call counts.
  void Reply(Response response);
  // Switches the connection to an SSE stream (status 200, text/event-stream). Loop only.
  std::shared_ptr<EventStream> StartEvents(size_t max_buffered = 1 << 20);
  boost::asio::io_context& loop() { return loop_; }

 private:
  std::shared_ptr<Connection> connection_;
  boost::asio::io_context& loop_;
  Request request_;
  std::string remote_;
  std::atomic<bool> replied_{false};
};

using Handler = std::function<void(std::shared_ptr<Exchange>)>;
// Decides a request's body limit from its head: 0 refuses any body.
using BodyLimit = std::function<uint64_t(const RequestHead&)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port (port 0: any free one)
  size_t max_header_bytes = 16 * 1024;
  // The whole head within this, also the longest a keep-alive connection idles (slowloris).
  int64_t header_timeout_ms = 10'000;
  int64_t body_timeout_ms = 30'000;
  size_t max_connections = 4096;
};

struct HttpStats {
  uint64_t connections = 0, requests = 0, refused = 0;  // refused: 4xx before a handler
};

class HttpServer {
 public:
  static base::Result<std::unique_ptr<HttpServer>> Start(boost::asio::io_context& loop,
                                                         HttpServerOptions options,
                                                         BodyLimit body_limit, Handler handler);
  virtual ~HttpServer() = default;
  virtual uint16_t port() const = 0;
  virtual std::string address() const = 0;  // "127.0.0.1:PORT"
  virtual HttpStats stats() const = 0;
  // Stops accepting; open connections finish their current request and close.
  virtual void StopAccepting() = 0;
  // Closes every connection now.
  virtual void CloseAll() = 0;
};

// "host:port" -> endpoint pieces; [::1]:80 allowed. kInvalidInput naming the text.
base::Result<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& text);

}  // namespace kiln::server
