// `kiln build [DIR]`: one CodeBuild build, here, now.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "base/files.h"
#include "base/json_text.h"
#include "cli/app.h"
#include "cli/build_output.h"
#include "cli/commands.h"
#include "cli/local_registry.h"
#include "cli/pipeline_loader.h"
#include "codebuild/engine.h"
#include "exec/process.h"
#include "registry/registry_process.h"
#include "spec/build_environment.h"
#include "spec/value_map.h"
#include "store/store.h"

namespace kiln::cli {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxBuildspecBytes = 1 << 20;

struct BuildArgs {
  std::string dir = ".";
  std::string buildspec;
  std::vector<std::string> env;
  std::string params_file, secrets_file, out_dir, project;
  std::string timeout = "60m";
  bool in_place = false;
  // StartBuild's imageOverride, privilegedModeOverride, computeTypeOverride.
  std::string image, compute_type;
  bool privileged = false;
};

// --image/--privileged/--compute-type as a build environment; "" when they are valid.
std::string ContainerEnvironment(const BuildArgs& a, spec::BuildEnvironment* env) {
  env->image = a.image;
  env->privileged = a.privileged;
  if (!a.compute_type.empty()) {
    auto type = spec::ParseComputeType(a.compute_type);
    if (!type) {
      return "--compute-type " + a.compute_type +
             ": expected BUILD_GENERAL1_SMALL, _MEDIUM, _LARGE, _XLARGE or _2XLARGE";
    }
    env->compute_type = *type;
  }
  if (env->image.empty() && (a.privileged || !a.compute_type.empty())) {
    return "--privileged and --compute-type apply to builds in a container: give --image too";
  }
  return "";
}

int g_cancel_write = -1;

void OnSignal(int) {
  char c = 1;
  [[maybe_unused]] ssize_t n = ::write(g_cancel_write, &c, 1);
}

// Ctrl-C and SIGTERM stop the build (STOPPED) instead of killing Kiln.
int InstallCancelPipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  g_cancel_write = p[1];
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  return p[0];
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "kiln build: error: %s\n", message.c_str());
  return kExitUsage;
}

fs::path FindBuildspec(const BuildArgs& a) {
  if (!a.buildspec.empty()) {
    if (fs::exists(a.buildspec)) return a.buildspec;
    return fs::path(a.dir) / a.buildspec;
  }
  fs::path yml = fs::path(a.dir) / "buildspec.yml";
  if (fs::exists(yml)) return yml;
  return fs::path(a.dir) / "buildspec.yaml";  // the seed team's name
}

bool ReadValueFile(const std::string& path, std::map<std::string, std::string>* out) {
  if (path.empty()) return true;
  auto text = base::ReadFile(path, 16 << 20);
  if (!text.ok()) {
    std::fprintf(stderr, "%s\n", text.status().message().c_str());
    return false;
  }
  auto parsed = spec::ParseValueMap(*text, path);
  for (const auto& d : parsed.diagnostics) std::fprintf(stderr, "%s\n", d.ToString().c_str());
  *out = std::move(parsed.values);
  return parsed.diagnostics.empty();
}

// A container build gets kiln.yml's registry (codebuild::ApplyRegistry). With
// `registry.listen`, a registry already answering there (kiln serve's, same state dir) is
// used; otherwise one is started for this build and stopped after it.
bool UseRegistry(const GlobalOptions& g, codebuild::BuildRequest* req,
                 std::unique_ptr<registry::BuildRegistry>* own) {
  if (req->environment.on_host()) return true;
  std::optional<spec::KilnConfig> config;
  if (!LoadConfig(g, &config)) return false;
  if (!config || !config->registry.configured()) return true;
  if (!EnsureLocalRegistry(*config, req->state_dir, true, "build", own)) return false;
  if (auto st = codebuild::ApplyRegistry(*config, req); !st.ok()) {
    std::fprintf(stderr, "kiln build: %s: %s\n", config->file.c_str(), st.message().c_str());
    return false;
  }
  return true;
}

