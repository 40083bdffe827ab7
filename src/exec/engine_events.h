// The engine's container events (GET /events), followed live: the deploy layer learns of
// starts, exits and health changes of its containers without polling (DOCKER-ENGINE.md §2).
//
// The engine keeps no durable log: `since` replays only an in-memory ring of 256 events, and a
// slow subscriber loses events. So the stream is a hint, not a record: after each OnConnected
// the user re-reads the state it cares about (ListContainers/Inspect), and events refine it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "base/status.h"
#include "exec/docker_host.h"

namespace kiln::exec {

// One event of GET /events. Actions not named by Kind (exec_create, rename, pause...) are
// kOther; `action` always holds the engine's text.
struct EngineEvent {
  enum class Kind {
    kCreate,
    kStart,
    kDie,
    kOom,
    kKill,
    kStop,
    kDestroy,
    kHealthy,         // "health_status: healthy"
    kUnhealthy,       // "health_status: unhealthy"
    kHealthStarting,  // "health_status: starting"
    kOther,
  };
  Kind kind = Kind::kOther;
  std::string action;        // "start", "health_status: healthy", "exec_start: sh -c true"
  std::string container_id;  // Actor.ID
  // Actor.Attributes: the container's labels, plus name, image, exitCode (die), signal (kill).
  std::map<std::string, std::string> attributes;
  int exit_code = 0;    // kDie: Actor.Attributes.exitCode
  int64_t time_ns = 0;  // timeNano, on the engine's clock
};

// Parses one JSON line of GET /events. kInvalidInput for anything but an object with a string
// Action, an Actor with a non-empty string ID and string Attributes, and a non-negative integer
// timeNano; a die event also needs an integer exitCode. An event of another Type than
// "container" is kOther. Pure: never throws, whatever the bytes.
base::Result<EngineEvent> ParseEngineEvent(std::string_view json_line);

// The request target of GET /events for container events of containers carrying every label
// (an empty value matches any value), or with `service` the events of that Swarm service
// instead, replaying from since_ns when it is not 0.
std::string EngineEventsTarget(const ApiVersion& api,
                               const std::map<std::string, std::string>& labels, int64_t since_ns,
                               const std::string& service = "");

// A live subscription to the engine's container events, on a thread of its own that reconnects
// with exponential backoff whenever the engine goes away, the stream ends or sends a malformed
// or over-long line. A reconnect asks the engine to replay from the last event seen (`since`),
// skipping what was already delivered; events older than the engine's ring are lost, which is
// why every (re)connection is announced by OnConnected.
//
// Callbacks run on the stream's thread, one at a time, never after the destructor returns.
// They must not destroy the stream (the destructor joins that thread); a callback that blocks
// holds the stream back (the engine drops a subscriber that lags 100 ms behind a full buffer).
class EngineEventStream {
 public:
  struct Options {
    DockerEndpoint endpoint;
    // Only containers carrying every label (an empty value: the key with any value).
    std::map<std::string, std::string> labels;
    // Not empty: the events of the Swarm service of this name (and of those whose name it
    // begins), kind kOther, instead of containers': a manager's update state changes
    // (Actor.Attributes updatestate.new), which no container event marks.
    std::string service;
    int64_t reconnect_min_ms = 100;   // the first retry's delay, doubled after each failure
    int64_t reconnect_max_ms = 5000;  // the longest delay
  };
  // An event, in the engine's order.
  using OnEvent = std::function<void(const EngineEvent&)>;
  // A connection attempt failed or a connection dropped (why): events may be missed until the
  // next OnConnected. Called once per failure; attempts are reconnect_min_ms apart at first,
  // the delay doubling up to reconnect_max_ms while they keep failing.
  using OnGap = std::function<void(const base::Status& why)>;
  // Subscribed (the first time and after each gap): re-read the state once to cover what the
  // subscription may have missed; events from here on (replayed ones first) may be older than
  // what that read sees.
  using OnConnected = std::function<void()>;

  // Starts the thread; it connects in the background (an absent engine is not an error here:
  // OnGap reports it). kInvalidInput for a missing callback, an empty socket path or delays
  // out of order.
  static base::Result<std::unique_ptr<EngineEventStream>> Start(Options options, OnEvent on_event,
                                                                OnGap on_gap,
                                                                OnConnected on_connected);

  // Aborts the connection, even in the middle of a read, and joins the thread (promptly: no
  // engine answer is awaited).
  ~EngineEventStream();
  EngineEventStream(const EngineEventStream&) = delete;
  EngineEventStream& operator=(const EngineEventStream&) = delete;

 private:
  class Runner;  // the thread's work (engine_events.cc)
  explicit EngineEventStream(std::unique_ptr<Runner> runner);

  std::unique_ptr<Runner> runner_;
  std::thread thread_;
};

}  // namespace kiln::exec
