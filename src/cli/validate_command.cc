// `kiln validate FILE...`: checks buildspecs, pipeline definitions, CloudFormation pipeline
// templates and kiln.yml, choosing by file name and content.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "base/json_text.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/pipeline_loader.h"
#include "source/trigger_owner.h"
#include "spec/buildspec.h"
#include "spec/cloudformation.h"
#include "spec/kiln_config.h"
#include "spec/pipeline.h"

namespace kiln::cli {
namespace {

struct FileResult {
  std::string file;
  bool ok = false;
  std::string summary;
  std::vector<std::string> errors;
};

FileResult ValidateBuildspec(const std::string& file) {
  FileResult r{.file = file};
  auto text = base::ReadFile(file, spec::BuildspecLimits{}.max_bytes);
  if (!text.ok()) {
    r.errors.push_back(file + ": error: " + text.status().message());
    return r;
  }
  auto parsed = spec::ParseBuildspec(*text, file);
  for (const auto& d : parsed.diagnostics) r.errors.push_back(d.ToString());
  if (!parsed.spec) return r;
  size_t commands = 0;
  for (auto p : spec::kAllPhases) {
    commands += parsed.spec->phase(p).commands.size() + parsed.spec->phase(p).finally.size();
  }
  r.ok = true;
  r.summary = "buildspec " + parsed.spec->version + ", " + std::to_string(commands) + " commands";
  if (parsed.spec->has_batch) r.summary += ", batch " + parsed.spec->batch_kind;
  return r;
}

void AddDiagnostics(const spec::Diagnostics& ds, FileResult* r) {
  for (const auto& d : ds) r->errors.push_back(d.ToString());
}

FileResult ValidateConfig(const std::string& file, const std::string& text) {
  FileResult r{.file = file};
  auto parsed = spec::ParseKilnConfig(text, file);
  AddDiagnostics(parsed.diagnostics, &r);
  if (!parsed.config) return r;
  // The pipelines it names, and one trigger owner per (repository, event).
  std::vector<LoadedPipeline> loaded;
  for (const auto& ref : parsed.config->pipelines) {
    auto p = LoadPipeline(ref.name, parsed.config);
    if (!p) {
      r.errors.push_back(file + ":" + std::to_string(ref.line) + ":1: error: pipeline '" +
                         ref.name + "' is invalid (see above)");
      return r;
    }
    loaded.push_back(std::move(*p));
  }
  std::vector<const spec::Pipeline*> pipelines;
  for (const auto& p : loaded) pipelines.push_back(&p.pipeline);
  for (const auto& c : source::TriggerOwnerConflicts(*parsed.config, pipelines)) {
    r.errors.push_back(file + ": error: " + c);
  }
  if (!r.errors.empty()) return r;
  r.ok = true;
  r.summary = "kiln.yml: " + std::to_string(parsed.config->connections.size()) + " connections, " +
              std::to_string(parsed.config->projects.size()) + " projects, " +
              std::to_string(parsed.config->services.size()) + " services, " +
              std::to_string(parsed.config->pipelines.size()) + " pipelines";
  return r;
}

FileResult ValidatePipelineFile(const std::string& file, const std::string& text) {
  FileResult r{.file = file};
  auto parsed = spec::ParsePipeline(text, file);
  AddDiagnostics(parsed.diagnostics, &r);
  if (!parsed.pipeline) return r;
  auto problems = spec::ValidatePipeline(*parsed.pipeline, file);
  AddDiagnostics(problems, &r);
  r.ok = problems.empty();
  r.summary = "pipeline " + parsed.pipeline->name + ", " +
              std::to_string(parsed.pipeline->stages.size()) + " stages";
  return r;
}

FileResult ValidateTemplate(const std::string& file, const std::string& text) {
  FileResult r{.file = file};
  auto imported = spec::ImportCloudFormation(text, file, {});
  AddDiagnostics(imported.diagnostics, &r);
  if (!imported.pipeline) return r;
  auto problems = spec::ValidatePipeline(*imported.pipeline, file);
  AddDiagnostics(problems, &r);
  r.ok = problems.empty();
  r.summary = "CloudFormation pipeline " + imported.pipeline->name;
  return r;
}

// What kind of file this is: by name for kiln.yml, else by its top-level keys.
FileResult Validate(const std::string& file) {
  auto text = base::ReadFile(file, 4 << 20);
  if (!text.ok()) return {.file = file, .errors = {file + ": error: " + text.status().message()}};
  std::string name = std::filesystem::path(file).filename().string();
  if (name == "kiln.yml" || name == "kiln.yaml") return ValidateConfig(file, *text);
  if (text->find("AWS::CodePipeline::Pipeline") != std::string::npos) {
    return ValidateTemplate(file, *text);
  }
  bool looks_like_pipeline = text->find("\"stages\"") != std::string::npos ||
                             text->find("\nstages:") != std::string::npos ||
                             text->find("\n  stages:") != std::string::npos;
  if (looks_like_pipeline && text->find("\nphases:") == std::string::npos) {
    return ValidatePipelineFile(file, *text);
  }
  return ValidateBuildspec(file);
}

int Run(const std::vector<std::string>& files, const GlobalOptions& g) {
  bool all_ok = true;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : files) {
    FileResult r = Validate(f);
    all_ok = all_ok && r.ok;
    if (g.json) {
      out.push_back({{"file", r.file}, {"valid", r.ok}, {"errors", r.errors}});
      continue;
    }
    for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.c_str());
    if (r.ok) std::printf("%s: ok (%s)\n", f.c_str(), r.summary.c_str());
  }
  if (g.json) std::printf("%s\n", base::JsonText(out, 2).c_str());
  return all_ok ? kExitOk : kExitUsage;
}

}  // namespace

CommandSpec ValidateCommand() {
  return {"validate", "check buildspecs, pipelines (JSON/YAML or CloudFormation) and kiln.yml",
          [](CLI::App* sub) {
            auto files = std::make_shared<std::vector<std::string>>();
            sub->add_option("files", *files, "files to check")->required();
            return [files](const GlobalOptions& g) { return Run(*files, g); };
          }};
}

}  // namespace kiln::cli
