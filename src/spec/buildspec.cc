// ParseBuildspec: the guarded load, the top level (version, known keys, phases), PhaseKey.
#include "spec/buildspec.h"

#include <yaml-cpp/yaml.h>

#include <exception>

#include "spec/buildspec_parser.h"
#include "spec/yaml_util.h"

namespace kiln::spec {
namespace buildspec_yml {
namespace {

constexpr std::string_view kTopLevelKeys[] = {
    "version", "run-as",  "env",       "proxy", "batch",
    "phases",  "reports", "artifacts", "cache", "environment_variables"};

}  // namespace

Buildspec Parser::Parse(const YAML::Node& root) {
  if (!root.IsMap()) {
    std::string what =
        root.IsNull() ? ""
                      : " (the top level is " + std::string(KindName(root)) + ", not a mapping)";
    out_.push_back(
        {.file = file_, .line = 1, .message = "empty buildspec: missing version" + what});
    return spec_;
  }
  ReadVersion(root);
  ForEachField(Field{.value = root}, kTopLevelKeys, [&](const Field& f) { ReadTopLevel(f); });
  if (!saw_phases_) {
    // CodeBuild: "phases: Required sequence."
    Error(root.Mark(), "buildspec has no phases");
  }
  return std::move(spec_);
}

void Parser::ReadVersion(const YAML::Node& root) {
  for (const auto& entry : root) {
    if (!entry.first.IsScalar() || entry.first.Scalar() != "version") continue;
    Field f{.path = "version", .key = entry.first, .value = entry.second};
    if (!f.value.IsScalar()) {
      Error(f.Where(), "version must be 0.2, not " + std::string(KindName(f.value)));
    } else if (f.value.Scalar() != "0.2" && f.value.Scalar() != "0.1") {
      Error(f.Where(), "unsupported buildspec version " + f.value.Scalar() + " (use 0.2)");
    } else {
      spec_.version = f.value.Scalar();
    }
    return;
  }
  Error(root.Mark(), "missing version: a buildspec starts with 'version: 0.2'");
}

void Parser::ReadTopLevel(const Field& f) {
  const std::string& key = f.name();
  if (key == "version") return;  // read first, by ReadVersion
  if (key == "run-as") {
    spec_.run_as = ReadString(f);
  } else if (key == "env") {
    ReadEnv(f);
  } else if (key == "environment_variables") {
    ReadLegacyEnv(f);
  } else if (key == "proxy") {
    ReadProxy(f);
  } else if (key == "batch") {
    ReadBatch(f);
  } else if (key == "phases") {
    saw_phases_ = true;
    if (IsMapping(f)) ForEachField(f, kPhaseNames, [&](const Field& p) { ReadPhase(p); });
  } else if (key == "reports") {
    if (IsMapping(f)) ForEachEntry(f, [&](const Field& r) { ReadReport(r); });
  } else if (key == "artifacts") {
    ReadArtifacts(f);
  } else if (key == "cache") {
    ReadCache(f);
  }
}

}  // namespace buildspec_yml

namespace {

ParsedBuildspec ParseChecked(std::string_view text, const std::string& file,
                             const BuildspecLimits& limits) {
  ParsedBuildspec result;
  GuardedYaml yaml =
      LoadChecked(text, file, "buildspec", limits.max_bytes, limits.max_depth, limits.max_nodes);
  result.diagnostics = std::move(yaml.diagnostics);
  if (!result.diagnostics.empty()) return result;
  Buildspec spec = buildspec_yml::Parser(file, result.diagnostics).Parse(yaml.root);
  if (result.diagnostics.empty()) result.spec = std::move(spec);
  return result;
}

}  // namespace

std::string_view PhaseKey(PhaseName p) {
  switch (p) {
    case PhaseName::kInstall:
      return "install";
    case PhaseName::kPreBuild:
      return "pre_build";
    case PhaseName::kBuild:
      return "build";
    case PhaseName::kPostBuild:
      return "post_build";
  }
  return "unknown";
}

ParsedBuildspec ParseBuildspec(std::string_view text, const std::string& file,
                               const BuildspecLimits& limits) {
  try {
    return ParseChecked(text, file, limits);
  } catch (const std::exception& e) {
    // yaml-cpp errors are caught where they arise; this guards against anything else.
    ParsedBuildspec result;
    result.diagnostics.push_back(
        {.file = file, .message = std::string("cannot read buildspec: ") + e.what()});
    return result;
  }
}

}  // namespace kiln::spec
