#include "deploy/health_probe.h"

#include <signal.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <charconv>
#include <memory>
#include <optional>
#include <string_view>

#include "deploy/process_watch.h"
#include "exec/process.h"

namespace kiln::deploy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr size_t kMaxResponse = 64 * 1024;  // RELIABILITY B-H4: read capped

int ParseCode(std::string_view text) {
  int value = -1;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// A probe's socket, timer and completion, shared by its handlers.
struct Connection : std::enable_shared_from_this<Connection> {
  Connection(asio::io_context& loop, ProbeDone done)
      : socket(loop), timer(loop), done(std::move(done)) {}
  tcp::socket socket;
  asio::steady_timer timer;
  ProbeDone done;
  std::string request, response;
  std::array<char, 8192> chunk;

  void Finish(ProbeResult result) {
    if (!done) return;
    auto callback = std::move(done);
    done = nullptr;
    boost::system::error_code ignored;
    timer.cancel();
    socket.close(ignored);
    callback(std::move(result));
  }
  void Arm(int64_t timeout_ms, std::string what) {
    timer.expires_after(std::chrono::milliseconds(timeout_ms));
    timer.async_wait([self = shared_from_this(), what](const boost::system::error_code& ec) {
      if (!ec) self->Finish({false, what + " timed out"});
    });
  }
  void Connect(uint16_t port, std::function<void()> then, std::string what) {
    tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port);
    socket.async_connect(
        endpoint, [self = shared_from_this(), then, what](const boost::system::error_code& ec) {
          if (ec) return self->Finish({false, what + ": connection failed (" + ec.message() + ")"});
          then();
        });
  }
};

struct HttpResponse {
  bool complete = false;
  int status = -1;  // -1: no status line of the form "HTTP/1.x NNN"
  std::string body;
};

int ParseStatus(std::string_view head) {
  if (head.size() < 12 || !head.starts_with("HTTP/1.") || head[8] != ' ') return -1;
  std::string_view code = head.substr(9, 3);
  if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  if (head.size() > 12 && head[12] != ' ' && head[12] != '\r') return -1;
  return ParseCode(code);
}

// The Content-Length value, if the (lower-cased) headers have one that is a number.
std::optional<uint64_t> ContentLength(std::string_view headers) {
  constexpr std::string_view kName = "\r\ncontent-length:";
  size_t at = headers.find(kName);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view value = headers.substr(at + kName.size());
  value = value.substr(0, value.find("\r\n"));
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  uint64_t length = 0;
  auto [end, err] = std::from_chars(value.data(), value.data() + value.size(), length);
  if (err != std::errc() || end == value.data()) return std::nullopt;
  return length;
}

// Parses what has arrived (at most kMaxResponse bytes). Complete once the headers and
// Content-Length bytes are in, at end of stream, or at kMaxResponse, whatever came: a target
// sending garbage, or headers that never end, gets a failed check, never an endless read.
HttpResponse ParseResponse(const std::string& data, bool eof) {
  HttpResponse r;
  const bool full = eof || data.size() >= kMaxResponse;
  size_t end = data.find("\r\n\r\n");
  if (end == std::string::npos) {
    r.complete = full;
    return r;
  }
  r.status = ParseStatus(data);
  r.body = data.substr(end + 4);
  std::string headers = data.substr(0, end);
  std::transform(headers.begin(), headers.end(), headers.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::optional<uint64_t> length = ContentLength(headers);
  r.complete = full || (length && r.body.size() >= *length);
  return r;
}

ProbeResult Judge(const HttpResponse& r, const BalancerHealthCheck& check) {
  std::string what = "GET " + check.path;
  if (r.status < 0) return {false, what + ": no HTTP response"};
  if (!MatcherAccepts(check.matcher, r.status)) {
    return {false, what + " answered " + std::to_string(r.status)};
  }
  if (!check.body.empty() && r.body.find(check.body) == std::string::npos) {
    return {false, what + " answered " + std::to_string(r.status) + " without '" + check.body +
                       "' in its body"};
  }
  return {true, what + " answered " + std::to_string(r.status)};
}

void ReadResponse(std::shared_ptr<Connection> c, BalancerHealthCheck check) {
  c->socket.async_read_some(asio::buffer(c->chunk),
                            [c, check](const boost::system::error_code& ec, size_t n) {
                              if (!c->done) return;  // timed out: the socket is closed
                              n = std::min(n, kMaxResponse - c->response.size());
                              c->response.append(c->chunk.data(), n);
                              HttpResponse r = ParseResponse(c->response, bool(ec));
                              if (!r.complete) return ReadResponse(c, check);
                              c->Finish(Judge(r, check));
                            });
}

}  // namespace

