// The load balancer's targets (internal to load_balancer*.cc): registration, round robin,
// in-flight accounting, draining with the deregistration delay, and the idle keep-alive pool
// of upstream connections per target.
//
// Loop affinity: the balancer's io_context only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deploy/load_balancer.h"

namespace kiln::deploy::lb {

struct Target {
  std::string id;
  std::string host;
  uint16_t port = 0;
  // The host's addresses; empty until a host name is resolved (see LoadBalancerCore::Connect).
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;
  bool draining = false;
  bool forgotten = false;  // drained, or the balancer stopped: no pool, never picked again
  int in_flight = 0;
  uint64_t served = 0;
  uint64_t drain_epoch = 0;                    // tells a stale drain timer from the current drain
  std::vector<boost::beast::tcp_stream> idle;  // pooled keep-alive connections (HTTP mode)
  std::vector<std::function<void()>> on_drained;
  std::unique_ptr<boost::asio::steady_timer> drain_timer;
};

class TargetTable {
 public:
  TargetTable(boost::asio::io_context& loop, std::chrono::milliseconds deregistration_delay)
      : loop_(loop), deregistration_delay_(deregistration_delay) {}
  ~TargetTable() { Clear(); }
  TargetTable(const TargetTable&) = delete;
  TargetTable& operator=(const TargetTable&) = delete;

  // Adds a target; a draining one is registered again (its drain is cancelled and its
  // on_drained callbacks dropped, since the caller wants the task back in service).
  void Register(const std::string& id, const std::string& host, uint16_t port);
  void Drain(const std::string& id, std::function<void()> on_drained);
  // The next registered target in round robin, or null when none is registered.
  std::shared_ptr<Target> Pick();
  // Ends one unit of in-flight work; completes the target's drain when it was the last.
  void Release(const std::shared_ptr<Target>& target, bool served);

  // A pooled connection that still looks open, if any (closed ones are dropped).
  std::optional<boost::beast::tcp_stream> TakeIdle(Target& target);
  // Pools a connection after a complete keep-alive response, or closes it if the target
  // gets no more requests or its pool is full.
  void PutIdle(Target& target, boost::beast::tcp_stream stream);

  std::vector<TargetInfo> Info() const;
  // Forgets every target, completing pending drains (Stop).
  void Clear();

 private:
  std::shared_ptr<Target> Find(const std::string& id) const;
  void ArmDrainTimer(const std::shared_ptr<Target>& target);
  void FinishDrain(const std::shared_ptr<Target>& target);
  void Forget(Target& target);

  boost::asio::io_context& loop_;
  std::chrono::milliseconds deregistration_delay_;
  std::vector<std::shared_ptr<Target>> targets_;  // registration order
  size_t next_ = 0;                               // round-robin cursor into targets_
};

// One unit of in-flight work on a target, ended on destruction (not served) or by Release.
class TargetLease {
 public:
  TargetLease() = default;
  ~TargetLease() { Release(false); }
  TargetLease(const TargetLease&) = delete;
  TargetLease& operator=(const TargetLease&) = delete;

  void Acquire(TargetTable& table, std::shared_ptr<Target> target);
  void Release(bool served);
  const std::shared_ptr<Target>& target() const { return target_; }

 private:
  TargetTable* table_ = nullptr;
  std::shared_ptr<Target> target_;
};

}  // namespace kiln::deploy::lb