int Run(const BuildArgs& a, const GlobalOptions& g) {
  if (!fs::is_directory(a.dir)) return UsageError("'" + a.dir + "' is not a directory");
  auto timeout = base::ParseDuration(a.timeout);
  if (!timeout.ok()) return UsageError("--timeout: " + timeout.status().message());
  fs::path spec_path = FindBuildspec(a);
  auto text = base::ReadFile(spec_path, kMaxBuildspecBytes);
  if (!text.ok()) return UsageError(text.status().message());
  auto parsed = spec::ParseBuildspec(*text, spec_path.string());
  for (const auto& d : parsed.diagnostics) std::fprintf(stderr, "%s\n", d.ToString().c_str());
  if (!parsed.spec) return kExitUsage;
  if (parsed.spec->has_batch) {
    return UsageError(spec_path.string() + ": batch builds (" + parsed.spec->batch_kind +
                      ") are not supported yet");
  }
  // Both normalised: `kiln build .` names "/x/." and the state dir "/x/.kiln", and the copy of
  // the source must recognise the state dir inside it to leave it out.
  codebuild::BuildRequest req{.project = a.project,
                              .source_dir = fs::weakly_canonical(fs::absolute(a.dir)),
                              .in_place = a.in_place,
                              .buildspec = std::move(*parsed.spec),
                              .state_dir = fs::weakly_canonical(fs::absolute(StateDir(g))),
                              .timeout_ms = *timeout};
  if (std::string bad = ContainerEnvironment(a, &req.environment); !bad.empty()) {
    return UsageError(bad);
  }
  if (req.project.empty()) req.project = req.source_dir.filename();
  if (req.project.empty() || req.project == ".") req.project = "local";
  for (const auto& kv : a.env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return UsageError("-e expects NAME=VALUE, got '" + kv + "'");
    req.overrides.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  if (!ReadValueFile(a.params_file, &req.parameters) ||
      !ReadValueFile(a.secrets_file, &req.secrets)) {
    return kExitUsage;
  }
  const char* user = std::getenv("USER");
  req.initiator = user ? user : "local";
  if (!a.out_dir.empty()) req.artifacts_out = fs::absolute(a.out_dir);
  req.console_fd = g.json ? STDERR_FILENO : STDOUT_FILENO;
  std::unique_ptr<registry::BuildRegistry> own_registry;  // stopped after the build
  if (!UseRegistry(g, &req, &own_registry)) return kExitUsage;
  req.cancel_fd = InstallCancelPipe();
  exec::BecomeSubreaper();
  codebuild::BuildRecord r = codebuild::RunBuild(req);
  if (auto store = store::Store::Open((req.state_dir / "kiln.db").string()); store.ok()) {
    auto st = (*store)->PutBuild(
        {r.id, r.project, r.build_number, std::string(codebuild::StatusName(r.status)), "",
         base::JsonText(codebuild::ToJson(r)), r.log_path, r.start_ms, r.end_ms});
    if (!st.ok())
      std::fprintf(stderr, "kiln: warning: build not recorded: %s\n", st.message().c_str());
  }
  if (g.json) {
    std::printf("%s\n", base::JsonText(codebuild::ToJson(r), 2).c_str());
  } else {
    std::string table = PhaseTable(r, UseColor(g, STDOUT_FILENO));
    std::fwrite(table.data(), 1, table.size(), stdout);
  }
  return r.status == codebuild::BuildStatus::kSucceeded ? kExitOk : kExitFailed;
}

}  // namespace

CommandSpec BuildCommand() {
  return {"build", "run a CodeBuild buildspec here, now", [](CLI::App* sub) {
            auto a = std::make_shared<BuildArgs>();
            sub->add_option("dir", a->dir, "source directory (default .)");
            sub->add_option("-f,--buildspec", a->buildspec,
                            "buildspec file (default DIR/buildspec.yml, else buildspec.yaml)");
            sub->add_option("-e,--env", a->env, "override a variable: NAME=VALUE (repeatable)");
            sub->add_option("--params-file", a->params_file,
                            "YAML map: parameter-store name -> value");
            sub->add_option("--secrets-file", a->secrets_file,
                            "YAML map: secrets-manager id -> SecretString");
            sub->add_option("-o,--output", a->out_dir, "write the artifacts here");
            sub->add_option("--timeout", a->timeout, "build timeout (default 60m)");
            sub->add_option("--project", a->project, "project name (default: DIR's name)");
            sub->add_flag("--in-place", a->in_place, "run in DIR itself, not a fresh copy");
            sub->add_option("--image", a->image,
                            "run the build in a container of IMAGE (Docker engine at DOCKER_HOST)");
            sub->add_flag("--privileged", a->privileged,
                          "let the build's docker reach the engine (root-equivalent)");
            sub->add_option("--compute-type", a->compute_type,
                            "BUILD_GENERAL1_SMALL (default) ... _2XLARGE: CPU/memory limits");
            return [a](const GlobalOptions& g) { return Run(*a, g); };
          }};
}

}  // namespace kiln::cli
