// The buildspec Parser's section readers: env, proxy, batch, phases, artifacts, reports, cache.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <iterator>

#include "spec/buildspec_parser.h"
#include "spec/yaml_util.h"

namespace kiln::spec::buildspec_yml {
namespace {

constexpr std::string_view kEnvKeys[] = {
    "shell",           "variables",          "parameter-store",
    "secrets-manager", "exported-variables", "git-credential-helper"};
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

}  // namespace

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

}  // namespace kiln::spec::buildspec_yml
