#include "exec/container_shell.h"

#include "exec/task_containers.h"

namespace kiln::exec {

// Wait before Start (DOCKER-ENGINE.md fact 1), so an exit right after Start is not missed.
base::Result<PendingWait> ContainerLauncher::StartContainer(const DriverLaunch& launch,
                                                            std::string* container_id) {
  DriverContainer c = DriverContainerOf(options_, launch);
  ContainerSpec spec{
      .name = options_.name,
      .image = options_.image,
      .cmd = std::move(c.cmd),
      .entrypoint = std::move(c.entrypoint),
      .env = std::move(c.env),
      .working_dir = std::move(c.working_dir),
      .user = options_.user,
      .labels = options_.labels,
      .binds = std::move(c.binds),
      .network_mode = options_.network_mode,
      .nano_cpus = options_.nano_cpus,
      .memory_bytes = options_.memory_bytes,
      .init = true,  // tini as PID 1: SIGTERM reaches the driver (DOCKER-ENGINE.md fact 8)
  };
  auto id = engine_.CreateContainer(spec);
  if (!id.ok()) return id.status();
  id_ = *container_id = *id;
  auto wait = engine_.Wait(id_, WaitCondition::kNextExit);
  if (!wait.ok()) return wait.status();
  if (auto st = engine_.Start(id_); !st.ok()) return st;
  return wait;
}

void ContainerLauncher::Remove() {
  if (!id_.empty()) (void)engine_.Remove(id_, /*force=*/true);
}

base::Result<size_t> RemoveOrphanContainers(const DockerClient& client, const std::string& key,
                                            const std::string& value) {
  auto list = client.ListContainers({{key, value}}, /*all=*/true);
  if (!list.ok()) return list.status();
  size_t removed = 0;
  for (const ContainerSummary& c : *list) {
    // A service's task (the docker provider's, or a Swarm service's): adopted, never swept.
    if (c.labels.contains(kTaskLabel) || c.labels.contains(kServiceLabel)) continue;
    auto st = client.Remove(c.id, /*force=*/true);
    if (st.ok()) ++removed;
    if (!st.ok() && st.kind() != base::ErrorKind::kNotFound) return st;
  }
  return removed;
}

}  // namespace kiln::exec
