// /api/v1/pipelines... and /api/v1/executions...: CodePipeline's shapes (the CLI's --json).
#include <algorithm>
#include <boost/asio/post.hpp>

#include "base/ids.h"
#include "base/json_text.h"
#include "pipeline/engine.h"
#include "pipeline/execution_control.h"
#include "pipeline/execution_status.h"
#include "pipeline/state_json.h"
#include "server/api_handlers.h"
#include "spec/pipeline.h"

namespace kiln::server {
namespace {

using nlohmann::json;

const CatalogEntry* FindPipeline(ServerContext& ctx, const ExchangePtr& ex,
                                 const std::string& name) {
  auto it = ctx.catalog.find(name);
  if (it != ctx.catalog.end()) return &it->second;
  ex->Reply(JsonError(404, "pipeline_not_found", "no pipeline named '" + name + "'"));
  return nullptr;
}

void ListPipelines(ServerContext& ctx, const ExchangePtr& ex) {
  json list = json::array();
  for (const auto& [name, e] : ctx.catalog) {
    list.push_back({{"name", name},
                    {"version", e.version},
                    {"pipelineType", e.pipeline.pipeline_type},
                    {"executionMode", spec::ExecutionModeName(e.pipeline.execution_mode)}});
  }
  ex->Reply(JsonResponse(200, {{"pipelines", list}}));
}

// The catalog's definitions, else the store's (an execution of an earlier version).
pipeline::DefinitionLookup Definitions(ServerContext& ctx) {
  return [&ctx, stored = pipeline::StoredDefinitions(ctx.reads)](
             const std::string& name, int64_t version) -> std::optional<spec::Pipeline> {
    auto it = ctx.catalog.find(name);
    if (it != ctx.catalog.end() && it->second.version == version) return it->second.pipeline;
    return stored(name, version);
  };
}

// GetPipelineState: the current definition's stages and actions, with the states of the
// latest execution (none for a pipeline never run), each stage's inbound transition and the
// execution waiting in front of it.
base::Result<json> PipelineStateJson(ServerContext& ctx, const CatalogEntry& entry) {
  json state{{"pipelineName", entry.pipeline.name}, {"pipelineVersion", entry.version}};
  auto latest = ctx.reads.ListExecutions(entry.pipeline.name, 1);
  if (!latest.ok()) return latest.status();
  pipeline::ExecutionRows rows;
  if (!latest->empty()) {
    auto loaded = pipeline::LoadExecutionRows(ctx.reads, latest->front().id);
    if (!loaded.ok()) return loaded.status();
    rows = std::move(*loaded);
    state["latestExecution"] = {
        {"pipelineExecutionId", rows.execution.id},
        {"status", std::string(pipeline::ApiStatusName(rows.execution.status))},
        {"statusSummary", rows.execution.summary}};
  }
  state["stageStates"] = pipeline::StageStatesJson(entry.pipeline, rows);
  auto transitions = ctx.reads.Transitions(entry.pipeline.name);
  if (!transitions.ok()) return transitions.status();
  auto active = ctx.reads.ActiveExecutions(entry.pipeline.name);
  if (!active.ok()) return active.status();
  pipeline::AddInboundStates(*transitions, *active, &state["stageStates"]);
  return state;
}

// Cached until the next event of the pipeline (daemon.cc drops it).
void GetPipelineState(ServerContext& ctx, const ExchangePtr& ex, const CatalogEntry& entry) {
  auto cached = ctx.state_cache.find(entry.pipeline.name);
  if (cached == ctx.state_cache.end()) {
    auto state = PipelineStateJson(ctx, entry);
    if (!state.ok()) return ex->Reply(JsonError(500, "store", state.status().message()));
    cached = ctx.state_cache.emplace(entry.pipeline.name, base::JsonText(*state)).first;
  }
  Response r;
  r.body = cached->second;
  ex->Reply(std::move(r));
}

// StartPipelineExecution: {variables: [{name, value}], sourceRevisions: [{actionName,
// revisionType: COMMIT_ID, revisionValue}]}.
void StartExecution(ServerContext& ctx, const ExchangePtr& ex, const CatalogEntry& entry) {
  auto body = ReadBody(ex, ParseStartExecutionRequest);
  if (!body) return;
  pipeline::StartOptions start;
  start.trigger_detail = ex->remote();
  for (const auto& v : body->variables) start.variables[v.name] = v.value;
  // Kiln's source actions share one revision: the last one given wins.
  for (const auto& r : body->source_revisions) start.revision = r.revision_value;
  auto queued = pipeline::Engine::Queue(entry.pipeline, entry.version, start, "");
  if (!queued.ok()) {
    ex->Reply(JsonError(400, "bad_request", queued.status().message()));
    return;
  }
  std::string id = queued->row.id;
  uint64_t event_id = ctx.events.last_id();
  ctx.writer.Post([&ctx, ex, q = std::move(*queued), id, event_id](store::Store* store) {
    if (!store) return ex->Reply(JsonError(500, "store", "the store is not available"));
    auto r = store->Accept({}, {q}, {});
    if (!r.ok()) return ex->Reply(JsonError(500, "store", r.status().message()));
    PublishQueued(ctx, {q}, *r);
    ctx.runner.Wake();
    ex->Reply(JsonResponse(201, {{"pipelineExecutionId", id}, {"eventId", event_id}}));
  });
}

void GetExecution(ServerContext& ctx, const ExchangePtr& ex, const std::string& id) {
  auto j = pipeline::ExecutionJson(ctx.reads, id, Definitions(ctx));
  if (!j.ok()) {
    bool missing = j.status().kind() == base::ErrorKind::kNotFound;
    ex->Reply(JsonError(missing ? 404 : 500, missing ? "execution_not_found" : "store",
                        j.status().message()));
    return;
  }
  ex->Reply(JsonResponse(200, *j));
}

base::Result<store::ExecutionRow> FindExecution(ServerContext& ctx, const std::string& id) {
  auto row = ctx.reads.GetExecution(id);
  if (!row.ok() || !*row) return base::NotFound("no execution " + id);
  return **row;
}

// StopPipelineExecution: {abandon, reason}. pipeline::RequestStop decides (as for the CLI).
void StopExecution(ServerContext& ctx, const ExchangePtr& ex, const std::string& id) {
  auto body = ReadBody(ex, ParseStopExecutionRequest);
  if (!body) return;
  std::string mode = body->abandon ? "abandon" : "wait";
  ctx.writer.Post([&ctx, ex, id, mode, abandon = body->abandon](store::Store* s) {
    if (!s) return ex->Reply(JsonError(500, "store", "the store is not available"));
    auto outcome = pipeline::RequestStop(*s, id, abandon);
    if (outcome.ok()) {
      ctx.runner.Notify(id);  // the engine running it stops it now
      return ex->Reply(JsonResponse(200, {{"pipelineExecutionId", id}, {"stopRequested", mode}}));
    }
    switch (outcome.status().kind()) {
      case base::ErrorKind::kNotFound:
        return ex->Reply(JsonError(404, "execution_not_found", outcome.status().message()));
      case base::ErrorKind::kFailed:
        return ex->Reply(JsonError(409, "not_running", outcome.status().message()));
      default:
        return ex->Reply(JsonError(500, "store", outcome.status().message()));
    }
  });
}

// RetryStageExecution: {stageName, retryMode}. The engine re-checks the stage.
void RetryExecution(ServerContext& ctx, const ExchangePtr& ex, const std::string& id) {
  auto body = ReadBody(ex, ParseRetryStageRequest);
  if (!body) return;
  auto exec = FindExecution(ctx, id);
  if (!exec.ok()) return ex->Reply(JsonError(404, "execution_not_found", exec.status().message()));
  std::optional<pipeline::ExecutionStatus> status = pipeline::ParseExecutionStatus(exec->status);
  if (!status || !pipeline::CanRetry(*status)) {
    ex->Reply(JsonError(409, "not_retryable",
                        "execution " + id + " is " + exec->status +
                            ": only Failed or Stopped executions can be retried"));
    return;
  }
  uint64_t event_id = ctx.events.last_id();
  ctx.runner.Retry(*exec, body->stage_name, std::string(RetryModeName(body->mode)));
  ex->Reply(JsonResponse(
      202, {{"pipelineExecutionId", id}, {"stageName", body->stage_name}, {"eventId", event_id}}));
}

Response ApprovalError(const base::Status& st) {
  switch (st.kind()) {
    case base::ErrorKind::kInvalidInput:  // CodePipeline: InvalidApprovalTokenException (400)
      return JsonError(400, "invalid_approval_token", st.message());
    case base::ErrorKind::kFailed:
      return JsonError(409, "no_approval_waiting", st.message());
    default:
      return JsonError(500, "store", st.message());
  }
}

// PutApprovalResult: {stageName, actionName, summary, token}. Writes go through the writer,
// then the engine running the execution is told. A token, when given, must be the waiting
// approval's (GetPipelineState shows it).
void DecideApproval(ServerContext& ctx, const ExchangePtr& ex, const std::string& id,
                    const std::string& result) {
  auto body = ReadBody(ex, ParseApprovalRequest);
  if (!body) return;
  auto exec = FindExecution(ctx, id);
  if (!exec.ok()) return ex->Reply(JsonError(404, "execution_not_found", exec.status().message()));
  ctx.writer.Post([&ctx, ex, id, a = std::move(*body), result](store::Store* s) {
    if (!s) return ex->Reply(JsonError(500, "store", "the store is not available"));
    auto st = s->DecideApproval(id, a.stage_name, a.action_name, result, a.summary, a.token);
    if (!st.ok()) return ex->Reply(ApprovalError(st));
    ctx.runner.Notify(id);  // the engine running it goes on now
    ex->Reply(JsonResponse(200, {{"pipelineExecutionId", id}, {"status", result}}));
  });
}

// The stage whose inbound transition a request names: Kiln keeps inbound transitions only,
// so an Outbound one is the next stage's Inbound. 404 for an unknown stage, 400 for the
// outbound transition of the last stage.
std::optional<std::string> InboundStage(const ExchangePtr& ex, const spec::Pipeline& p,
                                        const std::string& stage, TransitionType type) {
  auto it = std::find_if(p.stages.begin(), p.stages.end(),
                         [&](const spec::Stage& s) { return s.name == stage; });
  if (it == p.stages.end()) {
    ex->Reply(JsonError(404, "stage_not_found",
                        "pipeline '" + p.name + "' has no stage named '" + stage + "'"));
    return std::nullopt;
  }
  if (type == TransitionType::kInbound) return stage;
  if (std::next(it) == p.stages.end()) {
    ex->Reply(JsonError(400, "bad_request",
                        "field 'transitionType': stage '" + stage +
                            "' is the last stage: it has no Outbound transition"));
    return std::nullopt;
  }
  return std::next(it)->name;
}

// DisableStageTransition / EnableStageTransition: {transitionType, reason}. Written through
// the writer; then the executions waiting at gates look again (an enabled transition lets
// the one waiting in front of it in), and the cached state is dropped before the reply.
void ChangeTransition(ServerContext& ctx, const ExchangePtr& ex, const CatalogEntry& entry,
                      const std::string& stage, bool enable) {
  auto body = ReadBody(ex, enable ? ParseEnableTransitionRequest : ParseDisableTransitionRequest);
  if (!body) return;
  auto target = InboundStage(ex, entry.pipeline, stage, body->type);
  if (!target) return;
  json done{{"pipelineName", entry.pipeline.name},
            {"stageName", *target},
            {"transitionType", "Inbound"},
            {"enabled", enable}};
  ctx.writer.Post([&ctx, ex, name = entry.pipeline.name, stage = *target, enable,
                   reason = body->reason, done = std::move(done)](store::Store* s) {
    if (!s) return ex->Reply(JsonError(500, "store", "the store is not available"));
    auto st = s->SetTransition(name, stage, enable, reason);
    if (!st.ok()) return ex->Reply(JsonError(500, "store", st.message()));
    ctx.runner.GatesChanged();
    ctx.events.Publish("transition", name, "", done);
    boost::asio::post(ctx.loop, [&ctx, ex, name, done] {
      ctx.state_cache.erase(name);
      ex->Reply(JsonResponse(200, done));
    });
  });
}

void ExecutionCommand(ServerContext& ctx, const ExchangePtr& ex, const std::string& id,
                      const std::string& verb) {
  if (verb == "stop") return StopExecution(ctx, ex, id);
  if (verb == "retry") return RetryExecution(ctx, ex, id);
  DecideApproval(ctx, ex, id, verb == "approve" ? "Approved" : "Rejected");
}

}  // namespace

bool RoutePipelines(ServerContext& ctx, const ExchangePtr& ex, const Target& t) {
  if (t.Is({"api", "v1", "pipelines"}) && IsGet(ex)) {
    ListPipelines(ctx, ex);
  } else if (t.Is({"api", "v1", "pipelines", "*"}) && IsGet(ex)) {
    if (auto* e = FindPipeline(ctx, ex, t.segments[3])) {
      Response r;
      r.body = R"({"pipeline":)" + e->definition_json + R"(,"metadata":{"version":)" +
               std::to_string(e->version) + "}}";
      ex->Reply(std::move(r));
    }
  } else if (t.Is({"api", "v1", "pipelines", "*", "state"}) && IsGet(ex)) {
    if (auto* e = FindPipeline(ctx, ex, t.segments[3])) GetPipelineState(ctx, ex, *e);
  } else if (t.Is({"api", "v1", "pipelines", "*", "executions"})) {
    const CatalogEntry* e = FindPipeline(ctx, ex, t.segments[3]);
    if (!e) return true;
    if (IsPost(ex)) return StartExecution(ctx, ex, *e), true;
    int limit = std::atoi(t.Query("limit", "100").c_str());
    auto rows = ctx.reads.ListExecutions(e->pipeline.name, limit > 0 ? limit : 100);
    if (!rows.ok()) return ex->Reply(JsonError(500, "store", rows.status().message())), true;
    ex->Reply(JsonResponse(200, pipeline::ExecutionListJson(*rows)));
  } else if (t.Is({"api", "v1", "pipelines", "*", "stages", "*", "*"}) && IsPost(ex)) {
    const std::string& verb = t.segments[6];
    if (verb != "disable-transition" && verb != "enable-transition") return false;
    if (auto* e = FindPipeline(ctx, ex, t.segments[3])) {
      ChangeTransition(ctx, ex, *e, t.segments[5], verb == "enable-transition");
    }
  } else if (t.Is({"api", "v1", "events"}) && IsGet(ex)) {
    EventFilter filter{.pipeline = t.Query("pipeline"),
                       .execution_id = t.Query("execution"),
                       .type = t.Query("type")};
    std::optional<uint64_t> after;
    auto last = ex->request()["Last-Event-ID"];
    if (!last.empty()) after = std::strtoull(std::string(last).c_str(), nullptr, 10);
    if (t.Query("replay") == "all") after = 0;
    ctx.events.Subscribe(ex->StartEvents(), std::move(filter), after);
  } else if (t.Is({"api", "v1", "executions", "*"}) && IsGet(ex)) {
    GetExecution(ctx, ex, t.segments[3]);
  } else if (t.Is({"api", "v1", "executions", "*", "*"}) && IsPost(ex)) {
    const std::string& verb = t.segments[4];
    if (verb != "stop" && verb != "retry" && verb != "approve" && verb != "reject") return false;
    ExecutionCommand(ctx, ex, t.segments[3], verb);
  } else {
    return false;
  }
  return true;
}

}  // namespace kiln::server
