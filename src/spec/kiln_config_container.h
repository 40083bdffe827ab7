// services.NAME.taskDefinition of kiln.yml: ECS RegisterTaskDefinition's task and container
// fields, read with ECS's types and ranges and checked with its rules across fields (container
// names, essential containers, dependsOn, port mappings per networkMode, memory limits).
// Internal to src/spec.
#pragma once

#include "spec/kiln_config_schema.h"

namespace kiln::spec::kiln_yml {

extern const Schema kTaskDefinitionSchema;

}  // namespace kiln::spec::kiln_yml
