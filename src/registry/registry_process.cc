#include "registry/registry_process.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "base/fd.h"
#include "base/files.h"
#include "base/ids.h"
#include "exec/process.h"
#include "registry/config_file.h"
#include "registry/http_probe.h"

namespace kiln::registry {
namespace fs = std::filesystem;
namespace {

base::Result<RegistryProcess> Spawn(const Paths& paths, const std::string& binary) {
  base::UniqueFd log(::open(paths.log().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log.valid()) return base::IoError("open " + paths.log().string(), errno);
  auto token = RandomHex(16);
  if (!token.ok()) return token.status();
  const char* path = std::getenv("PATH");
  exec::SpawnRequest req{
      .argv = {binary, "serve", paths.config().string()},
      .env = {std::string("PATH=") + (path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"),
              std::string(exec::kTreeTokenVar) + "=" + *token},
      .cwd = paths.dir.string(),
      .stdout_fd = log.get(),
      .stderr_fd = log.get(),
      .new_process_group = true};
  auto pid = exec::Spawn(req);
  if (!pid.ok()) return pid.status();
  RegistryProcess process{*pid, *token};
  // Recorded so that a Kiln killed without stopping it can be followed by one that does.
  if (auto st = WritePrivateFile(paths.pid(), std::to_string(*pid) + " " + *token + "\n");
      !st.ok()) {
    StopRegistry(process, 1'000);
    return st;
  }
  return process;
}

// Polls GET /v2/ until it answers 401, the process exits, or the deadline passes.
base::Status WaitReady(const Paths& paths, const std::string& listen, const RegistryProcess& p,
                       int64_t timeout_ms) {
  int64_t deadline = base::MonotonicMillis() + timeout_ms;
  std::string see = "; see " + paths.log().string();
  while (true) {
    auto code = HttpGetStatus(listen, "/v2/", 500);
    if (code.ok() && *code == 401) return base::Status::Ok();
    if (auto exit = ExitedWithin(p.pid, 0)) {
      return base::Status(base::ErrorKind::kFailed,
                          "docker-registry exited (code " + std::to_string(*exit) +
                              ") before answering on " + listen +
                              " (is the address in use, or the port privileged?)" + see);
    }
    if (base::MonotonicMillis() >= deadline) {
      std::string got =
          code.ok() ? "HTTP " + std::to_string(*code) + " instead of 401" : code.status().message();
      return base::Status(base::ErrorKind::kFailed,
                          "docker-registry did not answer on " + listen + " within " +
                              std::to_string(timeout_ms / 1000) + " s (" + got +
                              "; is the address in use by another program?)" + see);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

std::optional<int> ExitedWithin(pid_t pid, int64_t wait_ms) {
  if (auto status = exec::WaitFor(pid, wait_ms)) return exec::ExitCodeOf(*status);
  if (::kill(pid, 0) != 0 && errno == ESRCH) return -1;
  return std::nullopt;
}

base::Result<std::string> FindRegistryBinary() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / "docker-registry";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return base::NotFound("docker-registry is not installed (scripts/install-deps)");
}

base::Result<RegistryProcess> StartRegistry(const Paths& paths, const std::string& listen,
                                            int64_t ready_timeout_ms) {
  auto binary = FindRegistryBinary();
  if (!binary.ok()) return binary.status();
  // Another server there would pass the readiness check in place of ours.
  if (auto code = HttpGetStatus(listen, "/v2/", 500); code.ok()) {
    return base::Status(base::ErrorKind::kFailed,
                        "cannot start docker-registry on " + listen + ": the address is in use " +
                            "(something answers HTTP " + std::to_string(*code) + " there); see " +
                            paths.log().string());
  }
  if (auto st = WriteConfig(paths, listen); !st.ok()) return st;
  if (auto pw = CurrentPassword(paths); !pw.ok()) return pw.status();
  auto process = Spawn(paths, *binary);
  if (!process.ok()) return process.status();
  if (auto st = WaitReady(paths, listen, *process, ready_timeout_ms); !st.ok()) {
    StopRegistry(*process, 1'000);
    return st;
  }
  return process;
}

void StopRegistry(const RegistryProcess& process, int64_t grace_ms) {
  if (process.pid <= 0) return;
  exec::KillTree(process.pid, process.token, grace_ms);
}

void StopStaleRegistry(const Paths& paths) {
  auto text = base::ReadFile(paths.pid(), 256);
  if (!text.ok()) return;
  std::istringstream in(*text);
  RegistryProcess stale;
  if (!(in >> stale.pid >> stale.token) || stale.pid <= 1 || stale.token.size() != 32) return;
  StopRegistry(stale, 2'000);
  std::error_code ec;
  fs::remove(paths.pid(), ec);
}

}  // namespace kiln::registry
