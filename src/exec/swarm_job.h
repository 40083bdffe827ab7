// A ShellSession whose driver runs as the one task of a Swarm job (mode replicated-job,
// MaxConcurrent 1, TotalCompletions 1): how a build runs on a swarm cluster. The driver talks
// to Kiln through FIFOs in the bind-mounted scratch dir exactly as in a plain container
// (driver_container.h).
//
// Node-local: the FIFOs, the workspace and the scratch dir are paths on the machine Kiln runs
// on, so the job is pinned to this engine's own node (placement constraint
// node.id==<SwarmClient::Info().node_id>). Builds on other nodes need the workspace
// transferred: not done.
//
// Start: the service is created, then its task watched (a bounded wait) until it runs; a task
// that Swarm rejects (no such image on the node) or cannot place within start_timeout_ms fails
// Launch with Swarm's own words (the task's state, message and error).
// End (finished, stopped, timed out): SIGTERM straight to the task's container (it is on this
// engine; Swarm's own stop of a task with a network attachment first sleeps 2 s), then the
// job service is removed and the task's container force-removed: Swarm leaves a job's exited
// containers behind (moby#42789), and a removed service's task may still be running.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "exec/driver_container.h"
#include "exec/swarm_client.h"
#include "exec/swarm_types.h"

namespace kiln::exec {

struct SwarmJobOptions {
  // The driver's container. name: the service's (empty: kiln-job-<uuid>); network_mode kHost
  // is the swarm's host network, anything else no attachment (SwarmNetwork::kNone: the
  // engine's default network, only loopback on an engine without a bridge). The labels go on
  // the service and its container.
  ContainerShellOptions container;
  std::string node_id;                // where the task must run: this engine's node
  int64_t start_timeout_ms = 30'000;  // for the task to reach running
  int64_t poll_ms = 50;               // between looks at the task
};

// The job's service spec (pure): the driver's container (DriverContainerOf) with init, no
// restart (a failed build is not re-run by Swarm), the CPU and memory limits, and the
// node.id constraint when node_id is set.
SwarmServiceSpec SwarmJobSpec(const SwarmJobOptions& options, const DriverLaunch& launch);

// The swarm client (and its engine) must outlive the launcher. Not thread-safe, as every
// DriverLauncher.
class SwarmJobLauncher : public ContainerDriverLauncher {
 public:
  SwarmJobLauncher(const SwarmClient& swarm, SwarmJobOptions options)
      : ContainerDriverLauncher(swarm.engine()), swarm_(swarm), options_(std::move(options)) {}
  ~SwarmJobLauncher() override { Shutdown(); }

  // Empty until the service exists.
  const std::string& service_id() const { return service_id_; }

 private:
  base::Result<PendingWait> StartContainer(const DriverLaunch& launch,
                                           std::string* container_id) override;
  void Remove() override;
  base::Result<SwarmTask> WaitForTask() const;

  const SwarmClient& swarm_;
  SwarmJobOptions options_;
  std::string service_id_;
};

struct JobSweep {
  size_t services = 0;
  size_t containers = 0;
};

// Removes every service carrying label key (=value when value is non-empty), and the
// containers with that label left on this engine (RemoveOrphanContainers): recovery after
// Kiln was killed during a build on a swarm cluster. Says how many of each it removed.
base::Result<JobSweep> RemoveOrphanJobServices(const SwarmClient& swarm, const std::string& key,
                                               const std::string& value);

}  // namespace kiln::exec
