// What every subcommand receives: the global options, resolved.
#pragma once

#include <filesystem>
#include <string>

namespace kiln::cli {

struct GlobalOptions {
  std::string config = "kiln.yml";
  std::string state_dir;  // resolved by StateDir()
  std::string server;
  std::string token;  // --token (else $KILN_TOKEN) for --server
  bool json = false;
  bool no_color = false;
};

// --state-dir, else $KILN_STATE_DIR, else ./.kiln.
std::filesystem::path StateDir(const GlobalOptions& g);
// Removes group/other bits left under an existing local state dir by an older Kiln, once
// (store::SecureStateDir); a failure is a warning, so read-only commands still work.
void SecureLocalStateDir(const GlobalOptions& g);
// Colour only on a terminal, and never with --no-color or NO_COLOR set.
bool UseColor(const GlobalOptions& g, int fd);

}  // namespace kiln::cli
