// `kiln validate FILE...`: checks buildspecs (later: pipelines and kiln.yml).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "spec/buildspec.h"

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

int Run(const std::vector<std::string>& files, const GlobalOptions& g) {
  bool all_ok = true;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : files) {
    FileResult r = ValidateBuildspec(f);
    all_ok = all_ok && r.ok;
    if (g.json) {
      out.push_back({{"file", r.file}, {"valid", r.ok}, {"errors", r.errors}});
      continue;
    }
    for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.c_str());
    if (r.ok) std::printf("%s: ok (%s)\n", f.c_str(), r.summary.c_str());
  }
  if (g.json) std::printf("%s\n", out.dump(2).c_str());
  return all_ok ? kExitOk : kExitUsage;
}

}  // namespace

CommandSpec ValidateCommand() {
  return {"validate", "check buildspec files", [](CLI::App* sub) {
            auto files = std::make_shared<std::vector<std::string>>();
            sub->add_option("files", *files, "files to check")->required();
            return [files](const GlobalOptions& g) { return Run(*files, g); };
          }};
}

}  // namespace kiln::cli
