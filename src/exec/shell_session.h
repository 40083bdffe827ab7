// One long-lived shell per build, fed one command at a time (CodeBuild 0.2: "all commands
// run in the same instance of the shell"): `cd`, exported and plain variables carry from
// command to command, yet `exit N` fails only that command.
//
// How: the shell runs a small driver script. Each command runs in a subshell of that shell;
// on the subshell's exit a trap writes its variables (including PWD) to a state file, which
// the parent shell then reads back. The fork per command is the same cost as `(cmd)` in sh.
// Commands that cannot change any state (no assignment, no builtin like cd or export) skip
// the state round trip. A list of commands runs in one request: the driver marks the start of
// each in the output stream with a line carrying a random token. Commands are defined up front as
// shell functions that `eval` their text, so a syntax error in one command fails that command only.
// Shell functions defined by a command do not carry to the next under `sh` (dash cannot print
// them); under bash they do.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/status.h"
#include "exec/driver_launcher.h"

namespace kiln::exec {

// Receives the shell's combined stdout and stderr as it arrives.
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  virtual void OnOutput(std::string_view bytes) = 0;
  // Command `index` is about to start; everything delivered before belongs to earlier ones.
  virtual void OnCommandStart(size_t index) { (void)index; }
  // The session is about to wait for more: a good moment to write out what was buffered.
  virtual void OnIdle() {}
};

struct ShellOptions {
  std::string shell = "sh";           // "sh", "bash", or a path
  std::filesystem::path cwd;          // where the first command starts
  std::vector<std::string> env;       // the whole environment, "NAME=VALUE"
  std::filesystem::path scratch_dir;  // private dir (0700) for the driver and its state
  std::vector<std::string> commands;  // every command the session may run, by index
  // Per command (same index; shorter or empty: none): the Linux user it runs as through `su`
  // (buildspec run-as); "" runs it as the session's user. See RunAsScript for what carries.
  std::vector<std::string> run_as;
  std::string tree_token;  // marks every process of the build (see KillTree)
};

enum class CommandOutcome { kExited, kTimedOut, kCancelled, kShellLost };

struct CommandResult {
  CommandOutcome outcome = CommandOutcome::kExited;
  int exit_code = 0;  // valid for kExited: 0 success, 128+N killed by signal N
  size_t index = 0;   // the last command that ran (RunBatch stops at the first failure)
};

// Thread-compatible, not thread-safe: one thread drives a session. Output is delivered to the
// sink on the calling thread during Run/Query/Close.
class ShellSession {
 public:
  // Starts the shell on the host (HostLauncher with options.tree_token). cancel_fd, when >= 0,
  // is polled: once readable, Run returns kCancelled.
  static base::Result<std::unique_ptr<ShellSession>> Start(const ShellOptions& options,
                                                           OutputSink* sink, int cancel_fd);
  // The same, with the driver started by launcher (e.g. in a container: container_shell.h).
  // options.cwd is then as the driver sees it; tree_token is the launcher's business.
  static base::Result<std::unique_ptr<ShellSession>> Start(const ShellOptions& options,
                                                           std::unique_ptr<DriverLauncher> launcher,
                                                           OutputSink* sink, int cancel_fd);
  ~ShellSession();  // kills whatever is left of the tree

  // Runs command `index` of ShellOptions::commands; waits for it, passing output to the sink,
  // until it exits, deadline_ms (monotonic; <= 0 for none) passes, or cancel_fd fires.
  CommandResult Run(size_t index, int64_t deadline_ms);
  // Runs commands first..last in order in one request, stopping at the first that fails;
  // the sink's OnCommandStart marks where each begins in the output. One round trip for the
  // whole list: what makes 1000 commands cost little more than 1000 forks.
  CommandResult RunBatch(size_t first, size_t last, int64_t deadline_ms);
  // Sets and exports a variable in the session (e.g. CODEBUILD_BUILD_SUCCEEDING).
  base::Status SetVariable(const std::string& name, const std::string& value);
  // Returns the current value of a variable (empty if unset).
  base::Result<std::string> GetVariable(const std::string& name);
  // Expands $VARS and $(...) in text as the shell would inside double quotes.
  base::Result<std::string> Expand(const std::string& text);

  // Ends the session: the driver exits, then every process left in the tree (background
  // jobs, daemons) is terminated (SIGTERM, SIGKILL after grace_ms; a container is removed),
  // and the remaining output is delivered.
  void Close(int64_t grace_ms);

  pid_t pid() const { return launcher_->pid(); }  // the host driver's; -1 in a container

 private:
  ShellSession() = default;
  base::Result<std::string> Request(const std::string& line, int64_t deadline_ms,
                                    CommandOutcome* outcome);
  size_t DrainOutput();  // returns bytes read
  void Deliver(std::string_view data);

  OutputSink* sink_ = nullptr;
  std::unique_ptr<DriverLauncher> launcher_;
  bool closed_ = false;
  bool busy_ = false;  // a request is outstanding (the driver is running a command)
  int cancel_fd_ = -1;
  std::filesystem::path scratch_dir_;
  base::UniqueFd out_;  // shell's stdout+stderr
  base::UniqueFd ctl_;  // requests to the driver
  base::UniqueFd ack_;  // replies from the driver, each ending in NUL
  std::string marker_;  // "\x1e<token> ": the driver's command-start lines begin so
  std::string carry_;   // an incomplete marker held back from the last read
  std::string ack_buf_;
  std::vector<char> read_buf_;
};

// False only when command certainly cannot change the session's variables or cwd under
// shell (no assignment, no state-changing builtin); such commands skip the state round trip.
bool MayChangeState(std::string_view command, std::string_view shell);

// Quotes text for a POSIX shell: 'text' with embedded ' written as '\''.
std::string ShellQuote(std::string_view text);

}  // namespace kiln::exec
