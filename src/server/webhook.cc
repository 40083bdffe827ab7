// POST /webhooks/github/{connection}: a GitHub delivery, checked, matched and queued exactly
// once. The signature is checked over the raw body before anything parses it; the answer is
// sent only after the delivery and what it starts are committed (DESIGN.md "Server").
#include "base/ids.h"
#include "base/json_text.h"
#include "pipeline/engine.h"
#include "server/api_handlers.h"
#include "source/github_webhook.h"
#include "source/trigger_filter.h"

namespace kiln::server {
namespace {

using nlohmann::json;

void Refuse(ServerContext& ctx, const ExchangePtr& ex, const std::string& connection,
            unsigned status, const std::string& code, const std::string& message) {
  ctx.metrics.Count("kiln_webhook_deliveries_total",
                    {{"connection", connection}, {"outcome", code}});
  ex->Reply(JsonError(status, code, message));
}

std::string Header(const ExchangePtr& ex, const char* name) {
  auto v = ex->request()[name];
  return std::string(v.data(), v.size());
}

// GitHub's "application/x-www-form-urlencoded" content type sends payload=<urlencoded JSON>.
bool FormPayload(const std::string& body, std::string* out) {
  if (!body.starts_with("payload=")) return false;
  Target t;
  if (!ParseTarget("/?" + body, &t)) return false;
  *out = t.Query("payload");
  return true;
}

struct Starts {
  std::vector<store::QueuedExecution> executions;
  std::vector<store::BuildRow> builds;
};

Starts Match(ServerContext& ctx, const std::string& connection, const std::string& delivery,
             const source::WebhookEvent& event) {
  Starts out;
  auto same = source::SameConnectionIn(ctx.config, connection);
  for (const auto& [name, entry] : ctx.catalog) {
    source::TriggerMatch m = source::MatchPipelineTriggers(entry.pipeline, event, same);
    if (!m.matched()) continue;
    // A pull request trigger builds the source branch's head (CodePipeline); a merged one the
    // merge commit, the same as the push GitHub also sends, so the two start one execution.
    std::string revision = event.IsPullRequest() && !event.merged ? event.head_sha : event.commit;
    pipeline::StartOptions start{
        .revision = revision,
        .trigger_type = entry.pipeline.triggers.empty() ? "Webhook" : "WebhookV2",
        .trigger_detail =
            "delivery " + delivery + ": " + event.codebuild_event + " " + event.head_ref};
    auto q = pipeline::Engine::Queue(entry.pipeline, entry.version, start, revision);
    if (q.ok()) out.executions.push_back(std::move(*q));
  }
  for (const auto& p : ctx.config.projects) {
    if (!p.webhook || !same(p.webhook->connection)) continue;
    if (!source::MatchFilterGroups(*p.webhook, event)) continue;
    std::string trigger = event.IsPullRequest()
                              ? "pr/" + std::to_string(event.pull_request_number)
                              : (event.IsTag() ? "tag/" + std::string(event.TagName())
                                               : "branch/" + std::string(event.BranchName()));
    StoredBuildRequest request{
        .project_name = p.name,
        .initiator = "GitHub-Hookshot/" + delivery,
        .source = BuildSourceRef{
            .connection = connection,
            .revision = event.IsPullRequest() && !event.merged ? event.head_sha : event.commit,
            .webhook_event = event.codebuild_event,
            .webhook_head_ref = event.head_ref,
            .webhook_base_ref = event.base_ref,
            .webhook_trigger = trigger,
            .webhook_actor_account_id = event.actor_account_id}};
    out.builds.push_back({.id = p.name + ":" + base::NewUuid(),
                          .project = p.name,
                          .status = "QUEUED",
                          .record_json = StoredBuildRequestJson(request),
                          .start_ms = base::NowMillis()});
  }
  return out;
}

}  // namespace

void HandleGithubWebhook(ServerContext& ctx, const ExchangePtr& ex, const std::string& connection) {
  const spec::Connection* conn = ctx.config.FindConnection(connection);
  if (!conn) {
    return Refuse(ctx, ex, connection, 404, "unknown_connection",
                  "no connection named '" + connection + "'");
  }
  auto secret = ctx.webhook_secrets.find(conn->name);
  if (secret == ctx.webhook_secrets.end()) {
    return Refuse(ctx, ex, connection, 403, "no_webhook_secret",
                  "connection '" + conn->name + "' has no webhook_secret: deliveries are refused");
  }
  const std::string& raw = ex->request().body();
  if (!source::VerifyGithubSignature(secret->second, raw, Header(ex, "X-Hub-Signature-256"))) {
    return Refuse(ctx, ex, connection, 401, "bad_signature",
                  "X-Hub-Signature-256 is missing or does not match the body");
  }
  std::string event_name = Header(ex, "X-GitHub-Event");
  std::string delivery = Header(ex, "X-GitHub-Delivery");
  if (event_name.empty() || delivery.empty() || delivery.size() > 200) {
    return Refuse(ctx, ex, connection, 400, "bad_request",
                  "X-GitHub-Event and X-GitHub-Delivery (at most 200 bytes) are required");
  }
  std::string form;
  bool is_form = Header(ex, "Content-Type").starts_with("application/x-www-form-urlencoded");
  if (is_form && !FormPayload(raw, &form)) {
    return Refuse(ctx, ex, connection, 400, "bad_request", "form body without payload=");
  }
  auto event = source::ParseGithubWebhook(event_name, is_form ? form : raw);
  if (!event.ok()) {
    return Refuse(ctx, ex, connection, 400, "bad_payload", event.status().message());
  }
  Starts starts;
  std::string outcome = "ignored", detail = event->ignored_reason;
  if (event->kind == source::WebhookKind::kPing) {
    outcome = "ping";
  } else if (event->kind != source::WebhookKind::kIgnored) {
    starts = Match(ctx, conn->name, delivery, *event);
    bool any = !starts.executions.empty() || !starts.builds.empty();
    outcome = any ? "started" : "no_match";
    detail = event->codebuild_event + " " + event->head_ref + " " + event->commit;
  }
  store::DeliveryRow row{.id = delivery,
                         .connection = conn->name,
                         .event = event_name,
                         .received_ms = base::NowMillis(),
                         .outcome = outcome,
                         .detail = detail};
  ctx.writer.Post([&ctx, ex, row, starts = std::move(starts), zen = event->zen](store::Store* s) {
    if (!s) return ex->Reply(JsonError(503, "store", "the store is not available"));
    auto r = s->Accept(row, starts.executions, starts.builds);
    if (!r.ok()) {
      // Not committed: GitHub may redeliver, and nothing ran.
      return ex->Reply(JsonError(503, "store", r.status().message()));
    }
    std::string outcome = r->duplicate ? "duplicate" : row.outcome;
    if (outcome == "started" && r->executions.empty() && r->builds.empty()) {
      outcome = "already_started";  // every (pipeline, commit) had run before
    }
    ctx.metrics.Count("kiln_webhook_deliveries_total",
                      {{"connection", row.connection}, {"outcome", outcome}});
    PublishQueued(ctx, starts.executions, *r);
    if (!r->executions.empty() || !r->builds.empty()) ctx.runner.Wake();
    json body{{"delivery", row.id},
              {"outcome", outcome},
              {"executions", r->executions},
              {"builds", r->builds},
              {"alreadyStarted", r->already}};
    if (!zen.empty()) body["zen"] = zen;
    if (row.outcome == "ignored") body["reason"] = row.detail;
    ex->Reply(JsonResponse(outcome == "started" ? 202 : 200, body));
  });
}

}  // namespace kiln::server
