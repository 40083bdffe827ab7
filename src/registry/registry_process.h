// The registry process Kiln runs for `registry.listen`: Debian's docker-registry with the
// config and htpasswd of config_file.h and credentials.h, in its own process group, and a
// supervisor that keeps it running for `kiln serve`.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/status.h"
#include "registry/credentials.h"

namespace kiln::registry {

struct RegistryProcess {
  pid_t pid = -1;     // leads its own process group
  std::string token;  // its exec::kTreeTokenVar value
};

// docker-registry's path from PATH, or an error saying how to install it.
base::Result<std::string> FindRegistryBinary();

// Writes config.yml, makes sure the password and htpasswd exist, starts `docker-registry serve
// config.yml` (stdin /dev/null, output appended to registry.log) and waits until GET /v2/ on
// listen answers 401. On timeout or an early exit the process is stopped and the error names
// the address and the log file (the usual cause: the address is in use).
base::Result<RegistryProcess> StartRegistry(const Paths& paths, const std::string& listen,
                                            int64_t ready_timeout_ms = 10'000);

// Stops the registry a killed Kiln left running for these paths (registry.pid names it, and
// its tree token makes sure a reused pid is not someone else's), so that a restarted
// `kiln serve` can take its address again. Nothing recorded, or nothing left: a no-op.
void StopStaleRegistry(const Paths& paths);

// The exit code of child pid once it ended (waiting up to wait_ms), or nullopt while it runs.
// A pid someone else reaped that no longer exists counts as ended (-1).
std::optional<int> ExitedWithin(pid_t pid, int64_t wait_ms);

// SIGTERM to the process tree, SIGKILL after grace_ms; reaps it.
void StopRegistry(const RegistryProcess& process, int64_t grace_ms = 5'000);

// Keeps a registry running: started by Start (whose error is the first start's), restarted
// when it exits (after 1 s, doubling to 30 s while it keeps failing), stopped by the
// destructor. Messages about exits and restarts go to log.
class Supervisor {
 public:
  using LogFn = std::function<void(const std::string&)>;
  static base::Result<std::unique_ptr<Supervisor>> Start(const Paths& paths, std::string listen,
                                                         LogFn log);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  pid_t pid() const { return pid_.load(); }  // -1 while restarting

 private:
  Supervisor(Paths paths, std::string listen, LogFn log, RegistryProcess first);
  void Watch();
  bool SleepUnlessStopping(int64_t ms);

  const Paths paths_;
  const std::string listen_;
  const LogFn log_;
  RegistryProcess current_;  // touched by the watch thread only, until it is joined
  std::atomic<pid_t> pid_{-1};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

// The registry one `kiln build` uses: the one already answering on listen (kiln serve's, with
// the same state dir and so the same password), or one started for this build and stopped
// when this object goes.
class BuildRegistry {
 public:
  static base::Result<std::unique_ptr<BuildRegistry>> Ensure(const Paths& paths,
                                                             const std::string& listen);
  ~BuildRegistry();
  bool started() const { return process_.pid > 0; }

 private:
  explicit BuildRegistry(RegistryProcess p) : process_(std::move(p)) {}
  RegistryProcess process_;
};

}  // namespace kiln::registry
