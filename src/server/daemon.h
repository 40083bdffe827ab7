// `kiln serve`: wires the server's parts together (the composition place, STYLE.md) and runs
// the event loop until SIGTERM or SIGINT, then shuts down gracefully.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "spec/kiln_config.h"
#include "spec/pipeline.h"

namespace kiln::server {

struct DaemonPipeline {
  spec::Pipeline pipeline;
  std::string definition_json;  // as stored (spec::PipelineToJson)
};

struct DaemonOptions {
  std::filesystem::path state_dir;
  spec::KilnConfig config;
  std::vector<DaemonPipeline> pipelines;
  std::string listen;                  // empty: config.server.listen
  int64_t shutdown_grace_ms = 30'000;  // running work may finish within this on SIGTERM
  int max_executions = 16;
  int max_builds = 8;
  int max_builds_per_project = 4;
  // Multiplies services' health-check intervals, grace periods and back-off (tests: 0.2);
  // kiln.yml's seconds keep their meaning at 1.0.
  double time_scale = 1.0;
  bool debug = false;  // say more on stderr (kiln serve --debug, KILN_DEBUG)
};

// Returns the exit code: 0 after a clean shutdown; 2 for a configuration the server refuses
// (each problem printed on stderr); 70 when it cannot start (listen, store).
int RunDaemon(DaemonOptions options);

}  // namespace kiln::server
