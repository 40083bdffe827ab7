// Executions as JSON in the shapes of CodePipeline's API (GetPipelineExecution +
// GetPipelineState for one execution; ListPipelineExecutions for many), for `--json` and
// the REST API.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace kiln::spec {
struct Pipeline;
}  // namespace kiln::spec

namespace kiln::pipeline {

// What the store holds of one execution.
struct ExecutionRows {
  store::ExecutionRow execution;
  std::vector<store::StageRow> stages;
  std::vector<store::ActionRow> actions;
};

// The rows of execution `id`; kNotFound if there is none.
base::Result<ExecutionRows> LoadExecutionRows(store::Store& store, const std::string& id);

// GetPipelineState's stageStates for one execution of `definition` (the version it ran):
// [{stageName, latestExecution{pipelineExecutionId, status, attempt}, actionStates[{actionName,
// runOrder, currentRevision{revisionId}, latestExecution{status, summary, lastStatusChange,
// externalExecutionId, token, startTime, durationMillis}, outputVariables}]}].
// Every stage and action of the definition, in its order, reached or not: what has not
// started has no latestExecution (AWS omits it). currentRevision only on a Source action
// whose revision is known; token only on a Manual approval that is waiting. Rows the
// definition does not declare (a changed or missing definition, a hand-written row) follow
// the declared ones in the rows' order, so nothing that ran is hidden. Pure; any row content
// (bad JSON included) gives a valid answer.
nlohmann::json StageStatesJson(const spec::Pipeline& definition, const ExecutionRows& rows);

// GetPipelineState's view of what waits in front of each stage, added to stage_states (as
// StageStatesJson made them, matched by stageName): inboundTransitionState {enabled,
// lastChangedAt, disabledReason} (lastChangedAt once it was changed, disabledReason while
// disabled; Kiln records no lastChangedBy) and, when an execution of `active` waits in front
// of the stage (ExecutionRow::waiting_stage: a disabled transition or a held stage),
// inboundExecution {pipelineExecutionId, status} (the newest, if several). Pure.
void AddInboundStates(const std::vector<store::TransitionRow>& transitions,
                      const std::vector<store::ExecutionRow>& active, nlohmann::json* stage_states);

// The definition (name, version) an execution ran; nullopt when it cannot be had.
using DefinitionLookup =
    std::function<std::optional<spec::Pipeline>(const std::string& name, int64_t version)>;

// Looks definitions up in `store` (Store::GetPipeline) and parses them. `store` must outlive
// the lookup and is used on the caller's thread.
DefinitionLookup StoredDefinitions(store::Store& store);

// {pipelineExecutionId, pipelineName, pipelineVersion, status, statusSummary, startTime,
//  lastUpdateTime, executionMode, trigger{triggerType, triggerDetail}, artifactRevisions[],
//  artifacts[], variables[{name, resolvedValue}], stageStates (StageStatesJson, drawn from
//  the definition `definitions` finds; from the rows alone if it finds none)}.
base::Result<nlohmann::json> ExecutionJson(store::Store& store, const std::string& id,
                                           const DefinitionLookup& definitions);

// {pipelineExecutionSummaries: [{pipelineExecutionId, status, startTime, lastUpdateTime,
//  sourceRevisions[], trigger{triggerType, triggerDetail}, executionMode}]}
nlohmann::json ExecutionListJson(const std::vector<store::ExecutionRow>& rows);

}  // namespace kiln::pipeline
