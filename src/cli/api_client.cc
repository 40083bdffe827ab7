#include "cli/api_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>

#include "base/files.h"
#include "cli/app.h"
#include "server/local_token.h"

namespace kiln::cli {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

nlohmann::json ApiResult::Json() const { return nlohmann::json::parse(body, nullptr, false); }

std::string ServerUrl(const GlobalOptions& g) {
  if (!g.server.empty()) return g.server;
  const char* env = std::getenv("KILN_SERVER");
  return env ? env : "";
}

namespace {

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host.starts_with("127.") || host == "::1";
}

// The local operator's token that `kiln serve` keeps in the state dir (server/local_token.h),
// sent only to a loopback address on the port that server recorded it listens on: never to
// another machine, nor to another program on this one.
std::string LocalToken(const GlobalOptions& g, const std::string& host, const std::string& port) {
  if (!IsLoopbackHost(host)) return "";
  std::filesystem::path dir = StateDir(g);
  auto info = base::ReadFile(dir / server::kServerInfoFile, 4096);
  if (!info.ok()) return "";
  auto j = nlohmann::json::parse(*info, nullptr, false);
  if (!j.is_object() || !j["url"].is_string()) return "";
  std::string url = j["url"].get<std::string>();
  if (url.substr(url.rfind(':') + 1) != port) return "";
  auto token = base::ReadFile(dir / server::kLocalTokenFile, 1024);
  if (!token.ok()) return "";
  std::string t = *token;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

}  // namespace

base::Result<ApiClient> ApiClient::FromGlobal(const GlobalOptions& g) {
  ApiClient c;
  c.url_ = ServerUrl(g);
  std::string rest = c.url_;
  if (!rest.starts_with("http://")) {
    return base::InvalidInput("--server '" + c.url_ + "': expected http://HOST:PORT");
  }
  rest = rest.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos || rest.find('/') != std::string::npos) {
    return base::InvalidInput("--server '" + c.url_ + "': expected http://HOST:PORT");
  }
  c.host_ = rest.substr(0, colon);
  if (c.host_.size() > 2 && c.host_.front() == '[') c.host_ = c.host_.substr(1, c.host_.size() - 2);
  c.port_ = rest.substr(colon + 1);
  c.token_ = g.token;
  if (c.token_.empty()) {
    if (const char* t = std::getenv("KILN_TOKEN")) c.token_ = t;
  }
  if (c.token_.empty()) c.token_ = LocalToken(g, c.host_, c.port_);
  return c;
}

namespace {

base::Status Connect(const std::string& host, const std::string& port, beast::tcp_stream* s,
                     const std::string& url) {
  beast::error_code ec;
  tcp::resolver resolver(s->get_executor());
  auto results = resolver.resolve(host, port, ec);
  if (!ec) s->connect(results, ec);
  if (ec)
    return base::Status(base::ErrorKind::kIo,
                        "cannot reach the server at " + url + ": " + ec.message());
  return base::Status::Ok();
}

bhttp::request<bhttp::string_body> MakeRequest(const std::string& method, const std::string& path,
                                               const std::string& host, const std::string& token) {
  bhttp::request<bhttp::string_body> req;
  req.method_string(method);
  req.target(path);
  req.version(11);
  req.set(bhttp::field::host, host);
  req.set(bhttp::field::user_agent, "kiln-cli");
  if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
  return req;
}

// A stream the server answered with an error instead: its {"error": {...}} message (else the
// status), kInvalidInput for a 4xx.
base::Status RefusedStream(const std::string& path, beast::tcp_stream& stream,
                           beast::flat_buffer& buffer,
                           bhttp::response_parser<bhttp::empty_body>&& head) {
  bhttp::response_parser<bhttp::string_body> full(std::move(head));
  full.body_limit(64 * 1024);
  beast::error_code ec;
  bhttp::read(stream, buffer, full, ec);
  ApiResult r{.status = full.get().result_int(), .body = ec ? "" : full.get().body()};
  std::string message = ErrorMessage(r);
  if (message.starts_with("HTTP ")) message = "stream " + path + ": " + message;
  return base::Status(
      r.status >= 400 && r.status < 500 ? base::ErrorKind::kInvalidInput : base::ErrorKind::kFailed,
      message);
}

}  // namespace

base::Result<ApiResult> ApiClient::Call(const std::string& method, const std::string& path,
                                        const std::string& body) const {
  asio::io_context io;
  beast::tcp_stream stream(io);
  if (auto st = Connect(host_, port_, &stream, url_); !st.ok()) return st;
  auto req = MakeRequest(method, path, HostHeader(), token_);
  if (!body.empty() || method == "POST") {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
  }
  beast::error_code ec;
  bhttp::write(stream, req, ec);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(512ull * 1024 * 1024);
  if (!ec) bhttp::read(stream, buffer, parser, ec);
  if (ec)
    return base::Status(base::ErrorKind::kIo, "request to " + url_ + " failed: " + ec.message());
  ApiResult r;
  auto& res = parser.get();
  r.status = res.result_int();
  r.body = std::move(res.body());
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
  }
  return r;
}

base::Status ApiClient::Stream(const std::string& path, const std::string& last_event_id,
                               const std::function<bool(const SseEvent&)>& on_event) const {
  asio::io_context io;
  beast::tcp_stream stream(io);
  if (auto st = Connect(host_, port_, &stream, url_); !st.ok()) return st;
  bhttp::request<bhttp::string_body> req = MakeRequest("GET", path, HostHeader(), token_);
  req.set(bhttp::field::accept, "text/event-stream");
  if (!last_event_id.empty()) req.set("Last-Event-ID", last_event_id);
  beast::error_code ec;
  bhttp::write(stream, req, ec);
  if (ec) return base::Status(base::ErrorKind::kIo, "stream " + path + ": " + ec.message());
  // Read the head, then the body as raw bytes (the server ends it by closing).
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::empty_body> head;
  bhttp::read_header(stream, buffer, head, ec);
  if (ec) return base::Status(base::ErrorKind::kIo, "stream " + path + ": " + ec.message());
  if (head.get().result_int() != 200) return RefusedStream(path, stream, buffer, std::move(head));
  std::string pending(static_cast<const char*>(buffer.data().data()), buffer.size());
  SseEvent ev;
  char chunk[65536];
  for (;;) {
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (line.empty()) {
        if (!ev.data.empty() || !ev.event.empty()) {
          if (!ev.data.empty() && ev.data.back() == '\n') ev.data.pop_back();
          if (!on_event(ev)) return base::Status::Ok();
        }
        ev = SseEvent{};
      } else if (line.starts_with("data: ")) {
        ev.data += line.substr(6) + "\n";
      } else if (line.starts_with("id: ")) {
        ev.id = line.substr(4);
      } else if (line.starts_with("event: ")) {
        ev.event = line.substr(7);
      }
    }
    size_t n = stream.socket().read_some(asio::buffer(chunk), ec);
    if (ec) return base::Status::Ok();  // the server ended the stream
    pending.append(chunk, n);
  }
}

std::string ErrorMessage(const ApiResult& r) {
  auto j = r.Json();
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    return j["error"].value("message", "HTTP " + std::to_string(r.status));
  }
  return "HTTP " + std::to_string(r.status);
}

int ExitCodeFor(const ApiResult& r) {
  return r.status >= 400 && r.status < 500 ? kExitUsage : kExitInternal;
}

}  // namespace kiln::cli
