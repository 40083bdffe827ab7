// One client connection of the HTTP server (internal to http_server.cc and http_exchange.cc).
// Loop-affine: every member runs on the server's loop.
#pragma once

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "server/http_server.h"

namespace kiln::server {

// What a connection needs of its server.
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  virtual boost::asio::io_context& loop() = 0;
  virtual const HttpServerOptions& options() const = 0;
  virtual HeadDecision Check(const RequestHead& head, const std::string& remote) = 0;
  virtual void Handle(std::shared_ptr<Exchange> exchange) = 0;
  virtual const std::shared_ptr<BodyBudget>& budget() = 0;
  virtual HttpStats& mutable_stats() = 0;
  // Counts an event stream of `remote`; false when a cap is reached (nothing counted).
  virtual bool OpenStream(const std::string& remote) = 0;
  virtual void CloseStream(const std::string& remote) = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(boost::asio::ip::tcp::socket socket, ConnectionHost* host);
  ~Connection();
  void Start() { ReadHead(); }
  void Reply(Response response);
  std::shared_ptr<EventStream> StartEvents(size_t max_buffered, bool head_only);
  void QueueRaw(std::string bytes);
  void CloseNow();
  void StopAfterReply() { keep_alive_ = false; }

 private:
  void ReadHead();
  void OnHead(boost::beast::error_code ec);
  void OnBody(boost::beast::error_code ec);
  void Dispatch();
  void Fail(Response response);
  void Fail(unsigned status, const std::string& code, const std::string& message);
  bool ReserveBody(uint64_t limit);
  void WriteNext();
  void WatchPeerClose();
  void ForgetStream();
  void Linger(size_t budget);
  void Drain(size_t budget, std::shared_ptr<std::array<char, 16 * 1024>> buffer);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  ConnectionHost* host_;
  std::string remote_;
  BodyReservation reservation_;
  bool keep_alive_ = true;
  bool head_request_ = false;  // the request being answered is a HEAD: no body goes out
  bool linger_ = false;        // refused before its body: drain a little before closing
  bool closed_ = false;
  // SSE mode: raw bytes out.
  std::shared_ptr<EventStream> events_;
  bool counted_stream_ = false;
  std::deque<std::string> out_;
  bool writing_ = false;
  char peek_[64];
};

}  // namespace kiln::server
