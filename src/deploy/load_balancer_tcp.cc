// TCP mode: each client connection is routed once, then bytes are spliced both ways until
// both sides have finished; a FIN from one side is passed on as a half-close to the other.
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <utility>

#include "deploy/load_balancer_core.h"

namespace kiln::deploy::lb {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

constexpr size_t kChunk = 16 * 1024;

class TcpSession : public Session, public std::enable_shared_from_this<TcpSession> {
 public:
  TcpSession(std::shared_ptr<LoadBalancerCore> core, tcp::socket socket)
      : core_(std::move(core)), client_(std::move(socket)), upstream_(core_->loop()) {}
  ~TcpSession() override { core_->Untrack(this); }

  void Start();
  void Close() override;

 private:
  // One direction of the splice: reads `from`, writes `to`.
  struct Pipe {
    beast::tcp_stream* from;
    beast::tcp_stream* to;
    std::array<char, kChunk> buffer;
  };

  void Connect();
  void OnConnected(beast::error_code ec);
  void Pump(Pipe& pipe);
  void OnRead(Pipe& pipe, beast::error_code ec, size_t n);
  void Finish();

  std::shared_ptr<LoadBalancerCore> core_;  // first: outlives lease_
  beast::tcp_stream client_;
  beast::tcp_stream upstream_;
  TargetLease lease_;
  Pipe to_upstream_{&client_, &upstream_, {}};
  Pipe to_client_{&upstream_, &client_, {}};
  int attempts_ = 0;
  int open_pipes_ = 2;
  bool closed_ = false;
};

void TcpSession::Start() {
  core_->Track(this);
  ++core_->stats().requests;
  auto target = core_->targets().Pick();
  if (!target) {
    ++core_->stats().no_target;
    Close();
    return;
  }
  lease_.Acquire(core_->targets(), std::move(target));
  Connect();
}

void TcpSession::Close() {
  if (closed_) return;
  closed_ = true;
  client_.close();
  upstream_.close();
  lease_.Release(false);
}

void TcpSession::Connect() {
  ++attempts_;
  upstream_.expires_after(std::chrono::milliseconds(core_->options().upstream_timeout_ms));
  core_->Connect(lease_.target(), upstream_,
                 [self = shared_from_this()](beast::error_code ec) { self->OnConnected(ec); });
}

void TcpSession::OnConnected(beast::error_code ec) {
  if (closed_) return;
  if (ec) {
    auto next = attempts_ < kMaxAttempts ? core_->targets().Pick() : nullptr;
    if (!next) {
      ++core_->stats().upstream_errors;
      Close();
      return;
    }
    ++core_->stats().retried;
    lease_.Acquire(core_->targets(), std::move(next));
    Connect();
    return;
  }
  upstream_.expires_never();
  upstream_.socket().set_option(tcp::no_delay(true), ec);
  Pump(to_upstream_);
  Pump(to_client_);
}

void TcpSession::Pump(Pipe& pipe) {
  pipe.from->async_read_some(asio::buffer(pipe.buffer),
                             [self = shared_from_this(), &pipe](beast::error_code ec, size_t n) {
                               self->OnRead(pipe, ec, n);
                             });
}

void TcpSession::OnRead(Pipe& pipe, beast::error_code ec, size_t n) {
  if (closed_) return;
  if (ec == asio::error::eof) {
    pipe.to->socket().shutdown(tcp::socket::shutdown_send, ec);
    if (--open_pipes_ == 0) Finish();
    return;
  }
  if (ec) {
    Close();
    return;
  }
  asio::async_write(*pipe.to, asio::buffer(pipe.buffer.data(), n),
                    [self = shared_from_this(), &pipe](beast::error_code ec, size_t) {
                      if (self->closed_) return;
                      if (ec) {
                        self->Close();
                        return;
                      }
                      self->Pump(pipe);
                    });
}

void TcpSession::Finish() {
  lease_.Release(/*served=*/true);
  Close();
}

}  // namespace

void StartTcpSession(std::shared_ptr<LoadBalancerCore> core, tcp::socket socket) {
  std::make_shared<TcpSession>(std::move(core), std::move(socket))->Start();
}

}  // namespace kiln::deploy::lb
