#include "deploy/task_launch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>

#include "base/fd.h"
#include "base/files.h"
#include "exec/process.h"

namespace kiln::deploy {
namespace {

namespace fs = std::filesystem;

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

base::Result<uint16_t> BindEphemeral() {
  base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return base::IoError("socket", errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return base::IoError("bind 127.0.0.1:0", errno);
  }
  return ntohs(addr.sin_port);
}

}  // namespace

base::Status CheckProcessTask(const TaskSpec& task) {
  if (task.containers.size() > 1) {
    return base::Unsupported(
        "the process provider runs one container per task; this task "
        "definition has " +
        std::to_string(task.containers.size()));
  }
  const ContainerSpec& main = task.main();
  if (main.entry_point.empty() && main.command.empty()) {
    return base::InvalidInput("container '" + main.name +
                              "' needs a command or an entryPoint (the process provider has "
                              "no image default)");
  }
  return base::Status::Ok();
}

std::vector<std::string> TaskEnvironment(const LaunchRequest& r) {
  std::vector<std::string> env = {"PATH=" + EnvOr("PATH", "/usr/local/bin:/usr/bin:/bin"),
                                  "HOME=" + EnvOr("HOME", "/"), "LANG=" + EnvOr("LANG", "C.UTF-8")};
  for (const auto& [name, value] : r.container->environment) env.push_back(name + "=" + value);
  for (const auto& [name, value] : r.secrets) env.push_back(name + "=" + value);
  env.push_back("PORT=" + std::to_string(r.port));
  env.push_back("KILN_TASK_ID=" + r.task_id);
  env.push_back("KILN_SERVICE=" + r.service);
  env.push_back(std::string(exec::kTreeTokenVar) + "=" + r.task_id);
  return env;
}

base::Result<pid_t> LaunchTask(const LaunchRequest& r) {
  if (auto st = base::CopyTree(r.bundle_dir, r.work_dir); !st.ok()) return st;
  fs::path cwd = r.work_dir / r.container->working_directory;
  if (!base::IsInside(r.work_dir, cwd)) {
    return base::InvalidInput("workingDirectory '" + r.container->working_directory +
                              "' leads outside the bundle");
  }
  std::error_code ec;
  fs::create_directories(r.log_path.parent_path(), ec);
  base::UniqueFd log(::open(r.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log.valid()) return base::IoError("open " + r.log_path.string(), errno);
  exec::SpawnRequest spawn{.env = TaskEnvironment(r),
                           .cwd = cwd.string(),
                           .stdout_fd = log.get(),
                           .stderr_fd = log.get(),
                           .new_process_group = true};
  spawn.argv = r.container->entry_point;
  spawn.argv.insert(spawn.argv.end(), r.container->command.begin(), r.container->command.end());
  return exec::Spawn(spawn);
}

base::Result<uint16_t> PickFreePort(const std::set<uint16_t>& taken) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto port = BindEphemeral();
    if (!port.ok() || !taken.contains(*port)) return port;
  }
  return base::Status(base::ErrorKind::kIo, "no free port on 127.0.0.1");
}

}  // namespace kiln::deploy
