#include "deploy/load_balancer_core.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <utility>
#include <vector>

namespace kiln::deploy::lb {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

// After an accept error such as EMFILE, wait a little instead of spinning on the loop.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(50);

}  // namespace

LoadBalancerCore::LoadBalancerCore(asio::io_context& loop, LoadBalancerOptions options)
    : loop_(loop),
      options_(std::move(options)),
      acceptor_(loop),
      accept_backoff_(loop),
      targets_(loop, std::chrono::milliseconds(options_.deregistration_delay_ms)) {}

LoadBalancerCore::~LoadBalancerCore() { Stop(); }

base::Status LoadBalancerCore::Listen(const tcp::endpoint& endpoint, const std::string& address) {
  boost::system::error_code ec;
  const std::string what = "listen address '" + address + "'";
  if (acceptor_.open(endpoint.protocol(), ec); ec)
    return base::IoError(what + ": socket", ec.value());
  if (acceptor_.set_option(tcp::acceptor::reuse_address(true), ec); ec) {
    return base::IoError(what + ": SO_REUSEADDR", ec.value());
  }
  if (acceptor_.bind(endpoint, ec); ec) return base::IoError(what + ": bind", ec.value());
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return base::IoError(what + ": listen", ec.value());
  }
  port_ = acceptor_.local_endpoint(ec).port();
  return base::Status::Ok();
}

void LoadBalancerCore::Accept() {
  acceptor_.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    self->OnAccept(ec, std::move(socket));
  });
}

void LoadBalancerCore::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopped_) return;
  if (ec) {
    accept_backoff_.expires_after(kAcceptBackoff);
    accept_backoff_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec && !self->stopped_) self->Accept();
    });
    return;
  }
  socket.set_option(tcp::no_delay(true), ec);
  if (options_.mode == LoadBalancerOptions::Mode::kHttp) {
    StartHttpSession(shared_from_this(), std::move(socket));
  } else {
    StartTcpSession(shared_from_this(), std::move(socket));
  }
  Accept();
}

void LoadBalancerCore::Stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  accept_backoff_.cancel();
  // Close may end sessions' leases, which touch targets_: close first, then forget targets.
  std::vector<Session*> live(sessions_.begin(), sessions_.end());
  for (Session* session : live) session->Close();
  targets_.Clear();
}

void LoadBalancerCore::Connect(const std::shared_ptr<Target>& target, beast::tcp_stream& stream,
                               std::function<void(beast::error_code)> done) {
  auto on_connect = [done = std::move(done)](beast::error_code ec, const tcp::endpoint&) {
    done(ec);
  };
  if (!target->endpoints.empty()) {
    stream.async_connect(target->endpoints, std::move(on_connect));
    return;
  }
  // A host name: resolve once, then keep the addresses for later connections.
  auto resolver = std::make_shared<tcp::resolver>(loop_);
  resolver->async_resolve(target->host, std::to_string(target->port),
                          [resolver, target, &stream, on_connect = std::move(on_connect)](
                              beast::error_code ec, tcp::resolver::results_type results) mutable {
                            if (ec) {
                              on_connect(ec, {});
                              return;
                            }
                            for (const auto& entry : results)
                              target->endpoints.push_back(entry.endpoint());
                            stream.async_connect(target->endpoints, std::move(on_connect));
                          });
}

}  // namespace kiln::deploy::lb
