// State-change events for `GET /api/v1/events` (SSE): every execution, stage, action, build
// and service change, numbered, kept in a ring for resumption with Last-Event-ID, fanned out
// to subscribers that filter by pipeline or execution.
//
// Publish is thread-safe (it posts to the loop); everything else is loop-affine.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "server/http_server.h"

namespace kiln::server {

struct Event {
  uint64_t id = 0;
  std::string type;  // execution | stage | action | build | delivery | service
  std::string pipeline, execution_id;
  std::string data;  // JSON text
};

struct EventFilter {
  std::string pipeline, execution_id, type;  // empty: any
  bool Matches(const Event& e) const;
};

class EventHub {
 public:
  explicit EventHub(boost::asio::io_context& loop, size_t keep = 4096) : loop_(loop), keep_(keep) {}
  // Thread-safe.
  void Publish(std::string type, std::string pipeline, std::string execution_id,
               nlohmann::json data);
  // Sends every kept event after `replay_after` (if given; 0 = all kept) that passes the
  // filter, then each new one, until the stream closes.
  void Subscribe(std::shared_ptr<EventStream> stream, EventFilter filter,
                 std::optional<uint64_t> replay_after);
  // Sends `event: heartbeat` to every subscriber (the daemon calls it every few seconds), so
  // clients notice a dead server and proxies keep the stream open.
  void Heartbeat();
  // Called on the loop for each event (caches listen here).
  void Listen(std::function<void(const Event&)> fn) { listeners_.push_back(std::move(fn)); }
  size_t subscribers() const { return subscribers_.size(); }
  // The id of the newest event delivered (thread-safe): a client that starts something and
  // then follows with Last-Event-ID = this misses none of its events.
  uint64_t last_id() const { return next_id_.load() - 1; }
  uint64_t dropped() const { return dropped_; }
  // Ends every stream (shutdown).
  void CloseAll();

 private:
  void Deliver(Event e);
  static std::string Format(const Event& e);
  struct Subscriber {
    std::shared_ptr<EventStream> stream;
    EventFilter filter;
  };
  boost::asio::io_context& loop_;
  size_t keep_;
  std::atomic<uint64_t> next_id_{1};
  uint64_t dropped_ = 0;
  std::deque<Event> ring_;
  std::vector<Subscriber> subscribers_;
  std::vector<std::function<void(const Event&)>> listeners_;
};

}  // namespace kiln::server
