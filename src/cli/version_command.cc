#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "cli/app.h"
#include "cli/commands.h"

namespace kiln::cli {

#ifndef KILN_VERSION
#define KILN_VERSION "0.1.0"
#endif

CommandSpec VersionCommand() {
  return {
      "version", "print Kiln's version", [](CLI::App*) {
        return [](const GlobalOptions& g) {
          if (g.json) {
            std::printf("%s\n", base::JsonText(nlohmann::json{{"version", KILN_VERSION}}).c_str());
          } else {
            std::printf("kiln %s\n", KILN_VERSION);
          }
          return kExitOk;
        };
      }};
}

}  // namespace kiln::cli
