#include "server/api.h"

#include <algorithm>

#include "server/api_handlers.h"
#include "server/web_ui.h"

namespace kiln::server {
namespace bhttp = boost::beast::http;

bool IsPost(const ExchangePtr& ex) { return ex->request().method() == bhttp::verb::post; }
bool IsGet(const ExchangePtr& ex) {
  return ex->request().method() == bhttp::verb::get || ex->request().method() == bhttp::verb::head;
}

bool BodyJson(const ExchangePtr& ex, nlohmann::json* out) {
  const std::string& body = ex->request().body();
  if (body.empty()) {
    *out = nlohmann::json::object();
    return true;
  }
  auto type = ex->request()[bhttp::field::content_type];
  *out = nlohmann::json::parse(body, nullptr, false);
  // curl -d sends form encoding by default: JSON under another type is accepted.
  if (!type.empty() && !type.starts_with("application/json") && out->is_discarded()) {
    ex->Reply(JsonError(415, "unsupported_media_type",
                        "expected Content-Type: application/json, got " + std::string(type)));
    return false;
  }
  if (out->is_discarded() || !out->is_object()) {
    ex->Reply(JsonError(400, "bad_json", "the request body is not a JSON object"));
    return false;
  }
  return true;
}

void PublishQueued(ServerContext& ctx, const std::vector<store::QueuedExecution>& offered,
                   const store::IntakeResult& result) {
  for (const auto& q : offered) {
    if (std::find(result.executions.begin(), result.executions.end(), q.row.id) ==
        result.executions.end()) {
      continue;
    }
    ctx.events.Publish("execution", q.row.pipeline, q.row.id,
                       {{"pipelineName", q.row.pipeline},
                        {"pipelineExecutionId", q.row.id},
                        {"status", "Queued"},
                        {"trigger", {{"triggerType", q.row.trigger_type},
                                     {"triggerDetail", q.row.trigger_detail}}}});
  }
}

uint64_t BodyLimitFor(const RequestHead& head) {
  std::string_view target(head.target().data(), head.target().size());
  if (target.starts_with("/webhooks/")) return 25ull * 1024 * 1024;
  if (head.method() == bhttp::verb::post) return 1024 * 1024;
  return 0;
}

namespace {

// Role needed: webhooks none (signature), /healthz none, mutations operate, reads read.
bool Authorized(ServerContext& ctx, const ExchangePtr& ex, const Target& t) {
  if (t.Is({"healthz"})) return true;
  Role needed = IsGet(ex) ? Role::kRead : Role::kOperate;
  auto header = ex->request()[bhttp::field::authorization];
  Role have = header.empty() ? ctx.auth.anonymous()
                             : ctx.auth.RoleOf(std::string_view(header.data(), header.size()));
  if (have >= needed) return true;
  if (header.empty()) {
    Response r = JsonError(401, "unauthorized",
                           std::string("this call needs a bearer token with role ") +
                               std::string(RoleName(needed)));
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    ex->Reply(std::move(r));
  } else if (have == Role::kNone) {
    ex->Reply(JsonError(401, "unauthorized", "the bearer token is not valid"));
  } else {
    ex->Reply(JsonError(403, "forbidden",
                        "this call needs role " + std::string(RoleName(needed)) +
                            "; the token has " + std::string(RoleName(have))));
  }
  return false;
}

}  // namespace

void HandleRequest(ServerContext& ctx, const ExchangePtr& ex) {
  Target t;
  std::string_view raw(ex->request().target().data(), ex->request().target().size());
  if (!ParseTarget(raw, &t)) {
    ex->Reply(JsonError(400, "bad_target", "malformed request target"));
    return;
  }
  if (t.Is({"webhooks", "github", "*"})) {
    if (!IsPost(ex)) {
      ex->Reply(JsonError(405, "method_not_allowed", "webhooks are POSTed"));
      return;
    }
    HandleGithubWebhook(ctx, ex, t.segments[2]);
    return;
  }
  if (!Authorized(ctx, ex, t)) return;
  if (t.Is({"healthz"})) {
    ex->Reply(JsonResponse(200, {{"status", "ok"}}));
    return;
  }
  if (t.segments.empty() && IsGet(ex)) {
    Response page;
    page.content_type = "text/html; charset=utf-8";
    page.body = std::string(WebUiPage());
    ex->Reply(std::move(page));
    return;
  }
  if (t.Is({"metrics"})) {
    Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = ctx.metrics.Render();
    ex->Reply(std::move(r));
    return;
  }
  if (t.segments.size() >= 2 && t.segments[0] == "api" && t.segments[1] == "v1") {
    if (RoutePipelines(ctx, ex, t) || RouteBuilds(ctx, ex, t) || RouteServices(ctx, ex, t)) return;
  }
  ex->Reply(JsonError(404, "not_found", "no such resource: " + std::string(raw.substr(0, 200))));
}

}  // namespace kiln::server
