#include "server/api.h"

#include <algorithm>

#include "pipeline/execution_status.h"
#include "server/admission.h"
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
  // The Content-Type was checked with the head (admission.h): one place for that rule.
  *out = nlohmann::json::parse(body, nullptr, false);
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
    ctx.events.Publish(
        "execution", q.row.pipeline, q.row.id,
        {{"pipelineName", q.row.pipeline},
         {"pipelineExecutionId", q.row.id},
         {"status", std::string(pipeline::ApiName(pipeline::ExecutionStatus::kQueued))},
         {"trigger",
          {{"triggerType", q.row.trigger_type}, {"triggerDetail", q.row.trigger_detail}}}});
  }
}

namespace {

void ServeAsset(const ExchangePtr& ex, std::string_view type, std::string_view body) {
  Response r;
  r.content_type = std::string(type);
  r.body = std::string(body);
  r.headers.emplace_back("Content-Security-Policy", std::string(WebUiPolicy()));
  ex->Reply(std::move(r));
}

bool RoutePage(const ExchangePtr& ex, const Target& t) {
  if (!IsGet(ex)) return false;
  if (t.segments.empty()) {
    ServeAsset(ex, "text/html; charset=utf-8", WebUiPage());
  } else if (t.Is({"ui.js"})) {
    ServeAsset(ex, "text/javascript; charset=utf-8", WebUiScript());
  } else if (t.Is({"ui.css"})) {
    ServeAsset(ex, "text/css; charset=utf-8", WebUiStyle());
  } else {
    return false;
  }
  return true;
}

}  // namespace

void HandleRequest(ServerContext& ctx, const ExchangePtr& ex) {
  Target t;
  std::string_view raw(ex->request().target().data(), ex->request().target().size());
  if (!ParseTarget(raw, &t)) {
    ex->Reply(JsonError(400, "bad_target", "malformed request target"));
    return;
  }
  if (t.Is({"webhooks", "github", "*"})) {  // POST to a known connection (admission.h)
    HandleGithubWebhook(ctx, ex, t.segments[2]);
    return;
  }
  // Credentials, Host and Origin were checked from the head (admission.h).
  if (t.Is({"healthz"})) {
    ex->Reply(JsonResponse(200, {{"status", "ok"}}));
    return;
  }
  if (RoutePage(ex, t)) return;
  if (t.Is({"metrics"})) {
    Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = ctx.metrics.Render();
    ex->Reply(std::move(r));
    return;
  }
  if (t.segments.size() >= 2 && t.segments[0] == "api" && t.segments[1] == "v1") {
    if (RoutePipelines(ctx, ex, t) || RouteBuilds(ctx, ex, t) || RouteServices(ctx, ex, t) ||
        RouteServerSettings(ctx, ex, t)) {
      return;
    }
  }
  ex->Reply(JsonError(404, "not_found", "no such resource: " + std::string(raw.substr(0, 200))));
}

HeadDecision AdmitRequest(ServerContext& ctx, const AdmissionPolicy& policy,
                          const RequestHead& head) {
  HeadDecision d = Admit(head, policy);
  std::string_view target(head.target().data(), head.target().size());
  if (d.refusal && target.starts_with("/webhooks/")) {
    // The URL's connection name is not a label (one series per request): "unknown".
    ctx.metrics.Count(
        "kiln_webhook_deliveries_total",
        {{"connection", "unknown"}, {"outcome", "refused_" + std::to_string(d.refusal->status)}});
  }
  return d;
}

}  // namespace kiln::server
