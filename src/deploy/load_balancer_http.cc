// HTTP mode: one client keep-alive connection, its requests served one at a time (pipelined
// ones wait in the read buffer). Each request and response is buffered whole (string_body, up
// to max_body_bytes) rather than streamed: simpler retries, since the request is still at hand
// when a pooled upstream connection turns out closed. Both hops are framed by the balancer
// itself (Content-Length), and hop-by-hop headers never cross it (lb_http_rules.h).
#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/json_text.h"
#include "deploy/lb_http_rules.h"
#include "deploy/load_balancer_core.h"

namespace kiln::deploy::lb {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// How long a closing connection is read and discarded, so the kernel does not answer unread
// request bytes with a reset that destroys our last response before the client reads it.
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr size_t kLingerChunk = 4096;
constexpr size_t kHeaderChunk = 8192;
// Beast keeps a field in at most 65533 bytes and throws past that. A header no larger than
// this cannot hold such a field, even after X-Forwarded-For grows by the client's address.
constexpr size_t kMaxHeaderLimit = 65'000;

std::chrono::milliseconds Millis(int64_t ms) { return std::chrono::milliseconds(ms); }

size_t HeaderLimit(const LoadBalancerOptions& options) {
  return std::min(options.max_header_bytes, kMaxHeaderLimit);
}

bool IsParseError(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

std::string ErrorJson(std::string_view code, std::string_view message) {
  return base::JsonText(nlohmann::json{{"error", {{"code", code}, {"message", message}}}});
}

std::string_view Buffered(const beast::flat_buffer& buffer) {
  auto data = buffer.data();
  return {static_cast<const char*>(data.data()), data.size()};
}

class HttpSession : public Session, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(std::shared_ptr<LoadBalancerCore> core, tcp::socket socket)
      : core_(std::move(core)), client_(std::move(socket)) {}
  ~HttpSession() override { core_->Untrack(this); }

  void Start();
  void Close() override;

 private:
  void ReadRequest();
  void ReadHeader();
  void OnHeader(size_t size);
  void OnRequest(beast::error_code ec);
  void OnBadRequest(beast::error_code ec);
  void RefuseRequest(const std::string& why);
  void Route();
  void PrepareUpstreamRequest();
  void Attempt(bool allow_pool);
  void SendUpstream();
  void ReadUpstream();
  void OnUpstreamResponse(beast::error_code ec);
  void DropUpstream();
  void Fail(beast::error_code ec, bool retryable);
  void BadGateway(const std::string& message);
  bool SafeMethod() const {
    auto m = request_.method();
    return m == http::verb::get || m == http::verb::head || m == http::verb::options;
  }
  void ForwardResponse(bool upstream_reusable);
  void Reply(http::status status, std::string_view code, std::string_view message);
  void WriteResponse();
  void OnWritten(beast::error_code ec);
  void Linger();

  std::shared_ptr<LoadBalancerCore> core_;  // first: outlives lease_
  beast::tcp_stream client_;
  beast::flat_buffer client_buffer_;
  std::string client_address_;
  std::optional<http::request_parser<http::string_body>> request_parser_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::optional<http::response_parser<http::string_body>> response_parser_;
  std::optional<http::response_serializer<http::string_body>> header_serializer_;
  std::optional<beast::tcp_stream> upstream_;
  beast::flat_buffer upstream_buffer_;
  TargetLease lease_;
  int attempts_ = 0;
  bool upstream_reused_ = false;
  unsigned client_version_ = 11;
  bool client_keep_alive_ = false;
  bool head_ = false;
  bool closed_ = false;
};

void HttpSession::Start() {
  core_->Track(this);
  beast::error_code ec;
  auto remote = client_.socket().remote_endpoint(ec);
  if (!ec) client_address_ = remote.address().to_string();
  ReadRequest();
}

void HttpSession::Close() {
  if (closed_) return;
  closed_ = true;
  client_.close();
  if (upstream_) upstream_->close();
  lease_.Release(false);
}

void HttpSession::ReadRequest() {
  const auto& options = core_->options();
  request_parser_.emplace();
  request_parser_->header_limit(static_cast<uint32_t>(HeaderLimit(options)));
  request_parser_->body_limit(options.max_body_bytes);
  client_.expires_after(Millis(options.idle_timeout_ms));
  ReadHeader();
}

// The header is gathered whole before the parser sees it, so its raw bytes can be checked
// (the parser would quietly unfold obs-fold) and its framing judged before any body is read.
void HttpSession::ReadHeader() {
  const size_t end = Buffered(client_buffer_).find("\r\n\r\n");
  if (end != std::string_view::npos) {
    OnHeader(end + 4);
    return;
  }
  if (client_buffer_.size() > HeaderLimit(core_->options())) {
    OnBadRequest(http::error::header_limit);
    return;
  }
  client_.async_read_some(client_buffer_.prepare(kHeaderChunk),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (self->closed_) return;
                            self->client_buffer_.commit(n);
                            if (ec) {
                              self->Close();  // end of stream, idle timeout, network error
                              return;
                            }
                            self->ReadHeader();
                          });
}

