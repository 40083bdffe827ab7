// The action providers Kiln runs, and what CodePipeline requires of each one's configuration
// and artifacts (AWS-SEMANTICS.md §2.2). Used by ValidatePipeline.
#pragma once

#include <string>
#include <vector>

#include "spec/pipeline.h"

namespace kiln::spec {

// Problems with one action's type, artifact counts and configuration, as messages (the caller
// adds the file, line and JSON pointer). Empty when the action is fine. An AWS provider Kiln
// does not have yet is reported as exactly that.
std::vector<std::string> CheckProvider(const Action& action);

// Whether the action is a source action (Source category).
bool IsSourceAction(const Action& action);

// Whether the provider reaches its repository through a connection, which CodePipeline V2
// triggers require (AWS-SEMANTICS.md §2.6).
bool UsesConnection(const Action& action);

}  // namespace kiln::spec
