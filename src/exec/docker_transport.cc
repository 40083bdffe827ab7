#include "exec/docker_transport.h"

#include <sys/socket.h>

#include <limits>

namespace kiln::exec {

namespace {
constexpr uint32_t kMaxHeadBytes = 64 * 1024;
constexpr size_t kChunk = 64 * 1024;
}  // namespace

base::Status EngineConnection::TransportError(const char* what,
                                              const boost::system::error_code& ec) {
  return {base::ErrorKind::kIo, std::string("docker: ") + what + ": " + ec.message()};
}

base::Result<std::unique_ptr<EngineConnection>> EngineConnection::Open(
    const std::string& socket_path) {
  std::unique_ptr<EngineConnection> c(new EngineConnection());
  boost::system::error_code ec;
  c->socket_.connect(boost::asio::local::stream_protocol::endpoint(socket_path), ec);
  if (ec) {
    return base::Status(base::ErrorKind::kIo,
                        "docker: cannot connect to " + socket_path + ": " + ec.message());
  }
  return c;
}

base::Result<EngineHead> EngineConnection::ReadHead() {
  parser_.emplace();
  parser_->header_limit(kMaxHeadBytes);
  // The body is streamed to a sink, never held whole here: no total limit.
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  boost::system::error_code ec;
  http::read_header(socket_, buffer_, *parser_, ec);
  if (ec) return TransportError("read answer", ec);
  const auto& head = parser_->get();
  EngineHead out{.status = static_cast<int>(head.result_int())};
  if (auto it = head.find("Api-Version"); it != head.end())
    out.api_version = std::string(it->value());
  return out;
}

base::Status EngineConnection::ReadBody(const BytesSink& sink) {
  if (!parser_) return base::Internal("docker: ReadBody before ReadHead");
  char chunk[kChunk];
  while (!parser_->is_done()) {
    parser_->get().body().data = chunk;
    parser_->get().body().size = sizeof chunk;
    boost::system::error_code ec;
    // read_some, not read: read would wait for the whole chunk buffer to fill, holding back a
    // stream's lines (events, progress) until 64 KiB have come.
    http::read_some(socket_, buffer_, *parser_, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return TransportError("read body", ec);
    size_t n = sizeof chunk - parser_->get().body().size;
    if (n == 0) continue;
    if (auto st = sink(std::string_view(chunk, n)); !st.ok()) return st;
  }
  return base::Status::Ok();
}

base::Result<std::string> EngineConnection::ReadBodyUpTo(size_t limit) {
  std::string body;
  auto st = ReadBody([&](std::string_view bytes) {
    if (body.size() + bytes.size() > limit) {
      return base::Status(base::ErrorKind::kFailed,
                          "docker: answer larger than " + std::to_string(limit) + " bytes");
    }
    body.append(bytes);
    return base::Status::Ok();
  });
  if (!st.ok()) return st;
  return body;
}

std::string EngineConnection::TakeLeftover() {
  auto data = buffer_.data();
  std::string out(static_cast<const char*>(data.data()), data.size());
  buffer_.consume(buffer_.size());
  return out;
}

base::Result<size_t> EngineConnection::ReadSome(char* data, size_t size) {
  boost::system::error_code ec;
  size_t n = socket_.read_some(boost::asio::buffer(data, size), ec);
  if (ec == boost::asio::error::eof) return size_t{0};
  if (ec) return TransportError("read stream", ec);
  return n;
}

base::Status EngineConnection::WriteAll(std::string_view bytes) {
  boost::system::error_code ec;
  boost::asio::write(socket_, boost::asio::buffer(bytes.data(), bytes.size()), ec);
  return ec ? TransportError("write stream", ec) : base::Status::Ok();
}

base::Status EngineConnection::ShutdownSend() {
  boost::system::error_code ec;
  socket_.shutdown(boost::asio::socket_base::shutdown_send, ec);
  return ec ? TransportError("close stdin", ec) : base::Status::Ok();
}

void EngineConnection::Abort() {
  // shutdown(2) on the descriptor is safe while another thread is blocked in a read on it.
  ::shutdown(socket_.native_handle(), SHUT_RDWR);
}

}  // namespace kiln::exec
