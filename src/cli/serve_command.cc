// `kiln serve [--listen HOST:PORT] [--grace DURATION]`: the daemon (src/server/daemon.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "base/duration.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/pipeline_loader.h"
#include "server/daemon.h"

namespace kiln::cli {
namespace {

struct ServeArgs {
  std::string listen;
  std::string grace = "30s";
  int max_executions = 16;
  int max_builds = 8;
  int max_builds_per_project = 4;
  double time_scale = 1.0;
  bool debug = false;
};

// KILN_DEBUG, read here at the command line's boundary (the daemon takes options only).
bool DebugFromEnvironment() {
  const char* debug = std::getenv("KILN_DEBUG");
  return debug && *debug;
}

int RunServe(const GlobalOptions& g, const ServeArgs& a) {
  std::optional<spec::KilnConfig> config;
  if (!LoadConfig(g, &config)) return kExitUsage;
  if (!config) {
    std::fprintf(stderr, "kiln: error: %s: no such file (kiln serve needs a kiln.yml)\n",
                 g.config.c_str());
    return kExitUsage;
  }
  auto grace = base::ParseDuration(a.grace);
  if (!grace.ok()) {
    std::fprintf(stderr, "kiln: error: --grace: %s\n", grace.status().message().c_str());
    return kExitUsage;
  }
  server::DaemonOptions o{.state_dir = StateDir(g),
                          .config = *config,
                          .listen = a.listen,
                          .shutdown_grace_ms = *grace,
                          .max_executions = a.max_executions,
                          .max_builds = a.max_builds,
                          .max_builds_per_project = a.max_builds_per_project,
                          .time_scale = a.time_scale,
                          .debug = a.debug || DebugFromEnvironment()};
  for (const auto& ref : config->pipelines) {
    auto loaded = LoadPipeline(ref.name, config);
    if (!loaded) return kExitUsage;
    o.pipelines.push_back({std::move(loaded->pipeline), std::move(loaded->definition_json)});
  }
  return server::RunDaemon(std::move(o));
}

}  // namespace

CommandSpec ServeCommand() {
  return {"serve", "run the server: webhooks, triggers, the REST API, live logs, services",
          [](CLI::App* sub) {
            auto a = std::make_shared<ServeArgs>();
            sub->add_option("--listen", a->listen,
                            "HOST:PORT to listen on (default: server.listen of kiln.yml, "
                            "127.0.0.1:8080)");
            sub->add_option("--grace", a->grace,
                            "on SIGTERM, how long running work may go on (default 30s)");
            sub->add_option("--max-executions", a->max_executions,
                            "executions running at once (default 16)")
                ->check(CLI::Range(1, 1000));
            sub->add_option("--max-builds", a->max_builds,
                            "project builds running at once (default 8)")
                ->check(CLI::Range(1, 1000));
            sub->add_option("--max-builds-per-project", a->max_builds_per_project,
                            "builds of one project running at once (default 4)")
                ->check(CLI::Range(1, 1000));
            // For tests: service health-check and deployment timings run this much faster.
            sub->add_option("--time-scale", a->time_scale)
                ->check(CLI::Range(0.01, 1.0))
                ->group("");  // hidden
            sub->add_flag("--debug", a->debug,
                          "say more about recovery and the engine on stderr (also KILN_DEBUG=1)");
            return [a](const GlobalOptions& g) { return RunServe(g, *a); };
          }};
}

}  // namespace kiln::cli
