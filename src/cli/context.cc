#include "cli/context.h"

#include <unistd.h>

#include <cstdlib>

namespace kiln::cli {

std::filesystem::path StateDir(const GlobalOptions& g) {
  if (!g.state_dir.empty()) return g.state_dir;
  if (const char* env = std::getenv("KILN_STATE_DIR"); env && *env) return env;
  return ".kiln";
}

bool UseColor(const GlobalOptions& g, int fd) {
  if (g.no_color) return false;
  if (const char* env = std::getenv("NO_COLOR"); env && *env) return false;
  return ::isatty(fd) != 0;
}

}  // namespace kiln::cli
