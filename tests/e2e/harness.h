// Runs the real `kiln` binary as a user would, in a scratch directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/conformance.h"

namespace kiln::e2e {

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// A temporary directory removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  // Writes a file (creating parent folders) and returns its path.
  std::filesystem::path Write(const std::string& relative, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

// Runs argv (argv[0] a path or a name on PATH) in cwd; extra_env entries are "NAME=VALUE".
RunResult RunProcess(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                     const std::vector<std::string>& extra_env = {}, int timeout_s = 120);

// The kiln binary under test.
inline std::string KilnBinary() { return KILN_BINARY; }

// Runs the kiln binary with args in cwd; extra_env entries are "NAME=VALUE".
RunResult RunKiln(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                  const std::vector<std::string>& extra_env = {}, int timeout_s = 120);

// A process started in the background; its stdout and stderr go to files that can be read at
// any time. The destructor kills (SIGKILL) and reaps it if it is still running.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                    const std::vector<std::string>& extra_env);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  int pid() const { return pid_; }
  // True once it has exited (reaps it).
  bool Exited();
  // Waits up to timeout_s for it to exit, killing it (SIGKILL) on timeout; returns its exit code
  // (128 + signal when killed) and all its output.
  RunResult Wait(int timeout_s = 120);
  void Signal(int signal);
  std::string Out() const;
  std::string Err() const;

 private:
  TempDir output_;
  int pid_ = -1;
  int exit_code_ = -1;
};

// Starts the kiln binary with args in cwd, in the background.
std::unique_ptr<BackgroundProcess> StartKiln(const std::vector<std::string>& args,
                                             const std::filesystem::path& cwd,
                                             const std::vector<std::string>& extra_env = {});

// True while pid is a live process (a zombie counts as gone).
bool Running(int pid);

std::string ReadText(const std::filesystem::path& p);

// A loopback TCP port that was free a moment ago (bound to port 0 and released).
uint16_t FreePort();

// The shared conformance corpus: $KILN_CONFORMANCE_DIR, else ../shared/conformance beside the
// checkout; a test that reads it skips when ConformanceMissing() says why.
using base::ConformanceDir;
using base::ConformanceMissing;

}  // namespace kiln::e2e