void HttpSession::OnHeader(size_t size) {
  const std::string_view block = Buffered(client_buffer_).substr(0, size);
  std::optional<std::string> problem = HeaderBlockProblem(block);
  beast::error_code parse_ec;
  const size_t used = request_parser_->put(asio::buffer(block.data(), block.size()), parse_ec);
  if (parse_ec || !request_parser_->is_header_done()) {
    OnBadRequest(parse_ec ? parse_ec : beast::error_code(http::error::need_more));
    return;
  }
  client_buffer_.consume(used);
  const auto& header = request_parser_->get();
  client_version_ = header.version();
  head_ = header.method() == http::verb::head;
  if (!problem) problem = FramingProblem(header, header.version());
  if (problem) {
    RefuseRequest(*problem);
    return;
  }
  http::async_read(
      client_, client_buffer_, *request_parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRequest(ec); });
}

void HttpSession::OnRequest(beast::error_code ec) {
  if (closed_) return;
  if (ec) {
    OnBadRequest(ec);
    return;
  }
  request_ = request_parser_->release();
  // Beast refuses to frame a TRACE with a body (it throws): RFC 9110 section 9.3.8 forbids one.
  if (request_.method() == http::verb::trace && !request_.body().empty()) {
    RefuseRequest("a TRACE request has a body");
    return;
  }
  Route();
}

// A request that cannot be read is answered (when it is the client's fault) and the
// connection closed; end of stream, idle timeout and network errors just close it.
void HttpSession::OnBadRequest(beast::error_code ec) {
  client_keep_alive_ = false;
  if (!request_parser_->is_header_done()) {
    client_version_ = 11;
    head_ = false;
  }
  if (ec == http::error::header_limit) {
    Reply(http::status::request_header_fields_too_large, "header_too_large",
          "the request header is larger than the limit");
  } else if (ec == http::error::body_limit) {
    Reply(http::status::payload_too_large, "body_too_large",
          "the request body is larger than the limit");
  } else if (IsParseError(ec)) {
    Reply(http::status::bad_request, "bad_request", "malformed HTTP request");
  } else {
    Close();
  }
}

// A request whose framing is ambiguous never reaches a target, and the connection is closed:
// whatever follows it on the wire cannot be told apart from a smuggled request.
void HttpSession::RefuseRequest(const std::string& why) {
  client_keep_alive_ = false;
  Reply(http::status::bad_request, "bad_request", "refused request: " + why);
}

void HttpSession::Route() {
  client_version_ = request_.version();
  client_keep_alive_ = request_.keep_alive();
  head_ = request_.method() == http::verb::head;
  auto target = core_->targets().Pick();
  if (!target) {
    ++core_->stats().no_target;
    Reply(http::status::service_unavailable, "no_target", "no registered target");
    return;
  }
  lease_.Acquire(core_->targets(), std::move(target));
  PrepareUpstreamRequest();
  attempts_ = 0;
  Attempt(/*allow_pool=*/true);
}

