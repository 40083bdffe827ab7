// Reads CodePipeline's pipeline structure from a TreeValue into spec::Pipeline: the one reader
// behind ParsePipeline (camelCase get-pipeline JSON/YAML) and ImportCloudFormation (the same
// fields in PascalCase, as AWS::CodePipeline::Pipeline properties).
#pragma once

#include <string>

#include "spec/pipeline.h"
#include "spec/pipeline_tree.h"

namespace kiln::spec {

enum class KeyStyle { kCamel, kPascal };

// Reads `object`, the pipeline declaration found at JSON pointer `pointer` of `file`. Unknown
// keys, missing required keys and values of the wrong kind are diagnostics naming their line
// and JSON pointer. Configuration values that are lists or maps become JSON text. Structure
// rules (names, artifacts, providers...) are ValidatePipeline's job.
ParsedPipeline ReadPipeline(const TreeValue& object, KeyStyle style, const std::string& pointer,
                            const std::string& file);

}  // namespace kiln::spec
