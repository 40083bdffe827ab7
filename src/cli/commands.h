// The subcommands. Each registers its options on a CLI11 subcommand and runs with the global
// options once parsing succeeded. Returns a process exit code (see app.h).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "cli/context.h"

namespace CLI {
class App;
}

namespace kiln::cli {

struct CommandSpec {
  std::string_view name;
  std::string_view help;
  // Adds options to sub and returns the function that runs the command.
  std::function<std::function<int(const GlobalOptions&)>(CLI::App* sub)> setup;
};

// Adds a verb under a command group (`kiln pipeline run`): global options fall through to it,
// and *which records its name when it is chosen.
CLI::App* AddVerb(CLI::App* parent, const char* name, const char* help, std::string* which);

CommandSpec BuildCommand();
CommandSpec ValidateCommand();
CommandSpec VersionCommand();
CommandSpec PipelineCommand();
CommandSpec ServeCommand();
CommandSpec LogsCommand();
CommandSpec ServiceCommand();
CommandSpec ImageCommand();
CommandSpec RegistryCommand();

}  // namespace kiln::cli
