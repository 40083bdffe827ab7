// The typed values of Kiln's Docker client: what a container is created from, and what the
// engine reports about images and containers. Engine JSON names appear only in docker_wire.cc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln::exec {

// Containers run only on the host's network or none: test and CI engines have no bridge, and
// Kiln never creates networks (DOCKER-ENGINE.md §6.2). kBridge is the engine's default network.
enum class NetworkMode { kNone, kHost, kBridge };
const char* NetworkModeText(NetworkMode mode);  // "none", "host", "bridge"

// A bind mount (HostConfig.Mounts, type bind): a missing source is an error (400), unlike
// HostConfig.Binds, which would create it as a root-owned directory.
struct BindMount {
  std::string source;  // absolute host path
  std::string target;  // absolute container path
  bool read_only = false;
};

// A tmpfs mount. Mounted noexec,nosuid,nodev by the engine.
struct TmpfsMount {
  std::string target;
  int64_t size_bytes = 0;  // 0: the engine's default (half the RAM)
  int mode = 01777;
};

// Config.Healthcheck: the engine runs `test` every interval; retries consecutive failures after
// start_period make the container unhealthy. Durations in ns; the engine wants 0 (its default)
// or at least 1 ms.
struct HealthcheckConfig {
  std::vector<std::string> test;  // ["CMD", arg...] or ["CMD-SHELL", "command"]
  int64_t interval_ns = 0;
  int64_t timeout_ns = 0;
  int64_t start_period_ns = 0;
  int retries = 0;
};

// A container port published on the host (HostConfig.PortBindings): bridge networking only.
struct PortBinding {
  int container_port = 0;
  int host_port = 0;  // 0: the engine picks a free one (read it back: ContainerInfo)
  std::string protocol = "tcp";
  std::string host_ip = "127.0.0.1";
};

struct ContainerSpec {
  std::string name;  // empty: the engine picks one
  std::string image;
  std::vector<std::string> cmd;         // empty: the image's Cmd (an imported image has none)
  std::vector<std::string> entrypoint;  // empty: the image's
  std::vector<std::string> env;         // "NAME=VALUE"
  std::string working_dir;              // created if missing
  std::string user;                     // "uid:gid" or a name from the image's /etc/passwd
  std::map<std::string, std::string> labels;
  std::vector<BindMount> binds;
  std::vector<TmpfsMount> tmpfs;
  NetworkMode network_mode = NetworkMode::kNone;
  std::vector<PortBinding> port_bindings;  // kBridge only; also exposed (ExposedPorts)
  int64_t nano_cpus = 0;                   // 1e9 = one CPU; 0: unlimited
  int64_t memory_bytes = 0;                // 0: unlimited; the engine's minimum is 6 MB
  int64_t memory_reservation_bytes = 0;    // soft limit; 0: none
  int64_t pids_limit = 0;                  // 0: unlimited
  bool init = false;                       // tini as PID 1: forwards SIGTERM, reaps (fact 8)
  bool auto_remove = false;                // the engine deletes it at exit: wait with kRemoved
  // stdin: the process reads what Attach writes. With stdin_once, half-closing the attach
  // stream gives it EOF; without, the engine closes the attach and stdin stays open (fact 2).
  bool open_stdin = false;
  bool stdin_once = true;
  std::vector<std::string> cap_drop;      // "ALL" for none
  std::vector<std::string> security_opt;  // "no-new-privileges"
  bool read_only_rootfs = false;
  std::vector<std::string> extra_hosts;          // "name:ip", added to /etc/hosts
  std::optional<HealthcheckConfig> healthcheck;  // none: the image's HEALTHCHECK, if any
  // Seconds between StopSignal and SIGKILL when a stop names no timeout; none: the engine's 10.
  std::optional<int> stop_timeout_seconds;
};

struct ImageInfo {
  std::string id;  // "sha256:..."
  int64_t size = 0;
  std::vector<std::string> repo_tags;
  std::vector<std::string> env;
  std::vector<std::string> cmd;
  std::vector<std::string> entrypoint;
  std::string user;
  std::string working_dir;
  std::map<std::string, std::string> labels;
};

enum class ContainerStatus { kCreated, kRunning, kPaused, kRestarting, kRemoving, kExited, kDead };
enum class HealthStatus { kNone, kStarting, kHealthy, kUnhealthy };

struct ContainerInfo {
  std::string id;
  std::string name;  // without the leading '/'
  std::string image;
  std::map<std::string, std::string> labels;
  ContainerStatus status = ContainerStatus::kCreated;
  HealthStatus health = HealthStatus::kNone;
  int exit_code = 0;  // meaningful once exited
  bool oom_killed = false;
  int pid = 0;        // host pid while running, else 0
  std::string error;  // why the runtime failed to start it, if it did
  // State.StartedAt / FinishedAt as ns since the epoch; 0 for the engine's zero time (never).
  int64_t started_at_ns = 0;
  int64_t finished_at_ns = 0;
  std::optional<int> stop_timeout_seconds;  // Config.StopTimeout
  // NetworkSettings.Ports: "80/tcp" -> the host port of its first binding (published ports
  // only; bridge networking).
  std::map<std::string, int> published_ports;
};

struct ContainerSummary {
  std::string id;
  std::vector<std::string> names;  // without the leading '/'
  std::string image;
  ContainerStatus status = ContainerStatus::kCreated;
  std::map<std::string, std::string> labels;
};

// Credentials for a registry, sent as X-Registry-Auth. Either username/password or an
// identity token.
struct RegistryAuth {
  std::string username;
  std::string password;
  std::string server_address;
  std::string identity_token;
};

enum class WaitCondition { kNotRunning, kNextExit, kRemoved };

struct LogsOptions {
  bool follow = false;
  int64_t since = 0;     // unix seconds; 0: from the start
  int64_t since_ns = 0;  // > 0: since this instant (ns since the epoch) instead
  bool include_stdout = true;
  bool include_stderr = true;
  // Each line after its RFC 3339 time (nanoseconds) and a space.
  bool timestamps = false;
  // Each line after its attributes ("k=v,k=v", query-escaped) and a space: a Swarm service's
  // lines name their task (com.docker.swarm.task.id).
  bool details = false;
};

// The query of a /logs request for options ("?follow=0&stdout=1...").
std::string LogsQuery(const LogsOptions& options);

}  // namespace kiln::exec
