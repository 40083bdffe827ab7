#include "exec/swarm_job.h"

#include <chrono>
#include <thread>

#include "base/ids.h"
#include "exec/container_shell.h"

namespace kiln::exec {
namespace {

// The task Kiln judges: a job with one completion has one, but old ones stay listed; the
// newest is last-changed.
const SwarmTask* CurrentTask(const std::vector<SwarmTask>& tasks) {
  const SwarmTask* current = nullptr;
  for (const SwarmTask& t : tasks) {
    if (!current || t.timestamp_ns >= current->timestamp_ns) current = &t;
  }
  return current;
}

// "rejected: preparing: No such image: x" from whatever of state, message and error is set.
std::string TaskWords(const SwarmTask& t) {
  std::string words = SwarmTaskStateText(t.state);
  if (!t.message.empty()) words += ": " + t.message;
  if (!t.error.empty()) words += ": " + t.error;
  return words;
}

}  // namespace

SwarmServiceSpec SwarmJobSpec(const SwarmJobOptions& options, const DriverLaunch& launch) {
  const ContainerShellOptions& o = options.container;
  DriverContainer c = DriverContainerOf(o, launch);
  SwarmServiceSpec spec{
      .name = o.name.empty() ? "kiln-job-" + base::NewUuid() : o.name,
      .labels = o.labels,
      .image = o.image,
      .command = std::move(c.entrypoint),
      .args = std::move(c.cmd),
      .env = std::move(c.env),
      .user = o.user,
      .working_dir = std::move(c.working_dir),
      .binds = std::move(c.binds),
      .init = true,  // tini as PID 1: SIGTERM reaches the driver (DOCKER-ENGINE.md fact 8)
      .resources = {.nano_cpus_limit = o.nano_cpus, .memory_bytes_limit = o.memory_bytes},
      .mode = SwarmServiceMode::kReplicatedJob,
      .max_concurrent = 1,
      .total_completions = 1,
      .network = o.network_mode == NetworkMode::kHost ? SwarmNetwork::kHost : SwarmNetwork::kNone,
      .restart_policy = {.condition = SwarmRestartCondition::kNone},
  };
  if (!options.node_id.empty()) spec.constraints = {"node.id==" + options.node_id};
  return spec;
}

base::Result<PendingWait> SwarmJobLauncher::StartContainer(const DriverLaunch& launch,
                                                           std::string* container_id) {
  auto id = swarm_.CreateService(SwarmJobSpec(options_, launch));
  if (!id.ok()) return id.status();
  service_id_ = *id;
  auto task = WaitForTask();
  if (!task.ok()) return task.status();
  *container_id = task->container_id;
  // Not-running rather than next-exit: the container started before this wait was sent.
  return engine_.Wait(task->container_id, WaitCondition::kNotRunning);
}

// Until the task runs, or ended having run a container (its exit then shows as a lost shell,
// as in a plain container); a task that ended without one, or is still not running at the
// deadline, fails with what Swarm says of it.
base::Result<SwarmTask> SwarmJobLauncher::WaitForTask() const {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.start_timeout_ms);
  std::string last = "no task yet";
  for (;;) {
    auto tasks = swarm_.ListServiceTasks(service_id_);
    if (!tasks.ok()) return tasks.status();
    if (const SwarmTask* t = CurrentTask(*tasks)) {
      bool ran = !t->container_id.empty() && (t->exit_code || !IsFinal(t->state));
      if (ran && (t->state == SwarmTaskState::kRunning || IsFinal(t->state))) return *t;
      if (IsFinal(t->state))
        return base::Status(base::ErrorKind::kFailed,
                            "swarm did not run the job: " + TaskWords(*t));
      last = TaskWords(*t);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return base::Status(base::ErrorKind::kFailed,
                          "the job's task did not start in " +
                              std::to_string(options_.start_timeout_ms / 1000) + " s (" + last +
                              ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.poll_ms));
  }
}

// The task's containers are found before the service goes: afterwards the manager may forget
// its tasks.
void SwarmJobLauncher::Remove() {
  if (service_id_.empty()) return;
  std::vector<std::string> containers;
  if (!container_id().empty()) containers.push_back(container_id());
  if (auto tasks = swarm_.ListServiceTasks(service_id_); tasks.ok()) {
    for (const SwarmTask& t : *tasks) {
      if (!t.container_id.empty() && t.container_id != container_id()) {
        containers.push_back(t.container_id);
      }
    }
  }
  (void)swarm_.RemoveService(service_id_);
  for (const std::string& id : containers) (void)engine_.Remove(id, /*force=*/true);
}

base::Result<JobSweep> RemoveOrphanJobServices(const SwarmClient& swarm, const std::string& key,
                                               const std::string& value) {
  // Build jobs only: a service's Swarm service carries the same kiln.state, and kiln.service.
  auto ids = swarm.ListServiceIds({{key, value}, {"kiln.build", ""}});
  if (!ids.ok()) return ids.status();
  JobSweep sweep;
  for (const std::string& id : *ids) {
    auto st = swarm.RemoveService(id);
    if (st.ok()) ++sweep.services;
    if (!st.ok() && st.kind() != base::ErrorKind::kNotFound) return st;
  }
  auto containers = RemoveOrphanContainers(swarm.engine(), key, value);
  if (!containers.ok()) return containers.status();
  sweep.containers = *containers;
  return sweep;
}

}  // namespace kiln::exec
