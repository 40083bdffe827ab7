#include "server/daemon.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "base/ids.h"
#include "codebuild/build_containers.h"
#include "exec/process.h"
#include "pipeline/liveness.h"
#include "registry/registry_process.h"
#include "server/admission.h"
#include "server/api.h"
#include "server/api_handlers.h"
#include "server/catch_boundary.h"
#include "server/local_token.h"
#include "server/poller.h"
#include "server/scheduler.h"
#include "server/service_host.h"
#include "source/trigger_owner.h"
#include "store/state_dir.h"

namespace kiln::server {
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr int kExitOk = 0, kExitUsage = 2, kExitInternal = 70;

bool CheckConfig(const DaemonOptions& o) {
  std::vector<const spec::Pipeline*> pipelines;
  for (const auto& p : o.pipelines) pipelines.push_back(&p.pipeline);
  auto conflicts = source::TriggerOwnerConflicts(o.config, pipelines);
  for (const auto& c : conflicts)
    std::fprintf(stderr, "%s: error: %s\n", o.config.file.c_str(), c.c_str());
  return conflicts.empty();
}

base::Result<Catalog> SavePipelines(store::Store& store, const DaemonOptions& o) {
  Catalog catalog;
  for (const auto& p : o.pipelines) {
    auto version = store.SavePipeline(p.pipeline.name, p.definition_json);
    if (!version.ok()) return version.status();
    catalog[p.pipeline.name] = {p.pipeline, *version, p.definition_json};
  }
  return catalog;
}

base::Result<std::map<std::string, std::string>> WebhookSecrets(const spec::KilnConfig& config) {
  std::map<std::string, std::string> secrets;
  for (const auto& c : config.connections) {
    if (c.webhook_secret.kind == spec::ValueRef::Kind::kNone) continue;
    auto v = spec::ResolveValue(c.webhook_secret, config);
    if (!v.ok) return base::InvalidInput("connection " + c.name + ": webhook_secret: " + v.error);
    // An empty key would make every signature made with the empty key valid.
    if (v.value.empty()) {
      return base::InvalidInput("connection '" + c.name + "': webhook_secret is empty");
    }
    secrets[c.name] = v.value;
  }
  return secrets;
}

// What a crash of the previous server left: its executions failed with the reason, its
// builds failed; queued work stays queued (the runner fails, with a reason, a queued row it
// cannot use); a row whose status is no known word is failed, since nothing would end it.
void Reconcile(store::Store& store) {
  constexpr char kReason[] =
      "server restarted: the process running this execution stopped before it finished (its "
      "logs are kept)";
  auto n = pipeline::ReconcileDeadExecutions(store, kReason);
  auto b = store.FailUnfinishedBuilds(
      base::NowMillis(),
      "server restarted: the process running this build stopped before it "
      "finished (its log is kept)");
  auto u = store.FailUnknownStatuses(base::NowMillis());
  for (const base::Status* st : {n.ok() ? nullptr : &n.status(), b.ok() ? nullptr : &b.status(),
                                 u.ok() ? nullptr : &u.status()}) {
    if (st) std::fprintf(stderr, "kiln serve: recovery: %s\n", st->message().c_str());
  }
  int marked = (n.ok() ? *n : 0) + (b.ok() ? *b : 0) + (u.ok() ? *u : 0);
  if (marked > 0) {
    std::fprintf(stderr,
                 "kiln serve: marked %d interrupted execution(s), %d build(s) and %d row(s) "
                 "with an unknown status Failed\n",
                 n.ok() ? *n : 0, b.ok() ? *b : 0, u.ok() ? *u : 0);
  }
}

// Build containers a killed server left on the engine (its builds were just marked failed, and
// nothing of this state dir runs yet): those labelled with this state dir go, others' stay.
// No engine is normal (host builds only): one line with --debug, else silence.
void RemoveOrphanContainers(const fs::path& state_dir, bool debug) {
  auto sweep = codebuild::RemoveOrphanBuildContainers(state_dir);
  if (!sweep.ok()) {
    std::fprintf(stderr, "kiln serve: recovery: build containers: %s\n",
                 sweep.status().message().c_str());
  } else if (!sweep->engine) {
    if (debug) {
      std::fprintf(stderr,
                   "kiln serve: debug: no Docker engine (%s); no build containers to "
                   "recover\n",
                   sweep->note.c_str());
    }
  } else {
    std::fprintf(stderr,
                 "kiln serve: recovery: removed %zu build container(s) left by a "
                 "previous run\n",
                 sweep->removed);
  }
}

// The same for build jobs on each swarm cluster of kiln.yml: the job services (and their
// containers) labelled with this state dir. A manager that does not answer is not an error.
void RemoveOrphanBuildJobs(const fs::path& state_dir, const spec::KilnConfig& config) {
  for (const spec::Cluster& c : config.clusters) {
    if (c.provider != "swarm") continue;
    auto sweep = codebuild::RemoveOrphanBuildJobs(state_dir, c.engine);
    if (!sweep.ok()) {
      std::fprintf(stderr, "kiln serve: recovery: build jobs on cluster %s: %s\n", c.name.c_str(),
                   sweep.status().message().c_str());
    } else if (sweep->engine && sweep->services + sweep->removed > 0) {
      std::fprintf(stderr,
                   "kiln serve: recovery: removed %zu build job(s) and %zu container(s) left by "
                   "a previous run on cluster %s\n",
                   sweep->services, sweep->removed, c.name.c_str());
    }
  }
}

// Open connections, event streams, log files and children all take descriptors: use what the
// hard limit allows, and keep max_connections well under it so the server can still open its
// own files when every connection slot is taken.
size_t RaiseFileLimit(size_t wanted_connections) {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return wanted_connections;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  if (rl.rlim_cur == RLIM_INFINITY) return wanted_connections;
  size_t room = rl.rlim_cur > 512 ? static_cast<size_t>(rl.rlim_cur) - 256
                                  : static_cast<size_t>(rl.rlim_cur) / 2;
  return std::min(wanted_connections, room);
}

HttpServerOptions HttpOptions(const DaemonOptions& o) {
  const spec::ServerLimits& limits = o.config.server.limits;
  HttpServerOptions h;
  h.listen = o.listen.empty() ? o.config.server.listen : o.listen;
  h.header_timeout_ms = limits.header_timeout_ms;
  h.write_timeout_ms = limits.write_timeout_ms;
  h.max_connections = RaiseFileLimit(static_cast<size_t>(limits.connections));
  h.max_inflight_body_bytes = limits.inflight_bodies;
  h.max_event_streams = static_cast<size_t>(limits.event_streams);
  h.max_event_streams_per_client = static_cast<size_t>(limits.event_streams_per_client);
  return h;
}

// Without tokens in kiln.yml the server keeps a local operator token (local_token.h).
base::Status SetUpLocalToken(Auth& auth, const fs::path& state_dir) {
  if (auth.has_tokens()) return base::Status::Ok();
  auto token = LoadOrCreateLocalToken(state_dir);
  if (!token.ok()) return token.status();
  auth.SetLocalToken(*token);
  std::fprintf(stderr,
               "kiln serve: no tokens in kiln.yml: mutations need the local token in %s "
               "(the kiln CLI on this machine sends it by itself)\n",
               (state_dir / kLocalTokenFile).c_str());
  return base::Status::Ok();
}

AdmissionPolicy MakePolicy(const ServerContext& ctx) {
  AdmissionPolicy policy{
      .auth = &ctx.auth, .hosts = ctx.config.server.hosts, .limits = ctx.config.server.limits};
  policy.webhook_connection = [&ctx](std::string_view name) {
    return ctx.webhook_secrets.count(std::string(name)) > 0;
  };
  return policy;
}

// Runs the loop until it is stopped. A handler that throws past its own boundary (a bug) is
// logged and the loop goes on: one fault never ends the daemon.
void RunLoop(asio::io_context& loop) {
  for (;;) {
    try {
      loop.run();
      return;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "kiln serve: internal error on the event loop: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "kiln serve: internal error on the event loop\n");
    }
  }
}

// Measures how late a 100 ms timer fires: the loop's latency, for /metrics.
void WatchLoopLag(asio::steady_timer& timer, Metrics& metrics, int64_t expected) {
  timer.expires_after(std::chrono::milliseconds(100));
  timer.async_wait([&timer, &metrics, expected](boost::system::error_code ec) {
    if (ec) return;
    int64_t now = base::MonotonicMillis();
    metrics.Gauge("kiln_event_loop_lag_seconds", {},
                  static_cast<double>(std::max<int64_t>(0, now - expected)) / 1000.0);
    WatchLoopLag(timer, metrics, now + 100);
  });
}

void DescribeMetrics(Metrics& m) {
  m.Describe("kiln_executions_finished_total", "counter", "Pipeline executions ended, by status");
  m.Describe("kiln_builds_finished_total", "counter", "Builds started by the server, by status");
  m.Describe("kiln_build_duration_seconds", "histogram", "Durations of builds run by the server");
  m.Describe("kiln_store_write_failures_total", "counter",
             "Store writes the runner could not make");
  m.Describe("kiln_queue_depth", "gauge", "Queued work waiting for a free slot");
  m.Describe("kiln_webhook_deliveries_total", "counter", "Webhook deliveries by outcome");
  m.Describe("kiln_event_loop_lag_seconds", "gauge", "How late the event loop ran a 100 ms timer");
  m.Describe("kiln_http_requests_total", "counter", "HTTP requests read");
  m.Describe("kiln_sse_clients", "gauge", "Clients subscribed to /api/v1/events");
  m.Describe("kiln_executions_running", "gauge", "Executions running now");
  m.Describe("kiln_builds_running", "gauge", "Builds running now (started by the server)");
}

// What the daemon reads before it serves: the store, the pipelines, who may call, and the
// webhook secrets.
struct Startup {
  std::unique_ptr<store::Store> reads;
  Catalog catalog;
  Auth auth;
  std::map<std::string, std::string> webhook_secrets;
};

// Checks kiln.yml, secures and opens the state dir; nullopt after printing why, with
// *exit_code set (kExitUsage for the user's files, kExitInternal otherwise).
std::optional<Startup> LoadStartup(DaemonOptions& o, int* exit_code) {
  *exit_code = kExitUsage;
  if (!CheckConfig(o)) return std::nullopt;
  *exit_code = kExitInternal;
  if (auto st = store::SecureStateDir(o.state_dir, store::ModeCheck::kAlways); !st.ok()) {
    std::fprintf(stderr, "kiln serve: state dir: %s\n", st.message().c_str());
    return std::nullopt;
  }
  o.state_dir = fs::absolute(o.state_dir);
  auto reads = store::Store::Open((o.state_dir / "kiln.db").string());
  if (!reads.ok()) {
    std::fprintf(stderr, "kiln serve: %s\n", reads.status().message().c_str());
    return std::nullopt;
  }
  auto catalog = SavePipelines(**reads, o);
  auto auth = Auth::FromConfig(o.config);
  auto secrets = WebhookSecrets(o.config);
  if (!catalog.ok() || !auth.ok() || !secrets.ok()) {
    const base::Status& st = !catalog.ok() ? catalog.status()
                             : !auth.ok()  ? auth.status()
                                           : secrets.status();
    std::fprintf(stderr, "%s: error: %s\n", o.config.file.c_str(), st.message().c_str());
    *exit_code = kExitUsage;
    return std::nullopt;
  }
  return Startup{std::move(*reads), std::move(*catalog), std::move(*auth), std::move(*secrets)};
}

// kiln.yml's registry.listen, supervised (null when there is none); false after printing why.
bool StartRegistry(const DaemonOptions& o, std::unique_ptr<registry::Supervisor>* out) {
  if (o.config.registry.listen.empty()) return true;
  auto started = registry::Supervisor::Start(
      registry::PathsUnder(o.state_dir), o.config.registry.listen,
      [](const std::string& line) { std::fprintf(stderr, "kiln serve: %s\n", line.c_str()); });
  if (!started.ok()) {
    std::fprintf(stderr, "kiln serve: registry: %s\n", started.status().message().c_str());
    return false;
  }
  *out = std::move(*started);
  std::fprintf(stderr, "kiln serve: registry (ECR's stand-in) on %s\n",
               o.config.registry.listen.c_str());
  return true;
}

// A pipeline version: from the catalog when it is the current one, else from the store.
std::function<std::optional<spec::Pipeline>(const std::string&, int64_t)> PipelineFinder(
    const Catalog& cat, const DaemonOptions& o) {
  return [&cat, &o](const std::string& name, int64_t version) -> std::optional<spec::Pipeline> {
    auto it = cat.find(name);
    if (it != cat.end() && it->second.version == version) return it->second.pipeline;
    auto store = store::Store::Open((o.state_dir / "kiln.db").string());
    if (!store.ok()) return std::nullopt;
    auto stored = (*store)->GetPipeline(name, version);
    if (!stored.ok() || !*stored) return std::nullopt;
    return spec::ParsePipeline((*stored)->definition, "<stored definition>").pipeline;
  };
}

// Drops cached pipeline state on every event, and reacts to builds that ended.
void WatchEvents(ServerContext& ctx) {
  ctx.events.Listen([&ctx](const Event& e) {
    if (!e.pipeline.empty()) ctx.state_cache.erase(e.pipeline);
    if (e.type == "build" && e.data.find("\"IN_PROGRESS\"") == std::string::npos) {
      auto j = nlohmann::json::parse(e.data, nullptr, false);
      if (j.is_object()) BuildEnded(ctx, j.value("id", ""));
    }
  });
}

// Every second the gauges; every tenth second an SSE heartbeat. Loop thread only.
class GaugeTicker {
 public:
  GaugeTicker(asio::io_context& loop, ServerContext& ctx, const HttpServer& http)
      : timer_(loop), ctx_(ctx), http_(http) {}
  void Tick() {
    ctx_.metrics.Gauge("kiln_http_requests_total", {}, static_cast<double>(http_.stats().requests));
    ctx_.metrics.Gauge("kiln_sse_clients", {}, static_cast<double>(ctx_.events.subscribers()));
    ctx_.metrics.Gauge("kiln_executions_running", {},
                       static_cast<double>(ctx_.runner.running_executions()));
    ctx_.metrics.Gauge("kiln_builds_running", {},
                       static_cast<double>(ctx_.runner.running_builds()));
    if (++ticks_ % 10 == 0) ctx_.events.Heartbeat();
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](boost::system::error_code e) {
      if (!e) Tick();
    });
  }
  void Stop() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
  ServerContext& ctx_;
  const HttpServer& http_;
  int ticks_ = 0;
};

