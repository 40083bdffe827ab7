// The CodeBuild buildspec (version 0.2) as a model, and its parser.
// Every scalar is kept as its source text ("010116213471", "yes", "6.0"), as CodeBuild does.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spec/diagnostic.h"
#include "spec/retry_regex.h"

namespace kiln::spec {

// A name/value pair kept in file order.
using OrderedMap = std::vector<std::pair<std::string, std::string>>;

enum class PhaseName { kInstall, kPreBuild, kBuild, kPostBuild };
inline constexpr PhaseName kAllPhases[] = {PhaseName::kInstall, PhaseName::kPreBuild,
                                           PhaseName::kBuild, PhaseName::kPostBuild};
// "install", "pre_build", ... as written in a buildspec.
std::string_view PhaseKey(PhaseName p);

// phases.*.on-failure: ABORT | CONTINUE | RETRY[-count][-regex].
struct OnFailure {
  enum class Mode { kDefault, kAbort, kContinue, kRetry } mode = Mode::kDefault;
  int retry_count = 3;                    // RETRY: 0..100, default 3
  std::optional<RetryRegex> retry_regex;  // RETRY: nullopt = match every error message
};

// One command (a YAML sequence item; a block scalar is one command) and where it was written.
struct Command {
  std::string text;
  int line = 0;
};

struct Phase {
  bool present = false;
  std::optional<std::string> run_as;
  OnFailure on_failure;
  OrderedMap runtime_versions;  // install only
  std::vector<Command> commands;
  std::vector<Command> finally;
  int line = 0;
};

struct ArtifactSpec {
  std::vector<std::string> files;
  std::optional<std::string> name;
  bool discard_paths = false;
  std::optional<std::string> base_directory;
  std::vector<std::string> exclude_paths;
  bool enable_symlinks = false;
  std::optional<std::string> s3_prefix;
};

struct Artifacts {
  bool present = false;
  ArtifactSpec primary;
  std::vector<std::pair<std::string, ArtifactSpec>> secondary;  // identifier -> spec, file order
};

struct ReportGroup {
  std::string name;
  std::vector<std::string> files;
  std::optional<std::string> base_directory;
  bool discard_paths = false;
  std::string file_format = "JUNITXML";
};

struct Cache {
  bool present = false;
  std::optional<std::string> key;
  std::vector<std::string> fallback_keys;
  std::optional<std::string> action;  // "restore" | "save"; absent = both
  std::vector<std::string> paths;
};

struct Env {
  std::optional<std::string> shell;
  OrderedMap variables;
  OrderedMap parameter_store;  // local name -> parameter name
  OrderedMap secrets_manager;  // local name -> "secret-id[:json-key[:stage[:id]]]"
  std::vector<std::string> exported_variables;
  std::optional<std::string> git_credential_helper;
};

struct Buildspec {
  std::string version;  // "0.2" (or "0.1")
  std::optional<std::string> run_as;
  Env env;
  Phase phases[4];  // indexed by PhaseName
  Artifacts artifacts;
  std::vector<ReportGroup> reports;
  Cache cache;
  bool has_batch = false;
  std::string batch_kind;  // "build-list" | "build-matrix" | "build-graph" | "build-fanout"

  const Phase& phase(PhaseName p) const { return phases[static_cast<int>(p)]; }
};

// Limits on what the parser accepts; a YAML bomb or a deep nest is refused quickly.
struct BuildspecLimits {
  size_t max_bytes = 1 << 20;  // 1 MiB
  int max_depth = 64;
  size_t max_nodes = 200'000;
};

struct ParsedBuildspec {
  std::optional<Buildspec> spec;  // set when diagnostics is empty
  Diagnostics diagnostics;
};

// Parses buildspec text. file names the source in diagnostics. Never throws.
ParsedBuildspec ParseBuildspec(std::string_view text, const std::string& file,
                               const BuildspecLimits& limits = {});

// Parses "ABORT" / "CONTINUE" / "RETRY[-count][-regex]" and compiles the regex. InvalidInput
// saying what is wrong when the text is malformed or the regex is invalid.
base::Result<OnFailure> ParseOnFailure(std::string_view text);

}  // namespace kiln::spec
