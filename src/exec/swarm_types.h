// The typed values of Kiln's Swarm client (swarm_client.h): what a service is created from, and
// what a swarm manager reports about itself, its services and their tasks. Engine JSON names
// appear only in swarm_wire.cc. Durations are in ns, as the Engine API has them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exec/docker_types.h"

namespace kiln::exec {

// Info.Swarm.LocalNodeState. kNone is the engine's "" (swarm support not started).
enum class SwarmNodeState { kNone, kInactive, kPending, kActive, kError, kLocked };
const char* SwarmNodeStateText(SwarmNodeState state);
std::optional<SwarmNodeState> SwarmNodeStateFromText(std::string_view text);

// This engine's place in a swarm (GET /info, "Swarm").
struct SwarmInfo {
  SwarmNodeState state = SwarmNodeState::kNone;
  bool control_available = false;  // a manager: services can be created through this engine
  std::string node_id;
  std::string node_addr;
  std::string error;
};

// POST /swarm/init. Kiln's tests and `kiln` setup use loopback only.
struct SwarmInitOptions {
  std::string listen_addr = "127.0.0.1:2377";
  std::string advertise_addr = "127.0.0.1";
};

// What an update (or a rollback) does when an updated task fails. A rollback cannot itself roll
// back: RollbackConfig takes kContinue or kPause only (DOCKER-ENGINE.md §4).
enum class SwarmFailureAction { kPause, kContinue, kRollback };
// start-first runs the new task before stopping the old one (no gap; twice the tasks briefly).
enum class SwarmUpdateOrder { kStopFirst, kStartFirst };

// UpdateConfig and RollbackConfig.
struct SwarmUpdateConfig {
  int64_t parallelism = 1;  // tasks changed at once; 0: all
  int64_t delay_ns = 0;     // between batches
  SwarmFailureAction failure_action = SwarmFailureAction::kPause;
  int64_t monitor_ns = 0;        // how long a new task is watched for failure; 0: the engine's 5 s
  double max_failure_ratio = 0;  // failed fraction tolerated, 0..1
  SwarmUpdateOrder order = SwarmUpdateOrder::kStopFirst;
};

enum class SwarmRestartCondition { kNone, kOnFailure, kAny };

struct SwarmRestartPolicy {
  SwarmRestartCondition condition = SwarmRestartCondition::kAny;
  int64_t delay_ns = 0;
  int64_t max_attempts = 0;  // 0: unlimited
  int64_t window_ns = 0;     // 0: unbounded
};

// Resources per task container; 0 means none.
struct SwarmResources {
  int64_t nano_cpus_limit = 0;  // 1e9 = one CPU
  int64_t memory_bytes_limit = 0;
  int64_t nano_cpus_reservation = 0;
  int64_t memory_bytes_reservation = 0;
};

// kReplicated: `replicas` long-running tasks. kReplicatedJob: tasks that run to completion,
// `max_concurrent` at a time until `total_completions` completed (a build: 1 and 1).
enum class SwarmServiceMode { kReplicated, kReplicatedJob };

// kHost: the node's own network (the swarm's predefined `host`). kNone: no attachment, so the
// task's container gets the engine's default network: loopback only on an engine without a
// bridge (--bridge=none). Never an overlay: Kiln creates no networks.
enum class SwarmNetwork { kHost, kNone };

// A port published on the node running the task (PublishMode host, not the ingress mesh).
struct SwarmPublishedPort {
  int target_port = 0;
  int published_port = 0;  // 0: the engine picks one
  std::string protocol = "tcp";
};

// A service as Kiln creates or updates it (POST /services/create and /services/{id}/update
// take the whole spec). Give `image` by ID or digest: a tag makes every task start try a
// registry pull (DOCKER-ENGINE.md §4).
struct SwarmServiceSpec {
  std::string name;
  std::map<std::string, std::string> labels;  // the service's, also put on its containers
  std::string image;
  std::vector<std::string> command;  // empty: the image's entrypoint
  std::vector<std::string> args;     // empty: the image's cmd
  std::vector<std::string> env;      // "NAME=VALUE"; Swarm templates ({{.Task.Slot}}) apply
  // Secret values passed as environment variables ("NAME" -> value). They reach the engine in
  // Env (readable by whoever can inspect the service) but never Kiln's logs or error messages:
  // log a spec with ServiceSpecJsonForLog (swarm_wire.h).
  std::map<std::string, std::string> secret_env;
  std::string hostname;     // templates apply; empty: the container id
  std::string user;         // "uid:gid" or a name; empty: the image's
  std::string working_dir;  // empty: the image's
  // Host paths on whichever node runs the task: pin the task (constraints) when they exist
  // on one node only.
  std::vector<BindMount> binds;
  std::vector<std::string> constraints;  // placement: "node.id==<id>", "node.role==manager"
  bool init = false;  // tini as PID 1: SIGTERM is forwarded (DOCKER-ENGINE.md fact 8)
  std::optional<HealthcheckConfig> health_check;  // none: the image's, if any
  SwarmResources resources;
  int64_t stop_grace_period_ns = 0;  // between StopSignal and SIGKILL; 0: the engine's 10 s
  SwarmServiceMode mode = SwarmServiceMode::kReplicated;
  int64_t replicas = 1;           // kReplicated
  int64_t max_concurrent = 1;     // kReplicatedJob
  int64_t total_completions = 1;  // kReplicatedJob
  SwarmNetwork network = SwarmNetwork::kHost;
  std::vector<SwarmPublishedPort> ports;  // with kHost: none (the task binds the node's ports)
  SwarmUpdateConfig update_config;
  SwarmUpdateConfig rollback_config;  // failure_action kContinue or kPause only
  SwarmRestartPolicy restart_policy;
  uint64_t force_update = 0;  // bump to redeploy an unchanged spec
};

// Service.UpdateStatus.State. kNone: no update yet (the engine omits UpdateStatus). The
// rollback states are missing from the swagger enum (api/types/swarm/service.go has them).
enum class SwarmUpdateState {
  kNone,
  kUpdating,
  kPaused,
  kCompleted,
  kRollbackStarted,
  kRollbackPaused,
  kRollbackCompleted
};
const char* SwarmUpdateStateText(SwarmUpdateState state);
std::optional<SwarmUpdateState> SwarmUpdateStateFromText(std::string_view text);

struct SwarmUpdateStatus {
  SwarmUpdateState state = SwarmUpdateState::kNone;
  std::string message;  // "update completed", "update rolled back", a failure's reason
  int64_t started_at_ns = 0;
  int64_t completed_at_ns = 0;
};

// What InspectService reads back of a spec: enough to tell which spec is deployed. `env` holds
// the engine's whole Env, secret values included: never log it.
struct SwarmSpecSummary {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string image;
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<std::string> health_test;  // empty: none set
  SwarmServiceMode mode = SwarmServiceMode::kReplicated;
  int64_t replicas = 0;           // kReplicated
  int64_t total_completions = 0;  // kReplicatedJob
  uint64_t force_update = 0;
};

// GET /services/{id}.
struct SwarmServiceInfo {
  std::string id;
  uint64_t version = 0;  // Version.Index: an update must name the current one (fact 5)
  SwarmSpecSummary spec;
  std::optional<SwarmSpecSummary> previous_spec;  // what a rollback returns to
  SwarmUpdateStatus update_status;
  int64_t created_at_ns = 0;
  int64_t updated_at_ns = 0;
};

// A task's state, in the order a task moves through them up to kRunning; the rest are final.
enum class SwarmTaskState {
  kNew,
  kAllocated,
  kPending,
  kAssigned,
  kAccepted,
  kPreparing,
  kReady,
  kStarting,
  kRunning,
  kComplete,
  kShutdown,
  kFailed,
  kRejected,
  kRemove,
  kOrphaned
};
const char* SwarmTaskStateText(SwarmTaskState state);
std::optional<SwarmTaskState> SwarmTaskStateFromText(std::string_view text);
// True for the states a task never leaves (kComplete and after).
bool IsFinal(SwarmTaskState state);

// GET /tasks. Old tasks stay listed: judge a service by the tasks whose desired_state is
// kRunning (or kComplete for a job).
struct SwarmTask {
  std::string id;
  std::string service_id;
  std::string node_id;
  int64_t slot = 0;  // 1.. for replicated tasks; 0 (absent) for job tasks (fact 6)
  SwarmTaskState desired_state = SwarmTaskState::kNew;
  SwarmTaskState state = SwarmTaskState::kNew;
  std::string message;  // "started", "finished", ...
  std::string error;    // Status.Err: "task: non-zero exit (1)"
  std::string container_id;
  std::optional<int> exit_code;  // once the container exited
  int64_t timestamp_ns = 0;      // of the last state change
  uint64_t job_iteration = 0;    // job tasks: the run they belong to
  // Spec.ContainerSpec.Env as the service gave it (templates unexpanded). Holds secret values:
  // never log it.
  std::vector<std::string> env;
};

}  // namespace kiln::exec
