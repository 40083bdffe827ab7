#include "spec/buildspec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <functional>
#include <span>

#include "spec/yaml_util.h"

namespace kiln::spec {
namespace {

using KeyList = std::span<const std::string_view>;

constexpr std::string_view kTopLevelKeys[] = {
    "version", "run-as",  "env",       "proxy", "batch",
    "phases",  "reports", "artifacts", "cache", "environment_variables"};
constexpr std::string_view kEnvKeys[] = {
    "shell",           "variables",          "parameter-store",
    "secrets-manager", "exported-variables", "git-credential-helper"};
constexpr std::string_view kPhaseNames[] = {"install", "pre_build", "build", "post_build"};
constexpr std::string_view kPhaseKeys[] = {"run-as", "on-failure", "commands", "finally"};
constexpr std::string_view kInstallKeys[] = {"run-as", "on-failure", "runtime-versions", "commands",
                                             "finally"};
// `type` is the 0.1 artifact type, deprecated in 0.2 but still accepted; it is ignored.
constexpr std::string_view kArtifactKeys[] = {
    "files",           "name",      "discard-paths", "base-directory",     "exclude-paths",
    "enable-symlinks", "s3-prefix", "type",          "secondary-artifacts"};
constexpr std::string_view kSecondaryArtifactKeys[] = {
    "files",           "name",      "discard-paths", "base-directory", "exclude-paths",
    "enable-symlinks", "s3-prefix", "type"};
constexpr std::string_view kReportKeys[] = {"files", "base-directory", "discard-paths",
                                            "file-format"};
constexpr std::string_view kReportFormats[] = {
    "JUNITXML",        "CUCUMBERJSON", "NUNITXML",     "NUNIT3XML", "TESTNGXML",
    "VISUALSTUDIOTRX", "CLOVERXML",    "COBERTURAXML", "JACOCOXML", "SIMPLECOV"};
constexpr std::string_view kCacheKeys[] = {"key", "fallback-keys", "action", "paths"};
constexpr std::string_view kBatchKinds[] = {"build-list", "build-matrix", "build-graph",
                                            "build-fanout"};
constexpr std::string_view kShells[] = {"bash", "/bin/sh", "powershell.exe", "cmd.exe"};
constexpr std::string_view kBatchKeys[] = {"fast-fail", "build-list", "build-matrix", "build-graph",
                                           "build-fanout"};
constexpr std::string_view kProxyKeys[] = {"upload-artifacts", "logs"};
constexpr std::string_view kLegacyEnvKeys[] = {"plaintext", "parameter-store"};
constexpr size_t kMaxFallbackKeys = 5;

bool Contains(KeyList list, std::string_view key) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

std::string JoinList(KeyList list) {
  std::string out;
  for (std::string_view item : list) out += (out.empty() ? "" : ", ") + std::string(item);
  return out;
}

// "pre-build" for "pre_build", "Files" for "files": the same key spelled another way.
std::string Normalize(std::string_view key) {
  std::string out(key);
  for (char& c : out) c = c == '-' ? '_' : char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Suggestion(std::string_view key, KeyList known) {
  for (std::string_view k : known) {
    if (Normalize(k) == Normalize(key)) return " (did you mean '" + std::string(k) + "'?)";
  }
  if (key == "plaintext") return " (buildspec 0.2 renamed plaintext to variables)";
  if (key == "runtime-versions") return " (runtime-versions belongs in phases.install)";
  return "";
}

std::string UnknownKeyMessage(std::string_view parent, std::string_view key, KeyList known) {
  std::string what = parent.empty() ? "top-level key" : parent == "phases" ? "phase" : "key";
  std::string where = parent.empty() || parent == "phases" ? "" : " in " + std::string(parent);
  return "unknown " + what + " '" + std::string(key) + "'" + where + Suggestion(key, known) +
         "; expected one of: " + JoinList(known);
}

// A mapping entry being read, with its dotted path for messages ("phases.build.commands").
struct Field {
  std::string path;
  YAML::Node key;
  YAML::Node value;

  const std::string& name() const { return key.Scalar(); }
  // A null value's mark is the next token's, so point at the key instead.
  YAML::Mark Where() const { return value.IsNull() ? key.Mark() : value.Mark(); }
};

std::string Join(std::string_view parent, std::string_view key) {
  return parent.empty() ? std::string(key) : std::string(parent) + "." + std::string(key);
}

int LineOf(const YAML::Node& node) { return node.Mark().line + 1; }

// Turns a YAML tree into a Buildspec, reporting every problem it can find.
class Parser {
 public:
  Parser(const std::string& file, Diagnostics& out) : file_(file), out_(out) {}
  Buildspec Parse(const YAML::Node& root);

 private:
  using ReadFn = std::function<void(const Field&)>;

  void Error(const YAML::Mark& mark, std::string message) {
    out_.push_back(DiagnosticAt(file_, mark, std::move(message)));
  }
  void ForEachEntry(const Field& map, const ReadFn& read);
  void ForEachField(const Field& map, KeyList known, const ReadFn& read);
  bool IsMapping(const Field& f);
  std::optional<std::string> ReadString(const Field& f);
  bool ReadBool(const Field& f);
  std::vector<std::string> ReadStrings(const Field& f, bool allow_scalar);
  void RequireList(const Field& parent, std::string_view key, const std::vector<std::string>& list);
  OrderedMap ReadStringMap(const Field& f);
  std::vector<Command> ReadCommands(const Field& f);
  void ReportCommandItem(const Field& f, size_t index, const YAML::Node& item);

  void ReadVersion(const YAML::Node& root);
  void ReadTopLevel(const Field& f);
  void ReadEnv(const Field& f);
  void ReadLegacyEnv(const Field& f);
  void ReadProxy(const Field& f);
  void ReadBatch(const Field& f);
  void ReadPhase(const Field& f);
  OnFailure ReadOnFailure(const Field& f);
  void ReadArtifacts(const Field& f);
  ArtifactSpec ReadArtifactSpec(const Field& f, KeyList known);
  void ReadSecondaryArtifacts(const Field& f);
  void ReadReport(const Field& f);
  void ReadCache(const Field& f);

  const std::string& file_;
  Diagnostics& out_;
  Buildspec spec_;
  bool saw_phases_ = false;
};

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

void Parser::ForEachEntry(const Field& map, const ReadFn& read) {
  for (const auto& entry : map.value) {
    if (!entry.first.IsScalar()) {
      Error(entry.first.Mark(), "keys in " + (map.path.empty() ? "the buildspec" : map.path) +
                                    " must be strings, not " + std::string(KindName(entry.first)));
      continue;
    }
    read(Field{
        .path = Join(map.path, entry.first.Scalar()), .key = entry.first, .value = entry.second});
  }
}

void Parser::ForEachField(const Field& map, KeyList known, const ReadFn& read) {
  ForEachEntry(map, [&](const Field& f) {
    if (Contains(known, f.name())) {
      read(f);
    } else {
      Error(f.key.Mark(), UnknownKeyMessage(map.path, f.name(), known));
    }
  });
}

// True for a mapping. Null is quietly false (an empty section); anything else is an error.
bool Parser::IsMapping(const Field& f) {
  if (f.value.IsMap()) return true;
  if (!f.value.IsNull()) {
    Error(f.Where(), f.path + " must be a mapping, not " + std::string(KindName(f.value)));
  }
  return false;
}

std::optional<std::string> Parser::ReadString(const Field& f) {
  if (f.value.IsScalar()) return f.value.Scalar();
  Error(f.Where(), f.path + " must be a string, not " + std::string(KindName(f.value)));
  return std::nullopt;
}

bool Parser::ReadBool(const Field& f) {
  std::optional<bool> value;
  if (f.value.IsScalar()) value = ParseYamlBool(f.value.Scalar());
  if (!value) Error(f.Where(), f.path + " must be yes, no, true or false");
  return value.value_or(false);
}

// A single string is accepted as a one-element list where CodeBuild's examples allow it
// (artifacts.files: images.json in CloudFormation templates); an empty `-` item is skipped.
std::vector<std::string> Parser::ReadStrings(const Field& f, bool allow_scalar) {
  std::vector<std::string> out;
  if (f.value.IsNull()) return out;
  if (f.value.IsScalar() && allow_scalar) return {f.value.Scalar()};
  if (!f.value.IsSequence()) {
    Error(f.Where(),
          f.path + " must be a sequence of strings, not " + std::string(KindName(f.value)));
    return out;
  }
  size_t index = 0;
  for (const YAML::Node& item : f.value) {
    ++index;
    if (item.IsScalar()) {
      out.push_back(item.Scalar());
    } else if (!item.IsNull()) {
      Error(item.Mark(), f.path + " item " + std::to_string(index) + " must be a string, not " +
                             std::string(KindName(item)));
    }
  }
  return out;
}

// An absent, null or empty list: CodeBuild needs at least one path here.
void Parser::RequireList(const Field& parent, std::string_view key,
                         const std::vector<std::string>& list) {
  if (list.empty()) {
    Error(parent.key.Mark(), Join(parent.path, key) + " is required and must list a path");
  }
}

OrderedMap Parser::ReadStringMap(const Field& f) {
  OrderedMap out;
  if (!IsMapping(f)) return out;
  ForEachEntry(f, [&](const Field& entry) {
    if (entry.value.IsNull()) {
      Error(entry.key.Mark(),
            entry.path + " has no value (write " + entry.name() + ": \"\" for an empty one)");
    } else if (std::optional<std::string> value = ReadString(entry)) {
      out.emplace_back(entry.name(), std::move(*value));
    }
  });
  return out;
}

// Each sequence item is one command, so a `|` block or a folded multi-line scalar is one.
std::vector<Command> Parser::ReadCommands(const Field& f) {
  std::vector<Command> out;
  if (f.value.IsNull()) return out;  // `commands:` with nothing: no commands
  if (!f.value.IsSequence()) {
    Error(f.Where(), f.path + " must be a sequence of strings (one '- ' item per command), not " +
                         std::string(KindName(f.value)));
    return out;
  }
  size_t index = 0;
  for (const YAML::Node& item : f.value) {
    ++index;
    if (item.IsScalar()) {
      out.push_back(Command{.text = item.Scalar(), .line = LineOf(item)});
    } else if (!item.IsNull()) {  // an empty `-` is no command
      ReportCommandItem(f, index, item);
    }
  }
  return out;
}

// `- echo foo: bar` is a mapping in YAML, a classic buildspec mistake: say how to fix it.
void Parser::ReportCommandItem(const Field& f, size_t index, const YAML::Node& item) {
  std::string message = f.path + " item " + std::to_string(index) + " must be a string, not " +
                        std::string(KindName(item));
  if (item.IsMap()) {
    auto first = item.begin();
    if (item.size() == 1 && first->first.IsScalar() && first->second.IsScalar()) {
      message += ": YAML reads `" + first->first.Scalar() + ": " + first->second.Scalar() +
                 "` as a key and a value because of the ': '";
    }
    message += "; quote the whole command";
  }
  Error(item.Mark(), std::move(message));
}

void Parser::ReadEnv(const Field& f) {
  if (!IsMapping(f)) return;
  Env& env = spec_.env;
  ForEachField(f, kEnvKeys, [&](const Field& x) {
    const std::string& key = x.name();
    if (key == "shell") {
      env.shell = ReadString(x);
      if (env.shell && !Contains(kShells, *env.shell)) {
        Error(x.Where(), "env.shell must be one of " + JoinList(kShells) + ", not " + *env.shell);
      }
    } else if (key == "variables") {
      env.variables = ReadStringMap(x);
    } else if (key == "parameter-store") {
      env.parameter_store = ReadStringMap(x);
    } else if (key == "secrets-manager") {
      env.secrets_manager = ReadStringMap(x);
    } else if (key == "exported-variables") {
      env.exported_variables = ReadStrings(x, /*allow_scalar=*/false);
    } else if (key == "git-credential-helper") {
      ReadBool(x);  // validated, kept as written ("yes")
      if (x.value.IsScalar()) env.git_credential_helper = x.value.Scalar();
    }
  });
}

// Buildspec 0.2 renamed environment_variables to env and plaintext to variables.
void Parser::ReadLegacyEnv(const Field& f) {
  if (spec_.version != "0.1") {
    Error(f.key.Mark(),
          "environment_variables is the buildspec 0.1 name; under version 0.2 "
          "write env: with variables: (0.2 renamed plaintext to variables)");
    return;
  }
  if (!IsMapping(f)) return;
  ForEachField(f, kLegacyEnvKeys, [&](const Field& x) {
    OrderedMap& target = x.name() == "plaintext" ? spec_.env.variables : spec_.env.parameter_store;
    target = ReadStringMap(x);
  });
}

void Parser::ReadProxy(const Field& f) {
  if (!IsMapping(f)) return;
  // Kiln runs no proxy; the settings are only checked.
  ForEachField(f, kProxyKeys, [&](const Field& x) { ReadBool(x); });
}

// Batch builds are only recognised here (has_batch, batch_kind), not modelled.
void Parser::ReadBatch(const Field& f) {
  if (!f.value.IsMap()) {
    Error(f.Where(), "batch must be a mapping, not " + std::string(KindName(f.value)));
    return;
  }
  spec_.has_batch = true;
  ForEachField(f, kBatchKeys, [&](const Field& x) {
    if (x.name() == "fast-fail") {
      ReadBool(x);
    } else if (!spec_.batch_kind.empty()) {
      Error(x.key.Mark(), "batch may use only one of " + JoinList(kBatchKinds) + ", and " +
                              spec_.batch_kind + " is already used");
    } else {
      spec_.batch_kind = x.name();
      bool is_list = x.name() == "build-list" || x.name() == "build-graph";
      if (is_list ? !x.value.IsSequence() : !x.value.IsMap()) {
        Error(x.Where(), x.path + " must be " + (is_list ? "a sequence" : "a mapping") + ", not " +
                             std::string(KindName(x.value)));
      }
    }
  });
  if (spec_.batch_kind.empty()) {
    Error(f.key.Mark(), "batch needs one of " + JoinList(kBatchKinds));
  }
}

void Parser::ReadPhase(const Field& f) {
  auto index =
      std::find(std::begin(kPhaseNames), std::end(kPhaseNames), f.name()) - std::begin(kPhaseNames);
  PhaseName name = kAllPhases[index];
  Phase& phase = spec_.phases[index];
  phase.present = true;
  phase.line = LineOf(f.key);
  // An empty phase (`build:` alone) is accepted and runs nothing.
  if (!IsMapping(f)) return;
  KeyList known = name == PhaseName::kInstall ? KeyList(kInstallKeys) : KeyList(kPhaseKeys);
  ForEachField(f, known, [&](const Field& x) {
    const std::string& key = x.name();
    if (key == "run-as") {
      phase.run_as = ReadString(x);
    } else if (key == "on-failure") {
      phase.on_failure = ReadOnFailure(x);
    } else if (key == "runtime-versions") {
      phase.runtime_versions = ReadStringMap(x);
    } else if (key == "commands") {
      phase.commands = ReadCommands(x);
    } else if (key == "finally") {
      phase.finally = ReadCommands(x);
    }
  });
}

OnFailure Parser::ReadOnFailure(const Field& f) {
  std::optional<std::string> text = ReadString(f);
  if (!text) return {};
  base::Result<OnFailure> mode = ParseOnFailure(*text);
  if (!mode.ok()) {
    Error(f.Where(), f.path + " " + mode.status().message());
    return {};
  }
  return std::move(mode.value());
}

void Parser::ReadArtifacts(const Field& f) {
  spec_.artifacts.present = true;
  spec_.artifacts.primary = ReadArtifactSpec(f, kArtifactKeys);
}

// CodeBuild: `files` is required whenever artifacts: is present, even with only secondaries.
ArtifactSpec Parser::ReadArtifactSpec(const Field& f, KeyList known) {
  ArtifactSpec spec;
  if (!f.value.IsNull() && !IsMapping(f)) return spec;
  if (f.value.IsMap()) {
    ForEachField(f, known, [&](const Field& x) {
      const std::string& key = x.name();
      if (key == "files") spec.files = ReadStrings(x, /*allow_scalar=*/true);
      if (key == "name") spec.name = ReadString(x);
      if (key == "discard-paths") spec.discard_paths = ReadBool(x);
      if (key == "base-directory") spec.base_directory = ReadString(x);
      if (key == "exclude-paths") spec.exclude_paths = ReadStrings(x, /*allow_scalar=*/true);
      if (key == "enable-symlinks") spec.enable_symlinks = ReadBool(x);
      if (key == "s3-prefix") spec.s3_prefix = ReadString(x);
      if (key == "secondary-artifacts") ReadSecondaryArtifacts(x);
    });
  }
  RequireList(f, "files", spec.files);
  return spec;
}

void Parser::ReadSecondaryArtifacts(const Field& f) {
  if (!IsMapping(f)) return;
  ForEachEntry(f, [&](const Field& x) {
    spec_.artifacts.secondary.emplace_back(x.name(), ReadArtifactSpec(x, kSecondaryArtifactKeys));
  });
}

void Parser::ReadReport(const Field& f) {
  ReportGroup group{.name = f.name()};
  if (!f.value.IsNull() && !IsMapping(f)) return;
  if (f.value.IsMap()) {
    ForEachField(f, kReportKeys, [&](const Field& x) {
      const std::string& key = x.name();
      if (key == "files") group.files = ReadStrings(x, /*allow_scalar=*/true);
      if (key == "base-directory") group.base_directory = ReadString(x);
      if (key == "discard-paths") group.discard_paths = ReadBool(x);
      if (key == "file-format") {
        std::optional<std::string> format = ReadString(x);
        if (format && !Contains(kReportFormats, *format)) {
          Error(x.Where(),
                x.path + " must be one of " + JoinList(kReportFormats) + ", not " + *format);
        }
        if (format) group.file_format = *format;
      }
    });
  }
  RequireList(f, "files", group.files);
  spec_.reports.push_back(std::move(group));
}

void Parser::ReadCache(const Field& f) {
  Cache& cache = spec_.cache;
  cache.present = true;
  if (!f.value.IsNull() && !IsMapping(f)) return;
  if (f.value.IsMap()) {
    ForEachField(f, kCacheKeys, [&](const Field& x) {
      const std::string& key = x.name();
      if (key == "key") cache.key = ReadString(x);
      if (key == "paths") cache.paths = ReadStrings(x, /*allow_scalar=*/true);
      if (key == "fallback-keys") {
        cache.fallback_keys = ReadStrings(x, /*allow_scalar=*/false);
        if (cache.fallback_keys.size() > kMaxFallbackKeys) {
          Error(x.Where(), "cache.fallback-keys has " + std::to_string(cache.fallback_keys.size()) +
                               " entries; CodeBuild allows at most " +
                               std::to_string(kMaxFallbackKeys));
        }
      }
      if (key == "action") {
        cache.action = ReadString(x);
        if (cache.action && *cache.action != "restore" && *cache.action != "save") {
          Error(x.Where(), "cache.action must be restore or save, not " + *cache.action);
        }
      }
    });
  }
  RequireList(f, "paths", cache.paths);
}

ParsedBuildspec ParseChecked(std::string_view text, const std::string& file,
                             const BuildspecLimits& limits) {
  ParsedBuildspec result;
  GuardedYaml yaml =
      LoadChecked(text, file, "buildspec", limits.max_bytes, limits.max_depth, limits.max_nodes);
  result.diagnostics = std::move(yaml.diagnostics);
  if (!result.diagnostics.empty()) return result;
  Buildspec spec = Parser(file, result.diagnostics).Parse(yaml.root);
  if (result.diagnostics.empty()) result.spec = std::move(spec);
  return result;
}

base::Status MalformedOnFailure(std::string_view text) {
  return base::InvalidInput(
      "must be ABORT, CONTINUE, RETRY, RETRY-<count 0..100>, RETRY-<regex> or "
      "RETRY-<count>-<regex>, not " +
      std::string(text));
}

// What follows "RETRY-": "<count>", "<count>-<regex>" or "<regex>" (a remainder that is not a
// count is all regex, so "RETRY-2abc" retries on /2abc/). nullopt when malformed.
std::optional<std::string_view> ParseRetrySuffix(std::string_view rest, OnFailure& out) {
  size_t digits = 0;
  while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
  if (digits > 0 && (digits == rest.size() || rest[digits] == '-')) {
    if (digits > 3) return std::nullopt;
    out.retry_count = std::stoi(std::string(rest.substr(0, digits)));
    if (out.retry_count > 100) return std::nullopt;
    if (digits == rest.size()) return std::string_view();
    rest.remove_prefix(digits + 1);
    if (rest.empty()) return std::nullopt;  // "RETRY-2-" names no regex
  }
  return rest;
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

// Grammar (CodeBuild): ABORT | CONTINUE | RETRY | RETRY-<count> | RETRY-<regex> |
// RETRY-<count>-<regex>, with count 0..100 (default 3) and regex matching every error if absent.
base::Result<OnFailure> ParseOnFailure(std::string_view text) {
  OnFailure out;
  if (text == "ABORT" || text == "CONTINUE") {
    out.mode = text == "ABORT" ? OnFailure::Mode::kAbort : OnFailure::Mode::kContinue;
    return out;
  }
  if (!text.starts_with("RETRY")) return MalformedOnFailure(text);
  out.mode = OnFailure::Mode::kRetry;
  std::string_view rest = text.substr(5);
  if (rest.empty()) return out;
  if (rest.size() < 2 || rest[0] != '-') return MalformedOnFailure(text);
  std::optional<std::string_view> regex = ParseRetrySuffix(rest.substr(1), out);
  if (!regex) return MalformedOnFailure(text);
  if (regex->empty()) return out;
  base::Result<RetryRegex> compiled = RetryRegex::Compile(*regex);
  if (!compiled.ok()) return compiled.status();
  out.retry_regex = std::move(compiled.value());
  return out;
}

}  // namespace kiln::spec
