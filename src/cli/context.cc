#include "cli/context.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "store/state_dir.h"

namespace kiln::cli {

std::filesystem::path StateDir(const GlobalOptions& g) {
  if (!g.state_dir.empty()) return g.state_dir;
  if (const char* env = std::getenv("KILN_STATE_DIR"); env && *env) return env;
  return ".kiln";
}

void SecureLocalStateDir(const GlobalOptions& g) {
  std::filesystem::path dir = StateDir(g);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return;  // made later, under our umask
  if (auto st = store::SecureStateDir(dir, store::ModeCheck::kOnce); !st.ok()) {
    std::fprintf(stderr, "kiln: warning: state dir modes: %s\n", st.message().c_str());
  }
}

bool UseColor(const GlobalOptions& g, int fd) {
  if (g.no_color) return false;
  if (const char* env = std::getenv("NO_COLOR"); env && *env) return false;
  return ::isatty(fd) != 0;
}

}  // namespace kiln::cli
