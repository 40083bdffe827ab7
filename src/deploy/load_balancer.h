// The load balancer in front of a service's tasks (DESIGN.md "Deploy"): HTTP/1.1 with
// keep-alive on both sides, each request routed to a registered target in round robin, so a
// draining target gets no new request while its in-flight ones finish; or plain TCP, where
// each connection is routed once. Targets are registered by the service controller only
// once healthy.
//
// Loop affinity: every method must be called on the io_context the balancer was started on
// (the server's one event loop). Nothing blocks.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::deploy {

struct LoadBalancerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks one (see port())
  enum class Mode { kHttp, kTcp } mode = Mode::kHttp;
  int64_t deregistration_delay_ms = 300'000;  // ELB's default: 300 s; longest a drain waits
  int64_t upstream_timeout_ms = 60'000;       // connect + response from a target
  int64_t idle_timeout_ms = 60'000;           // a client keep-alive connection with no request
  size_t max_header_bytes = 64 * 1024;
  size_t max_body_bytes = 64 * 1024 * 1024;
};

struct TargetInfo {
  std::string id;  // the task id
  std::string host;
  uint16_t port = 0;
  enum class State { kRegistered, kDraining } state = State::kRegistered;
  int in_flight = 0;    // requests (HTTP) or connections (TCP) now being served
  uint64_t served = 0;  // requests/connections completed
};

struct LoadBalancerStats {
  uint64_t requests = 0;           // HTTP requests answered, or TCP connections accepted
  uint64_t no_target = 0;          // answered 503: no registered target
  uint64_t upstream_errors = 0;    // answered 502 after every retry failed
  uint64_t retried = 0;            // requests re-sent to another target after a connect failure
  uint64_t upstream_timeouts = 0;  // answered 504: no response within upstream_timeout_ms
};

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;

  // Binds `listen` and starts accepting. kInvalidInput for a bad address; kIo if it cannot
  // bind (the message names the address).
  static base::Result<std::unique_ptr<LoadBalancer>> Start(boost::asio::io_context& loop,
                                                           LoadBalancerOptions options);

  virtual uint16_t port() const = 0;
  // Adds a target (or re-registers a draining one). New requests may go to it at once.
  virtual void Register(const std::string& id, const std::string& host, uint16_t port) = 0;
  // Stops routing new requests/connections to the target; calls on_drained (on the loop) once
  // its in-flight work is done or deregistration_delay_ms has passed, then forgets it.
  // Unknown id: on_drained is called at once.
  virtual void Drain(const std::string& id, std::function<void()> on_drained) = 0;
  virtual std::vector<TargetInfo> Targets() const = 0;
  virtual LoadBalancerStats Stats() const = 0;
  // Closes the listener and every connection; pending drains complete.
  virtual void Stop() = 0;
};

}  // namespace kiln::deploy
