// One HTTP/1.1 connection to the Docker engine's unix socket, with Beast. Internal to the
// Docker client (docker_client.cc, docker_attach.cc): its users see no Boost type.
// Synchronous and blocking; one thread at a time, except Abort().
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kiln::exec {

namespace http = boost::beast::http;

// One request to the engine.
struct EngineCall {
  http::verb method = http::verb::get;
  std::string target;  // the full path with its query
  std::string body;
  std::string content_type = "application/json";
  std::string body_file;  // stream the body from this file instead
  std::vector<std::pair<std::string, std::string>> headers;
  bool upgrade = false;  // attach: ask for a hijacked raw stream
};

// Ok, or the status of a failed result (for calls whose answer body is not needed).
template <typename T>
base::Status OkOr(const base::Result<T>& result) {
  return result.ok() ? base::Status::Ok() : result.status();
}

// The head of an engine answer.
struct EngineHead {
  int status = 0;
  std::string api_version;  // the Api-Version header, when sent
};

class EngineConnection {
 public:
  using BytesSink = std::function<base::Status(std::string_view)>;

  // Connects to the socket. kIo when nothing listens there.
  static base::Result<std::unique_ptr<EngineConnection>> Open(const std::string& socket_path);

  // Writes a request. kIo on a broken connection.
  template <typename Body>
  base::Status Send(http::request<Body>& request) {
    boost::system::error_code ec;
    http::write(socket_, request, ec);
    return ec ? TransportError("send", ec) : base::Status::Ok();
  }
  // Reads the answer's head. After a 101 the connection is a raw stream: the bytes already
  // read past the head are in Leftover().
  base::Result<EngineHead> ReadHead();
  // Reads the body after ReadHead, passing it on as it arrives (chunking decoded); stops at
  // the first error the sink returns.
  base::Status ReadBody(const BytesSink& sink);
  // Reads the whole body after ReadHead; kFailed when it exceeds limit bytes.
  base::Result<std::string> ReadBodyUpTo(size_t limit);

  // The raw stream after a hijack (101): bytes left in the parser's buffer, taken once.
  std::string TakeLeftover();
  // Raw reads and writes after a hijack. ReadSome returns 0 at end of stream.
  base::Result<size_t> ReadSome(char* data, size_t size);
  base::Status WriteAll(std::string_view bytes);
  base::Status ShutdownSend();
  // Unblocks a read or write in progress on another thread (shutdown(2) of both directions).
  void Abort();

  static base::Status TransportError(const char* what, const boost::system::error_code& ec);

 private:
  EngineConnection() : socket_(io_) {}

  boost::asio::io_context io_;
  boost::asio::local::stream_protocol::socket socket_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
};

}  // namespace kiln::exec