// The HTTP server with admission in front; null after printing why.
std::unique_ptr<HttpServer> StartHttp(ServerContext& ctx, const AdmissionPolicy& policy,
                                      const DaemonOptions& o) {
  auto http = HttpServer::Start(
      ctx.loop, HttpOptions(o),
      [&ctx, &policy](const RequestHead& head, const std::string&) {
        return AdmitRequest(ctx, policy, head);
      },
      [&ctx](std::shared_ptr<Exchange> ex) { HandleRequest(ctx, ex); });
  if (!http.ok()) {
    std::fprintf(stderr, "kiln serve: %s\n", http.status().message().c_str());
    return nullptr;
  }
  if (auto st = WriteServerInfo(o.state_dir, (*http)->address()); !st.ok()) {
    std::fprintf(stderr, "kiln serve: %s\n", st.message().c_str());
  }
  return std::move(*http);
}

}  // namespace

int RunDaemon(DaemonOptions o) {
  ::signal(SIGPIPE, SIG_IGN);
  exec::BecomeSubreaper();
  int exit_code = kExitOk;
  std::optional<Startup> boot = LoadStartup(o, &exit_code);
  if (!boot) return exit_code;
  RunCatching("recovery", [&] { Reconcile(*boot->reads); });
  RunCatching("recovery", [&] { RemoveOrphanContainers(o.state_dir, o.debug); });
  RunCatching("recovery", [&] { RemoveOrphanBuildJobs(o.state_dir, o.config); });
  // Declared before the loop and the runners, so it stops after them (TERM, KILL after 5 s).
  std::unique_ptr<registry::Supervisor> registry;
  if (!StartRegistry(o, &registry)) return kExitInternal;

  asio::io_context loop(1);
  EventHub events(loop);
  Metrics metrics;
  DescribeMetrics(metrics);
  StoreWorker writer(o.state_dir / "kiln.db");
  ServiceHost services(loop, o.state_dir, o.config, o.time_scale);
  if (auto st = services.Start(events); !st.ok()) {
    std::fprintf(stderr, "kiln serve: services: %s\n", st.message().c_str());
    return kExitInternal;
  }
  Runner runner({.state_dir = o.state_dir,
                 .config = &o.config,
                 .max_executions = o.max_executions,
                 .max_builds = o.max_builds,
                 .max_builds_per_project = o.max_builds_per_project,
                 .deployer = services.deployer(),
                 .find_pipeline = PipelineFinder(boot->catalog, o)},
                events, metrics);
  FileWatch files(loop);
  ServerContext ctx{.loop = loop,
                    .state_dir = o.state_dir,
                    .config = o.config,
                    .catalog = boot->catalog,
                    .reads = *boot->reads,
                    .writer = writer,
                    .events = events,
                    .metrics = metrics,
                    .runner = runner,
                    .auth = boot->auth,
                    .files = files,
                    .webhook_secrets = boot->webhook_secrets};
  WatchEvents(ctx);
  ctx.services = services.manager();
  if (auto st = SetUpLocalToken(boot->auth, o.state_dir); !st.ok()) {
    std::fprintf(stderr, "kiln serve: %s\n", st.message().c_str());
    return kExitUsage;
  }
  AdmissionPolicy policy = MakePolicy(ctx);
  std::unique_ptr<HttpServer> http = StartHttp(ctx, policy, o);
  if (!http) return kExitInternal;
  runner.Start();
  Poller poller(ctx, [&runner] { runner.Wake(); });
  Scheduler scheduler(ctx, [&runner] { runner.Wake(); });
  asio::steady_timer lag_timer(loop);
  WatchLoopLag(lag_timer, metrics, base::MonotonicMillis() + 100);
  GaugeTicker gauges(loop, ctx, *http);
  gauges.Tick();

  // SIGTERM/SIGINT: stop taking work, let the runners finish within the grace (off the loop,
  // which keeps serving status meanwhile), then close streams, stop services and the loop.
  std::thread stopper;
  asio::signal_set signals(loop, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code e, int signo) {
    if (e) return;
    std::fprintf(stderr, "kiln serve: %s: shutting down (grace %lld ms)\n",
                 signo == SIGTERM ? "SIGTERM" : "SIGINT",
                 static_cast<long long>(o.shutdown_grace_ms));
    http->StopAccepting();
    poller.Stop();
    scheduler.Stop();
    stopper = std::thread([&] {
      runner.Shutdown(o.shutdown_grace_ms);
      asio::post(loop, [&] {
        events.CloseAll();
        services.Shutdown([&] {
          http->CloseAll();
          lag_timer.cancel();
          gauges.Stop();
          loop.stop();
        });
      });
    });
  });

  std::printf("kiln serve: listening on http://%s (state %s)\n", http->address().c_str(),
              o.state_dir.c_str());
  std::fflush(stdout);
  RunLoop(loop);
  if (stopper.joinable()) stopper.join();
  std::error_code removed;
  fs::remove(o.state_dir / kServerInfoFile, removed);
  std::fprintf(stderr, "kiln serve: stopped\n");
  return kExitOk;
}

}  // namespace kiln::server