// Upstream always speaks HTTP/1.1 keep-alive; the client's own Connection wish is kept
// aside and applied to the response.
void HttpSession::PrepareUpstreamRequest() {
  StripHopByHop(request_);
  request_.version(11);
  request_.keep_alive(true);
  request_.erase(http::field::expect);  // the whole body is here already
  request_.prepare_payload();           // a chunked body goes on with its length
  auto forwarded = request_.find("X-Forwarded-For");
  if (forwarded == request_.end()) {
    request_.set("X-Forwarded-For", client_address_);
  } else {
    std::string chain(forwarded->value());
    chain.append(", ").append(client_address_);
    request_.set("X-Forwarded-For", chain);
  }
  request_.set("X-Forwarded-Proto", "http");
}

void HttpSession::Attempt(bool allow_pool) {
  ++attempts_;
  upstream_buffer_.clear();
  const auto timeout = Millis(core_->options().upstream_timeout_ms);
  auto& target = lease_.target();
  if (allow_pool) {
    if (auto pooled = core_->targets().TakeIdle(*target)) {
      upstream_.emplace(std::move(*pooled));
      upstream_reused_ = true;
      upstream_->expires_after(timeout);
      SendUpstream();
      return;
    }
  }
  upstream_.emplace(core_->loop());
  upstream_reused_ = false;
  upstream_->expires_after(timeout);
  core_->Connect(target, *upstream_, [self = shared_from_this()](beast::error_code ec) {
    if (self->closed_) return;
    if (ec) {
      self->Fail(ec, /*retryable=*/true);
      return;
    }
    self->upstream_->socket().set_option(tcp::no_delay(true), ec);
    self->SendUpstream();
  });
}

void HttpSession::SendUpstream() {
  http::async_write(*upstream_, request_,
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      if (self->closed_) return;
                      if (ec) {
                        // Nothing read yet: a reused connection closed under us, or the
                        // target died (a safe request may go elsewhere).
                        self->Fail(ec, self->upstream_reused_ || self->SafeMethod());
                        return;
                      }
                      self->ReadUpstream();
                    });
}

void HttpSession::ReadUpstream() {
  const auto& options = core_->options();
  response_parser_.emplace();
  response_parser_->header_limit(static_cast<uint32_t>(HeaderLimit(options)));
  response_parser_->body_limit(options.max_body_bytes);
  if (head_) response_parser_->skip(true);
  http::async_read(
      *upstream_, upstream_buffer_, *response_parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnUpstreamResponse(ec); });
}

void HttpSession::OnUpstreamResponse(beast::error_code ec) {
  if (closed_) return;
  if (ec) {
    // Retrying is safe only before any response byte, and only if the target cannot have
    // acted on the request: a pooled connection (the keep-alive close race), or a safe
    // method (GET/HEAD/OPTIONS) whose target died under it (HAProxy's retry-on
    // conn-failure/empty-response).
    Fail(ec, (upstream_reused_ || SafeMethod()) && !response_parser_->got_some());
    return;
  }
  const auto& header = response_parser_->get();
  const unsigned status = header.result_int();
  if (status >= 100 && status < 200 && status != 101) {
    ReadUpstream();  // an interim response: the real one follows
    return;
  }
  // Upgrade is never passed on, so a 101 is the target's mistake; it cannot be tunnelled.
  std::optional<std::string> problem =
      status < 200 || status > 599 ? std::optional<std::string>("status " + std::to_string(status))
                                   : FramingProblem(header, header.version());
  if (problem) {
    DropUpstream();
    BadGateway("the target's answer is malformed: " + *problem);
    return;
  }
  // After HEAD a faulty target may still send a body, which would be read as the answer to
  // the next request on a pooled connection: HEAD's connection is not pooled.
  const bool reusable = response_parser_->keep_alive() && upstream_buffer_.size() == 0 && !head_;
  response_ = response_parser_->release();
  ForwardResponse(reusable);
}

