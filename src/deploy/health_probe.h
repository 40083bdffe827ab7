// One health-check attempt against a task, asynchronous on the loop: an HTTP GET (ELB target
// group check), a TCP connect (mode tcp), or a command (ECS container healthCheck). Each
// calls done exactly once, on the loop, within its timeout (plus scheduling slack).
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "deploy/service_spec.h"

namespace kiln::deploy {

struct ProbeResult {
  bool ok = false;
  std::string detail;  // why it failed, e.g. "GET /api/health-check answered 500"
};
using ProbeDone = std::function<void(ProbeResult)>;

// ELB matcher: "200", "200,202", "200-299".
bool MatcherAccepts(std::string_view matcher, int status);

// GET check.path on 127.0.0.1:port; ok when the status matches and, if check.body is set,
// the body (first 64 KiB) contains it. Redirects are not followed (a 3xx fails unless matched).
void ProbeHttp(boost::asio::io_context& loop, uint16_t port, const BalancerHealthCheck& check,
               ProbeDone done);
// Ok when a TCP connection to 127.0.0.1:port opens within timeout_ms.
void ProbeTcp(boost::asio::io_context& loop, uint16_t port, int64_t timeout_ms, ProbeDone done);
// Runs ["CMD", argv...] directly or ["CMD-SHELL", text] with /bin/sh -c, in its own process
// group with env and cwd; ok on exit code 0. At timeout_ms the group is killed (a failure).
void ProbeCommand(boost::asio::io_context& loop, const std::vector<std::string>& command,
                  const std::vector<std::string>& env, const std::string& cwd, int64_t timeout_ms,
                  ProbeDone done);

}  // namespace kiln::deploy
