// Kiln's HTTP/1.1 server on the one event loop (Boost.Beast): keep-alive; every request judged
// from its head before a byte of its body is read (the caller's HeadCheck: route, credential,
// limit), so an unauthorised or oversized body is never read; a budget for the bytes all
// in-flight bodies may hold together (503 beyond it); timeouts against slow clients, in
// both directions; server-sent-event streams with bounded buffers and a cap on how many are
// open, in all and per client address; HEAD answered without a body; one catch boundary
// around each request's handler (a fault is a 500, never a dead daemon).
//
// Loop affinity: HttpServer, Connection and EventStream live on the io_context they were
// started on. Exchange::Reply may be called from any thread (it posts to the loop).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kiln::server {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using RequestHead = boost::beast::http::request_header<>;

struct Response {
  unsigned status = 200;
  // Sent with every answer unless the answer sets its own: no sniffing, no framing, no
  // referrer, and a policy that lets an API answer load nothing.
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// {"error": {"code": ..., "message": ...}} with the status.
Response JsonError(unsigned status, const std::string& code, const std::string& message);

// What all in-flight request bodies may hold together. Thread-safe: reservations are released
// wherever the request that held them ends (a writer thread, the loop).
class BodyBudget {
 public:
  explicit BodyBudget(uint64_t capacity) : capacity_(capacity) {}
  // Reserves n bytes; false (nothing reserved) when that would pass the capacity.
  bool TryReserve(uint64_t n);
  void Release(uint64_t n) { used_.fetch_sub(n); }
  uint64_t used() const { return used_.load(); }

 private:
  const uint64_t capacity_;
  std::atomic<uint64_t> used_{0};
};

// Bytes of a BodyBudget held by one request; released when it is destroyed.
class BodyReservation {
 public:
  BodyReservation() = default;
  BodyReservation(std::shared_ptr<BodyBudget> budget, uint64_t bytes)
      : budget_(std::move(budget)), bytes_(bytes) {}
  BodyReservation(BodyReservation&& other) noexcept { *this = std::move(other); }
  BodyReservation& operator=(BodyReservation&& other) noexcept;
  BodyReservation(const BodyReservation&) = delete;
  BodyReservation& operator=(const BodyReservation&) = delete;
  ~BodyReservation() { Reset(); }
  void Reset();

 private:
  std::shared_ptr<BodyBudget> budget_;
  uint64_t bytes_ = 0;
};

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
           std::string remote, BodyReservation reservation)
      : connection_(std::move(connection)),
        loop_(loop),
        request_(std::move(request)),
        remote_(std::move(remote)),
        reservation_(std::move(reservation)) {}
  const Request& request() const { return request_; }
  const std::string& remote() const { return remote_; }
  // Answers the request; thread-safe; only the first call counts.
  void Reply(Response response);
  // Switches the connection to an SSE stream (status 200, text/event-stream). Loop only.
  // Over the server's stream caps the request is answered 503 instead, and for HEAD with the
  // head alone; then the stream returned is already closed.
  std::shared_ptr<EventStream> StartEvents(size_t max_buffered = 1 << 20);
  boost::asio::io_context& loop() { return loop_; }

 private:
  std::shared_ptr<Connection> connection_;
  boost::asio::io_context& loop_;
  Request request_;
  std::string remote_;
  BodyReservation reservation_;
  std::atomic<bool> replied_{false};
};

using Handler = std::function<void(std::shared_ptr<Exchange>)>;

// The verdict on a request from its head alone: refused with an answer (the body is never
// read and the connection closes), or admitted with the most body bytes it may send (0: none).
struct HeadDecision {
  uint64_t body_limit = 0;
  std::optional<Response> refusal;
};
using HeadCheck = std::function<HeadDecision(const RequestHead&, const std::string& remote)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port (port 0: any free one)
  size_t max_header_bytes = 16 * 1024;
  // The whole head within this, also the longest a keep-alive connection idles (slowloris).
  int64_t header_timeout_ms = 10'000;
  int64_t body_timeout_ms = 30'000;
  // A client that takes none of an answer's or a stream's bytes for this long is dropped.
  int64_t write_timeout_ms = 30'000;
  size_t max_connections = 4096;
  uint64_t max_inflight_body_bytes = 64ull * 1024 * 1024;
  size_t max_event_streams = 512;
  size_t max_event_streams_per_client = 32;
};

struct HttpStats {
  uint64_t connections = 0, requests = 0, refused = 0;  // refused: 4xx before a handler
  uint64_t faults = 0;                                  // handlers that threw (answered 500)
  uint64_t busy = 0;                                    // 503s: body budget or stream caps
  size_t event_streams = 0;                             // open now
  uint64_t body_bytes_held = 0;                         // reserved by in-flight bodies now
};

class HttpServer {
 public:
  static base::Result<std::unique_ptr<HttpServer>> Start(boost::asio::io_context& loop,
                                                         HttpServerOptions options, HeadCheck check,
                                                         Handler handler);
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
