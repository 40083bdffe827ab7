// /api/v1/services...: DescribeServices-shaped answers, deployments, rollback and scaling
// (the deploy layer's ServiceManager, on the loop); logs in api_service_logs.cc.
#include "base/json_text.h"
#include "deploy/service_manager.h"
#include "server/api_handlers.h"

namespace kiln::server {
namespace {

using nlohmann::json;

json OutcomeJson(const deploy::DeploymentOutcome& o) {
  return {{"deploymentId", o.deployment_id}, {"serviceName", o.service},
          {"revision", o.revision},          {"rolloutState", o.rollout_state},
          {"rolloutStateReason", o.reason},  {"rollbackRevision", o.rollback_revision}};
}

// Answers 202 with the deployment id, or with ?wait=true the outcome once it is known.
void Answer(ServerContext& ctx, const ExchangePtr& ex, const Target& t,
            const std::function<base::Result<std::string>(deploy::OnDeploymentDone)>& start) {
  bool wait = t.Query("wait") == "true" || t.Query("wait") == "1";
  auto id = start([ex, wait, &ctx, service = t.segments[3]](const deploy::DeploymentOutcome& o) {
    ctx.events.Publish("service", "", "",
                       {{"serviceName", service},
                        {"deploymentId", o.deployment_id},
                        {"status", o.rollout_state},
                        {"reason", o.reason}});
    if (wait) ex->Reply(JsonResponse(200, OutcomeJson(o)));
  });
  if (!id.ok()) {
    ex->Reply(JsonError(HttpStatusFor(id.status()), "deployment_refused", id.status().message()));
    return;
  }
  ctx.events.Publish(
      "service", "", "",
      {{"serviceName", t.segments[3]}, {"deploymentId", *id}, {"status", "IN_PROGRESS"}});
  if (!wait) ex->Reply(JsonResponse(202, {{"deploymentId", *id}, {"rolloutState", "IN_PROGRESS"}}));
}

// The deploy layer reads an image file: the typed request written back as one.
deploy::DeployInput ToDeployInput(const DeployRequest& r) {
  deploy::DeployInput input{.revision = r.revision.value_or(0), .artifact_dir = r.artifact_dir};
  if (!r.image_definitions.empty()) {
    json defs = json::array();
    for (const auto& d : r.image_definitions) {
      defs.push_back({{"name", d.name}, {"imageUri", d.image_uri}});
    }
    input.image_file = base::JsonText(defs);
  } else if (r.image_detail_uri) {
    input.image_file = base::JsonText(json{{"ImageURI", *r.image_detail_uri}});
  }
  return input;
}

// {imageDefinitions: [...] | imageDetail: {...} | revision: N, artifactDir?: "/abs/dir"}
void Deploy(ServerContext& ctx, const ExchangePtr& ex, const Target& t) {
  auto body = ReadBody(ex, ParseDeployRequest);
  if (!body) return;
  deploy::DeployInput input = ToDeployInput(*body);
  Answer(ctx, ex, t, [&](deploy::OnDeploymentDone done) {
    return ctx.services->Deploy(t.segments[3], input, std::move(done));
  });
}

void Scale(ServerContext& ctx, const ExchangePtr& ex, const std::string& service) {
  auto body = ReadBody(ex, ParseScaleRequest);
  if (!body) return;
  auto st = ctx.services->Scale(service, body->desired_count);
  if (!st.ok()) return ex->Reply(JsonError(HttpStatusFor(st), "scale_refused", st.message()));
  ex->Reply(JsonResponse(200, {{"serviceName", service}, {"desiredCount", body->desired_count}}));
}

}  // namespace

unsigned HttpStatusFor(const base::Status& st) {
  switch (st.kind()) {
    case base::ErrorKind::kNotFound:
      return 404;
    case base::ErrorKind::kInvalidInput:
      return 400;
    case base::ErrorKind::kUnsupported:
      return 400;
    default:
      return 500;
  }
}

bool RouteServices(ServerContext& ctx, const ExchangePtr& ex, const Target& t) {
  if (t.segments.size() < 3 || t.segments[2] != "services") return false;
  if (!ctx.services) {
    if (t.Is({"api", "v1", "services"}) && IsGet(ex)) {
      ex->Reply(JsonResponse(200, {{"services", json::array()}}));
    } else {
      ex->Reply(JsonError(404, "service_not_found", "this server runs no services"));
    }
    return true;
  }
  if (t.Is({"api", "v1", "services"}) && IsGet(ex)) {
    ex->Reply(JsonResponse(200, ctx.services->ServicesJson()));
  } else if (t.Is({"api", "v1", "services", "*"}) && IsGet(ex)) {
    auto j = ctx.services->ServiceJson(t.segments[3]);
    if (!j.ok()) return ex->Reply(JsonError(404, "service_not_found", j.status().message())), true;
    ex->Reply(JsonResponse(200, *j));
  } else if (t.Is({"api", "v1", "services", "*", "deployments"}) && IsPost(ex)) {
    Deploy(ctx, ex, t);
  } else if (t.Is({"api", "v1", "services", "*", "rollback"}) && IsPost(ex)) {
    if (!ReadBody(ex, ParseRollbackRequest)) return true;
    Answer(ctx, ex, t, [&](deploy::OnDeploymentDone done) {
      return ctx.services->Rollback(t.segments[3], std::move(done));
    });
  } else if (t.Is({"api", "v1", "services", "*", "scale"}) && IsPost(ex)) {
    Scale(ctx, ex, t.segments[3]);
  } else if (t.Is({"api", "v1", "services", "*", "logs"}) && IsGet(ex)) {
    ServiceLogs(ctx, ex, t);
  } else {
    return false;
  }
  return true;
}

}  // namespace kiln::server
