// The API's handlers, by resource (internal to src/server). Each answers through ex.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

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
// GET /api/v1/server, POST /api/v1/server/local-token/rotate: role admin (api_server.cc).
bool RouteServerSettings(ServerContext& ctx, const ExchangePtr& ex, const Target& t);
// POST /webhooks/github/{connection} (webhook.cc).
void HandleGithubWebhook(ServerContext& ctx, const ExchangePtr& ex, const std::string& connection);

// Publishes "Queued" for each execution the intake created (of those offered).
void PublishQueued(ServerContext& ctx, const std::vector<store::QueuedExecution>& offered,
                   const store::IntakeResult& result);

// The request body as a JSON object ({} when empty); false (and a 400 sent) if it is not.
bool BodyJson(const ExchangePtr& ex, nlohmann::json* out);
bool IsPost(const ExchangePtr& ex);
bool IsGet(const ExchangePtr& ex);

}  // namespace kiln::server
