#include "pipeline/state_json.h"

#include <nlohmann/json.hpp>

#include "base/ids.h"
#include "pipeline/execution_status.h"
#include "store/store.h"

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

json ActionStates(const std::vector<store::ActionRow>& actions, const std::string& stage) {
  json out = json::array();
  for (const auto& a : actions) {
    if (a.stage != stage) continue;
    json latest = {{"status", a.status},
                   {"summary", a.summary},
                   {"externalExecutionId", a.external_id},
                   {"lastStatusChange", base::IsoTime(a.end_ms > 0 ? a.end_ms : a.start_ms)},
                   {"startTime", base::IsoTime(a.start_ms)},
                   {"durationMillis", a.end_ms > 0 ? a.end_ms - a.start_ms : 0}};
    auto vars = json::parse(a.output_variables_json, nullptr, false);
    out.push_back({{"actionName", a.action},
                   {"runOrder", a.run_order},
                   {"latestExecution", latest},
                   {"outputVariables", vars.is_object() ? vars : json::object()}});
  }
  return out;
}

}  // namespace

base::Result<json> ExecutionJson(store::Store& store, const std::string& id) {
  auto row = store.GetExecution(id);
  if (!row.ok()) return row.status();
  if (!*row) return base::NotFound("no execution " + id);
  const store::ExecutionRow& e = **row;
  auto stages = store.Stages(id);
  if (!stages.ok()) return stages.status();
  auto actions = store.Actions(id);
  if (!actions.ok()) return actions.status();
  json stage_states = json::array();
  for (const auto& s : *stages) {
    stage_states.push_back(
        {{"stageName", s.stage},
         {"latestExecution",
          {{"pipelineExecutionId", id}, {"status", s.status}, {"attempt", s.attempt}}},
         {"actionStates", ActionStates(*actions, s.stage)}});
  }
  json variables = json::array();
  auto vars = json::parse(e.variables_json, nullptr, false);
  if (vars.is_object() && vars.contains("variables")) {
    for (auto& [k, v] : vars["variables"].items()) {
      variables.push_back({{"name", k}, {"resolvedValue", v}});
    }
  }
  json artifacts = json::array();
  auto arts = store.Artifacts(id);
  if (arts.ok()) {
    for (const auto& a : *arts) {
      artifacts.push_back({{"name", a.name}, {"sha256", a.sha256}, {"size", a.size}});
    }
  }
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
              {"artifacts", artifacts},
              {"variables", variables},
              {"stageStates", stage_states}};
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
