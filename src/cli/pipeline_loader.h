// Finds a pipeline for the CLI: a file (JSON/YAML, CodePipeline structure) or a name in
// kiln.yml; with the kiln.yml around it (connections, projects, secrets), if there is one.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cli/context.h"
#include "spec/kiln_config.h"
#include "spec/pipeline.h"

namespace kiln::cli {

struct LoadedPipeline {
  spec::Pipeline pipeline;
  std::string definition_json;  // as stored (PipelineToJson)
};

// kiln.yml from --config (default ./kiln.yml). A missing default file is not an error (null);
// a named file that is missing, or any invalid file, prints its diagnostics and returns false.
bool LoadConfig(const GlobalOptions& g, std::optional<spec::KilnConfig>* out);

// Loads and validates `name_or_file`; prints diagnostics (FILE:LINE:COL) and returns nullopt
// on any problem.
std::optional<LoadedPipeline> LoadPipeline(const std::string& name_or_file,
                                           const std::optional<spec::KilnConfig>& config);

// Parses a stored definition (trusted: written by LoadPipeline).
std::optional<spec::Pipeline> ParseStored(const std::string& definition_json);

}  // namespace kiln::cli
