// The API's handlers, by resource (internal to src/server). Each answers through ex.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "server/api_intake.h"
#include "server/context.h"
#include "server/http_server.h"
#include "server/router.h"

namespace kiln::server {

using ExchangePtr = std::shared_ptr<Exchange>;

// Pipelines and executions (api_pipelines.cc). False if no route matched.
bool RoutePipelines(ServerContext& ctx, const ExchangePtr& ex, const Target& t);
// Builds, logs and projects (api_builds.cc).
bool RouteBuilds(ServerContext& ctx, const ExchangePtr& ex, const Target& t);
// Answers the requests waiting for build `id` to end (api_builds.cc).
void BuildEnded(ServerContext& ctx, const std::string& id);
// Services (api_services.cc).
bool RouteServices(ServerContext& ctx, const ExchangePtr& ex, const Target& t);
// GET /api/v1/services/{name}/logs (api_service_logs.cc). Precondition: ctx.services.
void ServiceLogs(ServerContext& ctx, const ExchangePtr& ex, const Target& t);
// The HTTP status for a deploy-layer error: 404 not found, 400 bad input, else 500.
unsigned HttpStatusFor(const base::Status& st);
// GET /api/v1/server, POST /api/v1/server/local-token/rotate: role admin (api_server.cc).
bool RouteServerSettings(ServerContext& ctx, const ExchangePtr& ex, const Target& t);
// POST /webhooks/github/{connection} (webhook.cc).
void HandleGithubWebhook(ServerContext& ctx, const ExchangePtr& ex, const std::string& connection);

// Publishes "Queued" for each execution the intake created (of those offered).
void PublishQueued(ServerContext& ctx, const std::vector<store::QueuedExecution>& offered,
                   const store::IntakeResult& result);

// The request body as a JSON object ({} when empty); false (and a 400 sent) if it is not.
bool BodyJson(const ExchangePtr& ex, nlohmann::json* out);
// The body read by parse (api_intake.h); nullopt, and a 400 naming the field sent, if the body
// is not JSON or does not parse.
template <typename T>
std::optional<T> ReadBody(const ExchangePtr& ex, base::Result<T> (*parse)(const nlohmann::json&)) {
  nlohmann::json body;
  if (!BodyJson(ex, &body)) return std::nullopt;
  auto parsed = parse(body);
  if (!parsed.ok()) {
    ex->Reply(JsonError(400, "bad_request", parsed.status().message()));
    return std::nullopt;
  }
  return std::move(parsed).value();
}
bool IsPost(const ExchangePtr& ex);
bool IsGet(const ExchangePtr& ex);

}  // namespace kiln::server
