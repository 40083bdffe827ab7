// `kiln registry`: the registry of kiln.yml's `registry:` as a user outside a build sees it.
// `login-password` is `aws ecr get-login-password` for it: the password `docker login -u AWS
// --password-stdin HOST:PORT` takes (the current one for the registry Kiln runs, which a
// running registry accepts at once).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/pipeline_loader.h"
#include "codebuild/engine.h"
#include "registry/access.h"

namespace kiln::cli {
namespace {
namespace fs = std::filesystem;

std::optional<registry::Access> Access(const GlobalOptions& g, int* exit_code) {
  std::optional<spec::KilnConfig> config;
  *exit_code = kExitUsage;
  if (!LoadConfig(g, &config)) return std::nullopt;
  if (!config || !config->registry.configured()) {
    std::fprintf(stderr, "kiln registry: no registry is configured in kiln.yml (registry:)\n");
    return std::nullopt;
  }
  auto access = registry::ResolveAccess(*config, fs::absolute(StateDir(g)));
  if (!access.ok() || !*access) {
    std::fprintf(stderr, "kiln registry: %s\n",
                 access.ok() ? "no registry" : access.status().message().c_str());
    *exit_code = kExitInternal;
    return std::nullopt;
  }
  *exit_code = kExitOk;
  return **access;
}

int LoginPassword(const GlobalOptions& g) {
  int code = kExitOk;
  auto access = Access(g, &code);
  if (!access) return code;
  std::printf("%s\n", access->password.c_str());
  return kExitOk;
}

int Show(const GlobalOptions& g) {
  int code = kExitOk;
  auto access = Access(g, &code);
  if (!access) return code;
  std::printf("address:  %s\nusername: %s\n", access->address.c_str(), access->username.c_str());
  return kExitOk;
}

}  // namespace

CommandSpec RegistryCommand() {
  return {"registry", "the registry builds push to (ECR's stand-in)", [](CLI::App* sub) {
            auto which = std::make_shared<std::string>();
            sub->require_subcommand(1);
            AddVerb(sub, "login-password",
                    "print the password for docker login -u AWS --password-stdin", which.get());
            AddVerb(sub, "show", "print the registry's address and user name", which.get());
            return [which](const GlobalOptions& g) {
              return *which == "login-password" ? LoginPassword(g) : Show(g);
            };
          }};
}

}  // namespace kiln::cli