void HttpSession::DropUpstream() {
  if (!upstream_) return;
  upstream_->close();
  upstream_.reset();
}

void HttpSession::Fail(beast::error_code ec, bool retryable) {
  DropUpstream();
  auto& stats = core_->stats();
  if (ec == beast::error::timeout) {
    ++stats.upstream_timeouts;
    lease_.Release(/*served=*/false);
    Reply(http::status::gateway_timeout, "upstream_timeout", "the target did not answer in time");
    return;
  }
  if (retryable && attempts_ < kMaxAttempts) {
    auto next = core_->targets().Pick();
    if (!next && !lease_.target()->forgotten) next = lease_.target();
    if (next) {
      ++stats.retried;
      lease_.Acquire(core_->targets(), std::move(next));
      Attempt(/*allow_pool=*/false);
      return;
    }
  }
  BadGateway("the target failed: " + ec.message());
}

void HttpSession::BadGateway(const std::string& message) {
  ++core_->stats().upstream_errors;
  lease_.Release(/*served=*/false);
  Reply(http::status::bad_gateway, "upstream_error", message);
}

void HttpSession::ForwardResponse(bool upstream_reusable) {
  beast::tcp_stream upstream = std::move(*upstream_);
  upstream_.reset();
  if (upstream_reusable) {
    core_->targets().PutIdle(*lease_.target(), std::move(upstream));
  } else {
    upstream.close();
  }
  StripHopByHop(response_);
  response_.version(client_version_);
  response_.keep_alive(client_keep_alive_);
  const unsigned status = response_.result_int();
  const bool bodyless = head_ || status < 200 || status == 204 || status == 304;
  if (!bodyless) response_.prepare_payload();  // buffered: a chunked body gets a length
  WriteResponse();
}

void HttpSession::Reply(http::status status, std::string_view code, std::string_view message) {
  response_ = {};
  response_.result(status);
  response_.version(client_version_);
  response_.set(http::field::content_type, "application/json");
  response_.body() = ErrorJson(code, message);
  response_.keep_alive(client_keep_alive_);
  response_.prepare_payload();
  WriteResponse();
}

void HttpSession::WriteResponse() {
  client_.expires_after(Millis(core_->options().idle_timeout_ms));
  auto done = [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWritten(ec); };
  if (head_) {  // the header's length describes the body a GET would get: send no body
    header_serializer_.emplace(response_);
    http::async_write_header(client_, *header_serializer_, std::move(done));
  } else {
    http::async_write(client_, response_, std::move(done));
  }
}

void HttpSession::OnWritten(beast::error_code ec) {
  if (closed_) return;
  header_serializer_.reset();
  ++core_->stats().requests;
  lease_.Release(/*served=*/!ec);
  if (ec) {
    Close();
  } else if (!client_keep_alive_) {
    Linger();
  } else {
    ReadRequest();
  }
}

void HttpSession::Linger() {
  beast::error_code ec;
  client_.socket().shutdown(tcp::socket::shutdown_send, ec);
  client_buffer_.clear();
  client_.expires_after(kLingerTime);
  struct Discard {
    std::shared_ptr<HttpSession> self;
    void operator()(beast::error_code ec, size_t) {
      if (self->closed_) return;
      if (ec) {
        self->Close();
        return;
      }
      self->client_.async_read_some(self->client_buffer_.prepare(kLingerChunk), std::move(*this));
    }
  };
  Discard{shared_from_this()}({}, 0);
}

}  // namespace

void StartHttpSession(std::shared_ptr<LoadBalancerCore> core, tcp::socket socket) {
  std::make_shared<HttpSession>(std::move(core), std::move(socket))->Start();
}

}  // namespace kiln::deploy::lb
