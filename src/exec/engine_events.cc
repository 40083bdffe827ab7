#include "exec/engine_events.h"

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "exec/docker_transport.h"
#include "exec/docker_wire.h"

namespace kiln::exec {

namespace {

using Json = nlohmann::json;
using Kind = EngineEvent::Kind;

constexpr size_t kMaxEventLine = 1 << 20;      // events are ~1 KiB; labels make them longer
constexpr size_t kMaxAnswer = 64 * 1024;       // /version and error bodies
constexpr int64_t kMaxReconnectMs = 3600'000;  // an hour: doubling stays far from overflow

base::Status Invalid(const std::string& what) {
  return base::InvalidInput("docker event: " + what);
}

Kind KindOf(std::string_view type, std::string_view action) {
  static const std::map<std::string_view, Kind> kActions = {
      {"create", Kind::kCreate},
      {"start", Kind::kStart},
      {"die", Kind::kDie},
      {"oom", Kind::kOom},
      {"kill", Kind::kKill},
      {"stop", Kind::kStop},
      {"destroy", Kind::kDestroy},
      {"health_status: healthy", Kind::kHealthy},
      {"health_status: unhealthy", Kind::kUnhealthy},
      {"health_status: starting", Kind::kHealthStarting}};
  if (type != "container") return Kind::kOther;
  auto it = kActions.find(action);
  return it == kActions.end() ? Kind::kOther : it->second;
}

base::Result<int64_t> TimeNano(const Json& j) {
  auto it = j.find("timeNano");
  if (it == j.end() || !it->is_number_integer()) return Invalid("no integer timeNano");
  if (it->is_number_unsigned()) {
    auto u = it->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Invalid("timeNano out of range");
    }
    return static_cast<int64_t>(u);
  }
  auto v = it->get<int64_t>();
  if (v < 0) return Invalid("negative timeNano");
  return v;
}

base::Status ReadActor(const Json& j, EngineEvent* e) {
  auto actor = j.find("Actor");
  if (actor == j.end() || !actor->is_object()) return Invalid("no Actor");
  auto id = actor->find("ID");
  if (id == actor->end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
    return Invalid("no Actor.ID");
  }
  e->container_id = id->get<std::string>();
  auto attributes = actor->find("Attributes");
  if (attributes == actor->end() || attributes->is_null()) return base::Status::Ok();
  if (!attributes->is_object()) return Invalid("Actor.Attributes is not an object");
  for (const auto& [key, value] : attributes->items()) {
    if (!value.is_string()) return Invalid("an attribute is not a string");
    e->attributes[key] = value.get<std::string>();
  }
  return base::Status::Ok();
}

base::Result<int> ExitCode(const std::map<std::string, std::string>& attributes) {
  auto it = attributes.find("exitCode");
  if (it == attributes.end()) return Invalid("die without an exitCode");
  const std::string& text = it->second;
  int code = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), code);
  if (ec != std::errc() || end != text.data() + text.size()) return Invalid("bad exitCode");
  return code;
}

// Splits the event stream into lines ("\n" or "\r\n", split anywhere), holding at most
// kMaxEventLine bytes of an unfinished one.
class LineSplitter {
 public:
  using LineSink = std::function<base::Status(std::string_view)>;

  base::Status Feed(std::string_view bytes, const LineSink& sink) {
    while (!bytes.empty()) {
      size_t newline = bytes.find('\n');
      std::string_view piece = bytes.substr(0, newline);
      if (partial_.size() + piece.size() > kMaxEventLine) {
        return {base::ErrorKind::kFailed, "docker: an event line is longer than 1 MiB"};
      }
      partial_.append(piece);
      if (newline == std::string_view::npos) return base::Status::Ok();
      bytes.remove_prefix(newline + 1);
      std::string line = std::move(partial_);
      partial_.clear();
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      if (auto st = sink(line); !st.ok()) return st;
    }
    return base::Status::Ok();
  }

 private:
  std::string partial_;
};

// Runs f, turning an exception into a status: nothing may leave the stream's thread.
template <typename F>
base::Status Guarded(const F& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return base::Internal(std::string("docker events: ") + e.what());
  } catch (...) {
    return base::Internal("docker events: unknown exception");
  }
}

}  // namespace

