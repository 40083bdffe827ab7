// Running git (and tar) to completion with both output streams captured and a deadline.
// exec::Capture drops stderr and has no timeout; git's stderr is the only useful error text,
// and a fetch from a stalled server must not hang a pipeline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::source {

struct ProcessLimits {
  int64_t timeout_ms = 10 * 60 * 1000;  // then the whole process group is killed
  size_t max_stdout = 64 << 20;         // output beyond this is read and dropped
  size_t max_stderr = 64 << 10;
};

struct ProcessOutput {
  int exit_code = 0;  // as a shell reports it: 128 + signal when killed
  std::string out;
  std::string err;
};

// Runs argv (argv[0] looked up in PATH; never a shell) with exactly env as its environment,
// in cwd (empty: ours). kFailed when the deadline passes (the child's group is killed);
// kIo when it cannot start. A non-zero exit is not an error here: see exit_code.
base::Result<ProcessOutput> RunProcess(const std::vector<std::string>& argv,
                                       const std::vector<std::string>& env, const std::string& cwd,
                                       const ProcessLimits& limits);

// Runs producer | consumer without a shell. The consumer cannot use stdin (children always
// get /dev/null there), so it reads the producer's output from fd 3 (e.g. tar -f /dev/fd/3).
// out is the consumer's stdout; err holds both stderrs. exit_code is the producer's if it
// failed, else the consumer's.
base::Result<ProcessOutput> RunPiped(const std::vector<std::string>& producer,
                                     const std::vector<std::string>& consumer,
                                     const std::vector<std::string>& env, const std::string& cwd,
                                     const ProcessLimits& limits);

}  // namespace kiln::source
