// Executions as JSON in the shapes of CodePipeline's API (GetPipelineExecution +
// GetPipelineState for one execution; ListPipelineExecutions for many), for `--json` and
// the REST API.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::store {
class Store;
struct ExecutionRow;
}  // namespace kiln::store

namespace kiln::pipeline {

// {pipelineExecutionId, pipelineName, pipelineVersion, status, statusSummary, startTime,
//  lastUpdateTime, executionMode, trigger{triggerType, triggerDetail}, artifactRevisions[],
//  variables[{name, resolvedValue}], stageStates[{stageName, latestExecution{status},
//  actionStates[{actionName, latestExecution{status, summary, externalExecutionId,
//  lastStatusChange}}]}]}
base::Result<nlohmann::json> ExecutionJson(store::Store& store, const std::string& id);

// {pipelineExecutionSummaries: [{pipelineExecutionId, status, startTime, lastUpdateTime,
//  sourceRevisions[], trigger{triggerType, triggerDetail}, executionMode}]}
nlohmann::json ExecutionListJson(const std::vector<store::ExecutionRow>& rows);

}  // namespace kiln::pipeline