base::Result<EngineEvent> ParseEngineEvent(std::string_view json_line) {
  auto j = Json::parse(json_line, nullptr, false);
  if (!j.is_object()) return Invalid("not a JSON object");
  auto action = j.find("Action");
  if (action == j.end() || !action->is_string()) return Invalid("no Action");
  auto type = j.find("Type");
  if (type != j.end() && !type->is_string()) return Invalid("Type is not a string");
  EngineEvent e{.action = action->get<std::string>()};
  e.kind = KindOf(type == j.end() ? "" : type->get_ref<const std::string&>(), e.action);
  if (auto st = ReadActor(j, &e); !st.ok()) return st;
  auto time = TimeNano(j);
  if (!time.ok()) return time.status();
  e.time_ns = *time;
  if (e.kind == Kind::kDie) {
    auto code = ExitCode(e.attributes);
    if (!code.ok()) return code.status();
    e.exit_code = *code;
  }
  return e;
}

std::string EngineEventsTarget(const ApiVersion& api,
                               const std::map<std::string, std::string>& labels, int64_t since_ns,
                               const std::string& service) {
  std::string filter =
      service.empty() ? ContainerEventFilterJson(labels) : ServiceEventFilterJson(service);
  std::string target = "/v" + api.Text() + "/events?filters=" + QueryEscape(filter);
  if (since_ns > 0) {
    // The engine's timestamp form "seconds.nanoseconds" (api/types/time ParseTimestamps); it
    // replays buffered events with timeNano >= since (daemon/events/events.go).
    char since[48];
    std::snprintf(since, sizeof since, "%lld.%09lld",
                  static_cast<long long>(since_ns / 1'000'000'000),
                  static_cast<long long>(since_ns % 1'000'000'000));
    target += "&since=";
    target += since;
  }
  return target;
}

class EngineEventStream::Runner {
 public:
  Runner(Options options, OnEvent on_event, OnGap on_gap, OnConnected on_connected)
      : options_(std::move(options)),
        on_event_(std::move(on_event)),
        on_gap_(std::move(on_gap)),
        on_connected_(std::move(on_connected)) {}

  // The thread's body: connect, follow, and after each failure wait and reconnect.
  void Run() noexcept {
    try {
      Loop();
    } catch (...) {  // only the condition variable could throw here; the stream then ends
    }
  }

  // Ends Run: aborts the connection in use and the wait between attempts. Thread-safe.
  void Stop() {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (current_) current_->Abort();
    wake_.notify_all();
  }

 private:
  using Use = std::function<base::Status(EngineConnection&)>;

  void Loop();
  base::Status Follow();
  base::Result<ApiVersion> Negotiate();
  base::Status Request(const std::string& target, const Use& use);
  base::Status HandleLine(std::string_view line);
  bool IsNew(const EngineEvent& e);
  bool Stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }
  bool Publish(EngineConnection* c) {
    std::lock_guard lock(mu_);
    current_ = stopping_ ? nullptr : c;
    return !stopping_;
  }
  // Waits ms unless stopped first; false when stopping.
  bool Sleep(int64_t ms) {
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
    return !stopping_;
  }

  const Options options_;
  const OnEvent on_event_;
  const OnGap on_gap_;
  const OnConnected on_connected_;

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;                // guarded by mu_
  EngineConnection* current_ = nullptr;  // guarded by mu_: the connection Stop() aborts

  // The thread's own state. The newest timeNano delivered, and the events delivered with it:
  // a replay from `since` repeats them (the engine's bound is inclusive).
  int64_t last_time_ns_ = 0;
  std::set<std::string> seen_at_last_;
  bool delivered_ = false;  // an event was delivered on the current connection
};

void EngineEventStream::Runner::Loop() {
  int64_t delay = options_.reconnect_min_ms;
  while (!Stopping()) {
    auto began = std::chrono::steady_clock::now();
    delivered_ = false;
    base::Status why = Guarded([&] { return Follow(); });
    if (Stopping()) return;
    auto lived = std::chrono::steady_clock::now() - began;
    // A connection that worked for a while starts the backoff afresh; one that keeps failing
    // at once (an engine going up and down, a line that never parses) backs off further.
    if (delivered_ || lived >= std::chrono::milliseconds(options_.reconnect_max_ms)) {
      delay = options_.reconnect_min_ms;
    }
    (void)Guarded([&] {
      on_gap_(why);
      return base::Status::Ok();
    });
    if (!Sleep(delay)) return;
    delay = std::min(delay * 2, options_.reconnect_max_ms);
  }
}

// One connection: negotiates the version, subscribes and reads events until it ends. Returns
// why it ended (an ended stream too is a gap: the engine is going away).
base::Status EngineEventStream::Runner::Follow() {
  auto api = Negotiate();
  if (!api.ok()) return api.status();
  std::string target = EngineEventsTarget(*api, options_.labels, last_time_ns_, options_.service);
  return Request(target, [&](EngineConnection& c) {
    if (!Stopping()) on_connected_();
    LineSplitter lines;
    auto handle = [&](std::string_view line) { return HandleLine(line); };
    auto st = c.ReadBody([&](std::string_view bytes) { return lines.Feed(bytes, handle); });
    if (!st.ok()) return st;
    return base::Status(base::ErrorKind::kIo, "docker: the engine ended the event stream");
  });
}

base::Result<ApiVersion> EngineEventStream::Runner::Negotiate() {
  std::string text;
  auto st = Request("/version", [&](EngineConnection& c) {
    auto body = c.ReadBodyUpTo(kMaxAnswer);
    if (!body.ok()) return body.status();
    text = std::move(*body);
    return base::Status::Ok();
  });
  if (!st.ok()) return st;
  auto version = ParseEngineVersion(text);
  if (!version.ok()) return version.status();
  return NegotiateApiVersion(version->api_max, version->api_min);
}

// GET target on a new connection that Stop() can abort; `use` reads a 200 answer's body.
base::Status EngineEventStream::Runner::Request(const std::string& target, const Use& use) {
  auto connection = EngineConnection::Open(options_.endpoint.socket_path);
  if (!connection.ok()) return connection.status();
  EngineConnection& c = **connection;
  if (!Publish(&c)) return {base::ErrorKind::kIo, "docker: event stream stopped"};
  struct Unpublish {
    Runner* runner;
    ~Unpublish() { (void)runner->Publish(nullptr); }
  } unpublish{this};
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "docker");  // required, any value (DOCKER-ENGINE.md §1)
  req.set(http::field::user_agent, "kiln");
  if (auto st = c.Send(req); !st.ok()) return st;
  auto head = c.ReadHead();
  if (!head.ok()) return head.status();
  if (head->status == 200) return use(c);
  auto body = c.ReadBodyUpTo(kMaxAnswer);
  return {base::ErrorKind::kFailed,
          "docker: GET " + target + ": HTTP " + std::to_string(head->status) + ": " +
              (body.ok() ? EngineErrorMessage(*body) : body.status().message())};
}

base::Status EngineEventStream::Runner::HandleLine(std::string_view line) {
  auto event = ParseEngineEvent(line);
  if (!event.ok()) {
    return {base::ErrorKind::kFailed, "docker: malformed event: " + event.status().message()};
  }
  if (!IsNew(*event)) return base::Status::Ok();
  delivered_ = true;
  if (!Stopping()) on_event_(*event);
  return base::Status::Ok();
}

bool EngineEventStream::Runner::IsNew(const EngineEvent& e) {
  std::string key = e.action + '\0' + e.container_id;
  if (e.time_ns > last_time_ns_) {
    last_time_ns_ = e.time_ns;
    seen_at_last_ = {std::move(key)};
    return true;
  }
  // Older: the engine stamps an event before publishing it, so live events may come slightly
  // out of order; a replay from `since` never sends them.
  if (e.time_ns < last_time_ns_) return true;
  return seen_at_last_.insert(std::move(key)).second;
}

EngineEventStream::EngineEventStream(std::unique_ptr<Runner> runner) : runner_(std::move(runner)) {}

EngineEventStream::~EngineEventStream() {
  runner_->Stop();
  if (thread_.joinable()) thread_.join();
}

base::Result<std::unique_ptr<EngineEventStream>> EngineEventStream::Start(
    Options options, OnEvent on_event, OnGap on_gap, OnConnected on_connected) {
  if (!on_event || !on_gap || !on_connected) {
    return base::InvalidInput("docker events: every callback is needed");
  }
  if (options.endpoint.socket_path.empty()) return base::InvalidInput("docker events: no socket");
  if (options.reconnect_min_ms < 1 || options.reconnect_max_ms < options.reconnect_min_ms ||
      options.reconnect_max_ms > kMaxReconnectMs) {
    return base::InvalidInput(
        "docker events: reconnect delays must satisfy 1 <= min <= max <= 1 h");
  }
  auto runner = std::make_unique<Runner>(std::move(options), std::move(on_event), std::move(on_gap),
                                         std::move(on_connected));
  std::unique_ptr<EngineEventStream> stream(new EngineEventStream(std::move(runner)));
  try {
    stream->thread_ = std::thread([r = stream->runner_.get()] { r->Run(); });
  } catch (const std::system_error& e) {
    return base::Status(base::ErrorKind::kIo, std::string("docker events: no thread: ") + e.what());
  }
  return stream;
}

}  // namespace kiln::exec
