// LoadBalancer::Start and the public face; the work is in load_balancer_core.cc,
// lb_target_table.cc, load_balancer_http.cc and load_balancer_tcp.cc.
#include "deploy/load_balancer.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <charconv>
#include <string_view>
#include <utility>

#include "deploy/load_balancer_core.h"

namespace kiln::deploy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

base::Status BadListen(std::string_view listen, std::string_view why) {
  return base::InvalidInput("listen address '" + std::string(listen) + "': " + std::string(why));
}

// "host:port", "[v6]:port"; the host is an IP address or localhost (no blocking lookup).
base::Result<tcp::endpoint> ParseListen(std::string_view listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return BadListen(listen, "expected host:port");
  std::string_view host = listen.substr(0, colon);
  const std::string_view port_text = listen.substr(colon + 1);
  unsigned port = 0;
  auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || err != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return BadListen(listen, "port must be a number from 0 to 65535");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return BadListen(listen, "an IPv6 host must be in brackets, as [::1]:port");
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto address = asio::ip::make_address(std::string(host), ec);
  if (host.empty() || ec) return BadListen(listen, "host must be an IP address or localhost");
  return tcp::endpoint(address, static_cast<uint16_t>(port));
}

class LoadBalancerImpl : public LoadBalancer {
 public:
  explicit LoadBalancerImpl(std::shared_ptr<lb::LoadBalancerCore> core) : core_(std::move(core)) {}
  ~LoadBalancerImpl() override { core_->Stop(); }

  uint16_t port() const override { return core_->port(); }
  void Register(const std::string& id, const std::string& host, uint16_t port) override {
    core_->targets().Register(id, host, port);
  }
  void Drain(const std::string& id, std::function<void()> on_drained) override {
    core_->targets().Drain(id, std::move(on_drained));
  }
  std::vector<TargetInfo> Targets() const override { return core_->targets().Info(); }
  LoadBalancerStats Stats() const override { return core_->stats(); }
  void Stop() override { core_->Stop(); }

 private:
  std::shared_ptr<lb::LoadBalancerCore> core_;
};

}  // namespace

base::Result<std::unique_ptr<LoadBalancer>> LoadBalancer::Start(asio::io_context& loop,
                                                                LoadBalancerOptions options) {
  auto endpoint = ParseListen(options.listen);
  if (!endpoint.ok()) return endpoint.status();
  const std::string listen = options.listen;
  auto core = std::make_shared<lb::LoadBalancerCore>(loop, std::move(options));
  if (auto status = core->Listen(*endpoint, listen); !status.ok()) return status;
  core->Accept();
  return std::unique_ptr<LoadBalancer>(std::make_unique<LoadBalancerImpl>(std::move(core)));
}

}  // namespace kiln::deploy
