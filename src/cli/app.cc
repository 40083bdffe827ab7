#include "cli/app.h"

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <vector>

#include "cli/commands.h"
#include "cli/context.h"

namespace kiln::cli {
namespace {

void AddGlobalOptions(CLI::App* app, GlobalOptions* g) {
  app->add_option("--config", g->config, "kiln.yml to read (default ./kiln.yml)");
  app->add_option("--state-dir", g->state_dir,
                  "state directory (default ./.kiln or $KILN_STATE_DIR)");
  app->add_option("--server", g->server, "act through a running server (or $KILN_SERVER)");
  app->add_option("--token", g->token, "bearer token for --server (or $KILN_TOKEN)");
  app->add_flag("--json", g->json, "print one JSON document on stdout; logs go to stderr");
  app->add_flag("--no-color", g->no_color, "no colour (also: NO_COLOR)");
}

}  // namespace

CLI::App* AddVerb(CLI::App* parent, const char* name, const char* help, std::string* which) {
  CLI::App* s = parent->add_subcommand(name, help);
  s->fallthrough();
  s->callback([which, name] { *which = name; });
  return s;
}

int Main(int argc, char** argv) {
  // Everything Kiln writes (state dir, records, logs, artifacts) is the user's alone (DESIGN.md
  // "Security"). Build commands get CodeBuild's 022 back in their shell (exec/shell_session).
  ::umask(077);
  CLI::App app("Kiln: CodeBuild buildspecs and CodePipeline pipelines on your own machines",
               "kiln");
  GlobalOptions global;
  AddGlobalOptions(&app, &global);
  app.require_subcommand(1);
  std::function<int(const GlobalOptions&)> run;
  const std::vector<CommandSpec> table = {BuildCommand(),    PipelineCommand(), LogsCommand(),
                                          ServeCommand(),    ServiceCommand(),  ImageCommand(),
                                          RegistryCommand(), ValidateCommand(), VersionCommand()};
  for (const auto& spec : table) {
    CLI::App* sub = app.add_subcommand(std::string(spec.name), std::string(spec.help));
    sub->fallthrough();  // global options are accepted after the subcommand too
    auto runner = spec.setup(sub);
    sub->callback([&run, runner] { run = runner; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "kiln: error: %s\nRun 'kiln --help' for usage.\n", e.what());
    return kExitUsage;
  }
  if (run) SecureLocalStateDir(global);
  try {
    return run ? run(global) : kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln: internal error: %s\n", e.what());
    return kExitInternal;
  }
}

}  // namespace kiln::cli
