#include "pipeline/state_json.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/ids.h"
#include "pipeline/execution_status.h"
#include "spec/pipeline.h"

namespace kiln::pipeline {
namespace {

using nlohmann::json;

json Trigger(const store::ExecutionRow& e) {
  return {{"triggerType", e.trigger_type}, {"triggerDetail", e.trigger_detail}};
}

json Revisions(const store::ExecutionRow& e) {
  auto revs = json::parse(e.source_revisions_json, nullptr, false);
  return revs.is_array() ? revs : json::array();
}

std::string LastUpdate(const store::ExecutionRow& e) {
  return base::IsoTime(e.end_ms > 0 ? e.end_ms : e.start_ms);
}

const store::StageRow* FindStage(const ExecutionRows& rows, const std::string& stage) {
  for (const auto& s : rows.stages) {
    if (s.stage == stage) return &s;
  }
  return nullptr;
}

const store::ActionRow* FindAction(const ExecutionRows& rows, const std::string& stage,
                                   const std::string& action) {
  for (const auto& a : rows.actions) {
    if (a.stage == stage && a.action == action) return &a;
  }
  return nullptr;
}

const spec::Stage* Declared(const spec::Pipeline& p, const std::string& stage) {
  for (const auto& s : p.stages) {
    if (s.name == stage) return &s;
  }
  return nullptr;
}

bool Declares(const spec::Stage* s, const std::string& action) {
  return s && std::any_of(s->actions.begin(), s->actions.end(),
                          [&](const spec::Action& a) { return a.name == action; });
}

// The revision a Source action fetched, from the execution's sourceRevisions; null if unknown.
json CurrentRevision(const ExecutionRows& rows, const std::string& action) {
  for (const auto& r : Revisions(rows.execution)) {
    if (!r.is_object() || r.value("actionName", json()) != action) continue;
    const json id = r.value("revisionId", json());
    if (id.is_string() && !id.get_ref<const std::string&>().empty()) {
      return {{"revisionId", id}};
    }
  }
  return nullptr;
}

// CodePipeline shows a Manual approval's token while it waits.
bool WaitingApproval(const store::ActionRow& a, const spec::Action* declared) {
  bool manual = !declared || declared->type.provider == "Manual";
  return manual && a.status == "InProgress" && a.approval.empty() && !a.token.empty();
}

// 0 until it ends; never negative nor overflowing, whatever the row holds.
int64_t DurationMillis(const store::ActionRow& a) {
  bool sane = a.start_ms >= 0 && a.end_ms >= a.start_ms;
  return a.end_ms > 0 && sane ? a.end_ms - a.start_ms : 0;
}

json LatestActionExecution(const store::ActionRow& a, const spec::Action* declared) {
  json latest = {{"status", a.status},
                 {"summary", a.summary},
                 {"externalExecutionId", a.external_id},
                 {"lastStatusChange", base::IsoTime(a.end_ms > 0 ? a.end_ms : a.start_ms)},
                 {"startTime", base::IsoTime(a.start_ms)},
                 {"durationMillis", DurationMillis(a)}};
  if (WaitingApproval(a, declared)) latest["token"] = a.token;
  return latest;
}

// One action: `declared` (its declaration) or `row` (what ran) may be null, not both.
json ActionState(const spec::Action* declared, const store::ActionRow* row,
                 const ExecutionRows& rows) {
  const std::string& name = declared ? declared->name : row->action;
  json state = {{"actionName", name},
                {"runOrder", declared ? declared->run_order : row->run_order}};
  if (declared && declared->type.category == "Source") {
    if (json rev = CurrentRevision(rows, name); !rev.is_null()) state["currentRevision"] = rev;
  }
  if (!row) return state;
  state["latestExecution"] = LatestActionExecution(*row, declared);
  auto vars = json::parse(row->output_variables_json, nullptr, false);
  state["outputVariables"] = vars.is_object() ? vars : json::object();
  return state;
}

json ActionStates(const std::string& stage, const spec::Stage* declared,
                  const ExecutionRows& rows) {
  json out = json::array();
  if (declared) {
    for (const auto& a : declared->actions) {
      out.push_back(ActionState(&a, FindAction(rows, stage, a.name), rows));
    }
  }
  for (const auto& row : rows.actions) {
    if (row.stage == stage && !Declares(declared, row.action)) {
      out.push_back(ActionState(nullptr, &row, rows));
    }
  }
  return out;
}

json StageState(const std::string& stage, const spec::Stage* declared, const ExecutionRows& rows) {
  json state = {{"stageName", stage}, {"actionStates", ActionStates(stage, declared, rows)}};
  if (const store::StageRow* s = FindStage(rows, stage)) {
    state["latestExecution"] = {
        {"pipelineExecutionId", rows.execution.id}, {"status", s->status}, {"attempt", s->attempt}};
  }
  return state;
}

// Stages that ran (or hold actions that ran) but are not declared, in the rows' order.
std::vector<std::string> UndeclaredStages(const spec::Pipeline& p, const ExecutionRows& rows) {
  std::vector<std::string> out;
  auto add = [&](const std::string& stage) {
    if (!Declared(p, stage) && std::find(out.begin(), out.end(), stage) == out.end()) {
      out.push_back(stage);
    }
  };
  for (const auto& s : rows.stages) add(s.stage);
  for (const auto& a : rows.actions) add(a.stage);
  return out;
}

json Variables(const store::ExecutionRow& e) {
  json out = json::array();
  auto vars = json::parse(e.variables_json, nullptr, false);
  if (!vars.is_object() || !vars.contains("variables") || !vars["variables"].is_object()) {
    return out;
  }
  for (auto& [k, v] : vars["variables"].items()) out.push_back({{"name", k}, {"resolvedValue", v}});
  return out;
}

json Artifacts(store::Store& store, const std::string& id) {
  json out = json::array();
  auto arts = store.Artifacts(id);
  if (!arts.ok()) return out;
  for (const auto& a : *arts) {
    out.push_back({{"name", a.name}, {"sha256", a.sha256}, {"size", a.size}});
  }
  return out;
}

}  // namespace

base::Result<ExecutionRows> LoadExecutionRows(store::Store& store, const std::string& id) {
  auto row = store.GetExecution(id);
  if (!row.ok()) return row.status();
  if (!*row) return base::NotFound("no execution " + id);
  auto stages = store.Stages(id);
  if (!stages.ok()) return stages.status();
  auto actions = store.Actions(id);
  if (!actions.ok()) return actions.status();
  return ExecutionRows{std::move(**row), std::move(*stages), std::move(*actions)};
}

json StageStatesJson(const spec::Pipeline& definition, const ExecutionRows& rows) {
  json out = json::array();
  for (const auto& s : definition.stages) out.push_back(StageState(s.name, &s, rows));
  for (const auto& stage : UndeclaredStages(definition, rows)) {
    out.push_back(StageState(stage, nullptr, rows));
  }
  return out;
}

void AddInboundStates(const std::vector<store::TransitionRow>& transitions,
                      const std::vector<store::ExecutionRow>& active, json* stage_states) {
  if (!stage_states->is_array()) return;
  for (json& state : *stage_states) {
    std::string stage = state.value("stageName", "");
    json inbound = {{"enabled", true}};
    for (const auto& t : transitions) {
      if (t.stage != stage) continue;
      inbound = {{"enabled", !t.disabled}, {"lastChangedAt", base::IsoTime(t.changed_ms)}};
      if (t.disabled) inbound["disabledReason"] = t.reason;
    }
    state["inboundTransitionState"] = std::move(inbound);
    const store::ExecutionRow* waiting = nullptr;
    for (const auto& e : active) {
      if (e.waiting_stage == stage && (!waiting || e.seq > waiting->seq)) waiting = &e;
    }
    if (waiting) {
      state["inboundExecution"] = {{"pipelineExecutionId", waiting->id},
                                   {"status", std::string(ApiStatusName(waiting->status))}};
    }
  }
}

DefinitionLookup StoredDefinitions(store::Store& store) {
  return [&store](const std::string& name, int64_t version) -> std::optional<spec::Pipeline> {
    auto stored = store.GetPipeline(name, version);
    if (!stored.ok() || !*stored || (*stored)->version != version) return std::nullopt;
    return spec::ParsePipeline((*stored)->definition, "<stored definition>").pipeline;
  };
}

base::Result<json> ExecutionJson(store::Store& store, const std::string& id,
                                 const DefinitionLookup& definitions) {
  auto rows = LoadExecutionRows(store, id);
  if (!rows.ok()) return rows.status();
  const store::ExecutionRow& e = rows->execution;
  std::optional<spec::Pipeline> definition;
  if (definitions) definition = definitions(e.pipeline, e.pipeline_version);
  return json{{"pipelineExecutionId", id},
              {"pipelineName", e.pipeline},
              {"pipelineVersion", e.pipeline_version},
              {"status", std::string(ApiStatusName(e.status))},
              {"statusSummary", e.summary},
              {"startTime", base::IsoTime(e.start_ms)},
              {"lastUpdateTime", LastUpdate(e)},
              {"executionMode", e.execution_mode},
              {"trigger", Trigger(e)},
              {"artifactRevisions", Revisions(e)},
              {"artifacts", Artifacts(store, id)},
              {"variables", Variables(e)},
              {"stageStates", StageStatesJson(definition ? *definition : spec::Pipeline{}, *rows)}};
}

json ExecutionListJson(const std::vector<store::ExecutionRow>& rows) {
  json list = json::array();
  for (const auto& e : rows) {
    list.push_back({{"pipelineExecutionId", e.id},
                    {"status", std::string(ApiStatusName(e.status))},
                    {"statusSummary", e.summary},
                    {"startTime", base::IsoTime(e.start_ms)},
                    {"lastUpdateTime", LastUpdate(e)},
                    {"sourceRevisions", Revisions(e)},
                    {"trigger", Trigger(e)},
                    {"executionMode", e.execution_mode}});
  }
  return {{"pipelineExecutionSummaries", list}};
}

}  // namespace kiln::pipeline
