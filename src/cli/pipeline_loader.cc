#include "cli/pipeline_loader.h"

#include <cstdio>

#include "base/files.h"

namespace kiln::cli {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxFile = 4 << 20;

void Print(const spec::Diagnostics& ds) {
  for (const auto& d : ds) std::fprintf(stderr, "%s\n", d.ToString().c_str());
}

std::optional<spec::Pipeline> ParseText(const std::string& text, const std::string& file) {
  auto parsed = spec::ParsePipeline(text, file);
  Print(parsed.diagnostics);
  if (!parsed.pipeline) return std::nullopt;
  auto problems = spec::ValidatePipeline(*parsed.pipeline, file);
  Print(problems);
  if (!problems.empty()) return std::nullopt;
  return parsed.pipeline;
}

}  // namespace

bool LoadConfig(const GlobalOptions& g, std::optional<spec::KilnConfig>* out) {
  bool named = g.config != "kiln.yml";
  if (!fs::exists(g.config)) {
    if (!named) return true;
    std::fprintf(stderr, "%s: error: no such file\n", g.config.c_str());
    return false;
  }
  auto text = base::ReadFile(g.config, kMaxFile);
  if (!text.ok()) {
    std::fprintf(stderr, "%s: error: %s\n", g.config.c_str(), text.status().message().c_str());
    return false;
  }
  auto parsed = spec::ParseKilnConfig(*text, g.config);
  Print(parsed.diagnostics);
  if (!parsed.config) return false;
  *out = std::move(parsed.config);
  return true;
}

std::optional<LoadedPipeline> LoadPipeline(const std::string& name_or_file,
                                           const std::optional<spec::KilnConfig>& config) {
  std::string text, file;
  const spec::PipelineRef* ref = nullptr;
  if (config) {
    for (const auto& p : config->pipelines) {
      if (p.name == name_or_file) ref = &p;
    }
  }
  if (ref && !ref->inline_json.empty()) {
    text = ref->inline_json;
    file = config->file;
  } else {
    file = ref ? (fs::path(config->file).parent_path() / ref->path).string() : name_or_file;
    if (!ref && !fs::exists(file)) {
      std::fprintf(stderr, "kiln: error: '%s' is neither a pipeline in %s nor a file\n",
                   name_or_file.c_str(), config ? config->file.c_str() : "kiln.yml");
      return std::nullopt;
    }
    auto read = base::ReadFile(file, kMaxFile);
    if (!read.ok()) {
      std::fprintf(stderr, "%s: error: %s\n", file.c_str(), read.status().message().c_str());
      return std::nullopt;
    }
    text = std::move(*read);
  }
  auto pipeline = ParseText(text, file);
  if (!pipeline) return std::nullopt;
  if (ref) pipeline->name = ref->name;
  return LoadedPipeline{*pipeline, spec::PipelineToJson(*pipeline)};
}

std::optional<spec::Pipeline> ParseStored(const std::string& definition_json) {
  auto parsed = spec::ParsePipeline(definition_json, "<stored definition>");
  return parsed.pipeline;
}

}  // namespace kiln::cli