bool MatcherAccepts(std::string_view matcher, int status) {
  size_t start = 0;
  while (start <= matcher.size()) {
    size_t end = std::min(matcher.find(',', start), matcher.size());
    std::string_view part = matcher.substr(start, end - start);
    size_t dash = part.find('-');
    int low = ParseCode(part.substr(0, dash));
    int high = dash == std::string_view::npos ? low : ParseCode(part.substr(dash + 1));
    if (status >= low && status <= high) return true;
    start = end + 1;
  }
  return false;
}

void ProbeHttp(asio::io_context& loop, uint16_t port, const BalancerHealthCheck& check,
               ProbeDone done) {
  auto c = std::make_shared<Connection>(loop, std::move(done));
  std::string what = "GET " + check.path;
  c->request = "GET " + check.path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
               "\r\nUser-Agent: kiln-health-check\r\nConnection: close\r\n\r\n";
  c->Arm(check.timeout_ms, what);
  c->Connect(
      port,
      [c, check] {
        asio::async_write(c->socket, asio::buffer(c->request),
                          [c, check](const boost::system::error_code& ec, size_t) {
                            if (ec)
                              return c->Finish({false, "GET " + check.path + ": " + ec.message()});
                            ReadResponse(c, check);
                          });
      },
      what);
}

void ProbeTcp(asio::io_context& loop, uint16_t port, int64_t timeout_ms, ProbeDone done) {
  auto c = std::make_shared<Connection>(loop, std::move(done));
  std::string what = "TCP connect to port " + std::to_string(port);
  c->Arm(timeout_ms, what);
  c->Connect(
      port,
      [c, what] {
        c->Finish({true, what + " succeeded"});
      },
      what);
}

void ProbeCommand(asio::io_context& loop, const std::vector<std::string>& command,
                  const std::vector<std::string>& env, const std::string& cwd, int64_t timeout_ms,
                  ProbeDone done) {
  exec::SpawnRequest request{.env = env, .cwd = cwd, .new_process_group = true};
  if (command.size() >= 2 && command[0] == "CMD-SHELL") {
    request.argv = {"/bin/sh", "-c", command[1]};
  } else {
    request.argv.assign(command.begin() + (command.empty() ? 0 : 1), command.end());
  }
  auto pid = exec::Spawn(request);
  if (!pid.ok()) return done({false, "health check command: " + pid.status().message()});
  struct State {
    explicit State(asio::io_context& loop) : timer(loop) {}
    asio::steady_timer timer;
    std::unique_ptr<ProcessWatch> watch;
    bool timed_out = false;
  };
  auto state = std::make_shared<State>(loop);
  pid_t child = *pid;
  auto watch = ProcessWatch::Start(loop, child, [state, done = std::move(done)](int code) mutable {
    state->timer.cancel();
    std::string why = state->timed_out ? "health check command timed out"
                                       : "health check command exited " + std::to_string(code);
    done({code == 0 && !state->timed_out, why});
    state->watch.reset();  // ends the cycle state -> watch -> callback -> state
  });
  if (!watch.ok()) return;  // cannot happen for a child we just spawned and did not reap
  state->watch = std::move(*watch);
  state->timer.expires_after(std::chrono::milliseconds(timeout_ms));
  state->timer.async_wait([state, child](const boost::system::error_code& ec) {
    if (ec) return;
    state->timed_out = true;
    SignalGroup(child, SIGKILL);
  });
}

}  // namespace kiln::deploy
