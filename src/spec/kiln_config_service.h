// services.NAME of kiln.yml: the ECS-shaped service definition (CreateService +
// RegisterTaskDefinition field names). Internal to src/spec.
#pragma once

#include "spec/kiln_config.h"
#include "spec/kiln_config_reader.h"

namespace kiln::spec::kiln_yml {

// Validates the fields Kiln uses (types, ECS's ranges, container names, the deployment
// configuration's progress rule) and keeps the whole mapping as JSON. Problems go to reader;
// the service's cluster is left for the reader's pending references.
Service ParseService(ConfigReader& reader, const YamlEntry& entry);

}  // namespace kiln::spec::kiln_yml
