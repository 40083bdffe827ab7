// The balancer's shared state (internal to load_balancer*.cc): listener, targets, stats and
// the live client sessions. Sessions hold it by shared_ptr, so it outlives every one of them.
//
// Loop affinity: the balancer's io_context only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "base/status.h"
#include "deploy/lb_target_table.h"
#include "deploy/load_balancer.h"

namespace kiln::deploy::lb {

// A client connection being served; Stop closes every live one.
class Session {
 public:
  virtual ~Session() = default;
  // Closes both sides; pending handlers then finish without further work.
  virtual void Close() = 0;
};

// Connection attempts per request or TCP connection: the first and 2 retries.
inline constexpr int kMaxAttempts = 3;

class LoadBalancerCore : public std::enable_shared_from_this<LoadBalancerCore> {
 public:
  LoadBalancerCore(boost::asio::io_context& loop, LoadBalancerOptions options);
  ~LoadBalancerCore();

  // Binds and listens; the message names `address`.
  base::Status Listen(const boost::asio::ip::tcp::endpoint& endpoint, const std::string& address);
  void Accept();
  void Stop();
  uint16_t port() const { return port_; }

  // Connects `stream` to the target (resolving its host name the first time). The stream's
  // expiry bounds the connect; `done` runs on the loop.
  void Connect(const std::shared_ptr<Target>& target, boost::beast::tcp_stream& stream,
               std::function<void(boost::beast::error_code)> done);

  void Track(Session* session) { sessions_.insert(session); }
  void Untrack(Session* session) { sessions_.erase(session); }

  boost::asio::io_context& loop() { return loop_; }
  const LoadBalancerOptions& options() const { return options_; }
  TargetTable& targets() { return targets_; }
  const TargetTable& targets() const { return targets_; }
  LoadBalancerStats& stats() { return stats_; }

 private:
  void OnAccept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& loop_;
  const LoadBalancerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_backoff_;
  uint16_t port_ = 0;
  bool stopped_ = false;
  TargetTable targets_;
  LoadBalancerStats stats_;
  std::unordered_set<Session*> sessions_;
};

// Serve one accepted client connection (load_balancer_http.cc, load_balancer_tcp.cc).
void StartHttpSession(std::shared_ptr<LoadBalancerCore> core, boost::asio::ip::tcp::socket socket);
void StartTcpSession(std::shared_ptr<LoadBalancerCore> core, boost::asio::ip::tcp::socket socket);

}  // namespace kiln::deploy::lb
