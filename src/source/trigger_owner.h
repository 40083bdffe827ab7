// One trigger owner per (repository, event) (DESIGN.md "Server", AWS-SEMANTICS.md §5.3):
// a CodeBuild project with its own webhook that is also built by a pipeline triggered by the
// same events would build every commit twice, as AWS does. Validation refuses that.
#pragma once

#include <string>
#include <vector>

#include "spec/kiln_config.h"
#include "spec/pipeline.h"

namespace kiln::source {

// One message per (project, pipeline, build action) whose triggers overlap, naming the
// project, its connection, the pipeline, the action and the events both would fire on; empty
// when every (repository, event) has one owner. pipelines are borrowed for the call.
//
// The check is conservative, i.e. it reports only overlaps it can show: for each source
// action on the webhook's connection, the pipeline's triggers (or, without triggers, its
// BranchName with change detection on) are turned into probe events for each exact branch or
// tag name they list (push to refs/heads/<b>, tag push, pull request events into <b>); glob
// patterns are not enumerated. A probe overlaps when some filter group of the project could
// pass it: filters on what a probe cannot know (FILE_PATH, COMMIT_MESSAGE, ACTOR_ACCOUNT_ID,
// and HEAD_REF for pull requests) are taken to pass.
std::vector<std::string> TriggerOwnerConflicts(const spec::KilnConfig& config,
                                               const std::vector<const spec::Pipeline*>& pipelines);

}  // namespace kiln::source
