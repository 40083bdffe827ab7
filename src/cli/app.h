// The `kiln` command line: global options, the subcommand table, exit codes.
#pragma once

namespace kiln::cli {

// Exit codes (DESIGN.md): 0 success; 1 the work did not succeed; 2 usage or invalid input;
// 70 internal fault.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInternal = 70;

int Main(int argc, char** argv);

}  // namespace kiln::cli
