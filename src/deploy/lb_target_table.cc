#include "deploy/lb_target_table.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <utility>

namespace kiln::deploy::lb {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

constexpr size_t kMaxIdlePerTarget = 32;

std::vector<tcp::endpoint> LiteralEndpoints(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return {};  // a host name: resolved on first connect
  return {tcp::endpoint(address, port)};
}

void CloseIdle(Target& target) {
  for (auto& stream : target.idle) stream.close();
  target.idle.clear();
}

// A pooled connection the target closed (or wrote to unasked) is useless; peeking one byte
// without blocking tells, and saves most retries of the keep-alive close race.
bool StillOpen(beast::tcp_stream& stream) {
  char byte;
  boost::system::error_code ec;
  stream.socket().receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
  return ec == asio::error::would_block;
}

}  // namespace

void TargetTable::Register(const std::string& id, const std::string& host, uint16_t port) {
  auto target = Find(id);
  if (!target) {
    target = std::make_shared<Target>();
    target->id = id;
    targets_.push_back(target);
  } else if (target->draining) {
    target->draining = false;
    ++target->drain_epoch;
    target->drain_timer.reset();
    target->on_drained.clear();
  }
  if (target->host != host || target->port != port || target->endpoints.empty()) {
    CloseIdle(*target);
    target->host = host;
    target->port = port;
    target->endpoints = LiteralEndpoints(host, port);
  }
}

void TargetTable::Drain(const std::string& id, std::function<void()> on_drained) {
  auto target = Find(id);
  if (!target) {
    asio::post(loop_, std::move(on_drained));
    return;
  }
  target->on_drained.push_back(std::move(on_drained));
  if (target->draining) return;
  target->draining = true;
  ++target->drain_epoch;
  CloseIdle(*target);
  if (target->in_flight == 0) {
    FinishDrain(target);
  } else {
    ArmDrainTimer(target);
  }
}

void TargetTable::ArmDrainTimer(const std::shared_ptr<Target>& target) {
  target->drain_timer = std::make_unique<asio::steady_timer>(loop_, deregistration_delay_);
  std::weak_ptr<Target> weak = target;
  target->drain_timer->async_wait(
      [this, weak, epoch = target->drain_epoch](boost::system::error_code ec) {
        auto locked = weak.lock();
        // A forgotten target may outlive this table; a live one means the table is alive.
        if (ec || !locked || locked->forgotten || locked->drain_epoch != epoch) return;
        FinishDrain(locked);
      });
}

std::shared_ptr<Target> TargetTable::Pick() {
  const size_t n = targets_.size();
  for (size_t i = 0; i < n; ++i) {
    size_t index = (next_ + i) % n;
    if (!targets_[index]->draining) {
      next_ = (index + 1) % n;
      return targets_[index];
    }
  }
  return nullptr;
}

void TargetTable::Release(const std::shared_ptr<Target>& target, bool served) {
  --target->in_flight;
  if (served) ++target->served;
  if (target->draining && !target->forgotten && target->in_flight == 0) FinishDrain(target);
}

std::optional<beast::tcp_stream> TargetTable::TakeIdle(Target& target) {
  while (!target.idle.empty()) {
    beast::tcp_stream stream = std::move(target.idle.back());
    target.idle.pop_back();
    if (StillOpen(stream)) return stream;
    stream.close();
  }
  return std::nullopt;
}

void TargetTable::PutIdle(Target& target, beast::tcp_stream stream) {
  if (target.forgotten || target.draining || target.idle.size() >= kMaxIdlePerTarget) {
    stream.close();
    return;
  }
  boost::system::error_code ec;
  stream.socket().non_blocking(true, ec);  // for StillOpen's peek; async I/O is unaffected
  if (ec) {
    stream.close();
    return;
  }
  stream.expires_never();
  target.idle.push_back(std::move(stream));
}

std::vector<TargetInfo> TargetTable::Info() const {
  std::vector<TargetInfo> info;
  info.reserve(targets_.size());
  for (const auto& t : targets_) {
    info.push_back(
        {.id = t->id,
         .host = t->host,
         .port = t->port,
         .state = t->draining ? TargetInfo::State::kDraining : TargetInfo::State::kRegistered,
         .in_flight = t->in_flight,
         .served = t->served});
  }
  return info;
}

void TargetTable::Clear() {
  auto targets = std::move(targets_);
  targets_.clear();
  next_ = 0;
  for (auto& target : targets) Forget(*target);
}

std::shared_ptr<Target> TargetTable::Find(const std::string& id) const {
  auto it = std::find_if(targets_.begin(), targets_.end(),
                         [&](const auto& target) { return target->id == id; });
  return it == targets_.end() ? nullptr : *it;
}

void TargetTable::FinishDrain(const std::shared_ptr<Target>& target) {
  auto it = std::find(targets_.begin(), targets_.end(), target);
  if (it == targets_.end()) return;
  size_t index = it - targets_.begin();
  targets_.erase(it);
  if (next_ > index) --next_;
  if (next_ >= targets_.size()) next_ = 0;
  Forget(*target);
}

// Posts (never calls re-entrantly) the drain callbacks; the caller may be deep in a session.
void TargetTable::Forget(Target& target) {
  target.forgotten = true;
  target.drain_timer.reset();
  CloseIdle(target);
  for (auto& callback : target.on_drained) asio::post(loop_, std::move(callback));
  target.on_drained.clear();
}

// Counts the new target first: moving a retry onto the same draining target must not let
// its in-flight count touch 0 (which would complete the drain under the request).
void TargetLease::Acquire(TargetTable& table, std::shared_ptr<Target> target) {
  ++target->in_flight;
  Release(false);
  table_ = &table;
  target_ = std::move(target);
}

void TargetLease::Release(bool served) {
  if (!target_) return;
  auto target = std::move(target_);
  target_.reset();
  table_->Release(target, served);
}

}  // namespace kiln::deploy::lb
