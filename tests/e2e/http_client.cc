#include "http_client.h"

#include <openssl/hmac.h>
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace kiln::e2e {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

HttpReply Http(uint16_t port, const std::string& method, const std::string& target,
               const std::string& body,
               const std::vector<std::pair<std::string, std::string>>& headers) {
  HttpReply out;
  asio::io_context io;
  beast::tcp_stream stream(io);
  beast::error_code ec;
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return out;
  bhttp::request<bhttp::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port));  // as clients send it
  bool typed = false;
  for (const auto& [k, v] : headers) {
    req.set(k, v);
    if (k == "Content-Type") typed = true;
  }
  if (!body.empty() && !typed) req.set(bhttp::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  bhttp::write(stream, req, ec);
  if (ec) return out;
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1ull << 30);
  bhttp::read(stream, buffer, parser, ec);
  if (ec) return out;
  out.status = parser.get().result_int();
  out.body = parser.get().body();
  for (const auto& f : parser.get()) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  return out;
}

std::string RawExchange(uint16_t port, const std::string& bytes, int timeout_ms) {
  asio::io_context io;
  tcp::socket s(io);
  beast::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return "";
  if (!bytes.empty()) asio::write(s, asio::buffer(bytes), ec);
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{s.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    ssize_t n = ::recv(s.native_handle(), buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void ReadEvents(
    uint16_t port, const std::string& target, const std::string& last_event_id,
    const std::function<bool(const std::string&, const std::string&, const std::string&)>& on_event,
    int timeout_ms) {
  std::string req =
      "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" +
      (last_event_id.empty() ? "" : "Last-Event-ID: " + last_event_id + "\r\n") + "\r\n";
  asio::io_context io;
  tcp::socket s(io);
  beast::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return;
  asio::write(s, asio::buffer(req), ec);
  std::string pending;
  bool in_body = false;
  std::string type, id, data;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{s.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    ssize_t n = ::recv(s.native_handle(), buf, sizeof buf, 0);
    if (n <= 0) return;
    pending.append(buf, static_cast<size_t>(n));
    if (!in_body) {
      size_t end = pending.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      pending.erase(0, end + 4);
      in_body = true;
    }
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (line.empty()) {
        if (!type.empty() || !data.empty()) {
          if (!data.empty()) data.pop_back();
          if (!on_event(type.empty() ? "message" : type, id, data)) return;
        }
        type.clear();
        data.clear();
      } else if (line.rfind("event: ", 0) == 0) {
        type = line.substr(7);
      } else if (line.rfind("id: ", 0) == 0) {
        id = line.substr(4);
      } else if (line.rfind("data: ", 0) == 0) {
        data += line.substr(6) + "\n";
      }
    }
  }
}

std::string SignGithub(const std::string& secret, const std::string& body) {
  unsigned char md[32];
  unsigned int n = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), md, &n);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned i = 0; i < n; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

}  // namespace kiln::e2e
