// Typed calls to a Docker Swarm manager through its engine's Engine API (DOCKER-ENGINE.md §4),
// over a DockerClient's transport: the swarm itself, services and their tasks and logs.
//
// Threads: as DockerClient: the methods are const and each call opens its own connection, so
// several threads may share one SwarmClient. A followed ServiceLogs blocks until the service's
// tasks end or the service is removed.
//
// Errors: DockerClient's kinds (docker_client.h), with the engine's words. In particular:
//   kInvalidInput  a spec ValidateServiceSpec refuses (before any call), or the engine's 400.
//   kNotFound      no such service (404).
//   kFailed        503: this engine is not a swarm manager, or already in a swarm (init); 409: a
//                  service of that name exists; 500 "update out of sequence": the version is
//                  stale (read it again: it jumps); any malformed answer.
//   kUnsupported   a service in a mode Kiln does not make (global).
// Secret values (SwarmServiceSpec::secret_env) never appear in a returned message.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "exec/docker_client.h"
#include "exec/swarm_types.h"

namespace kiln::exec {

class SwarmClient {
 public:
  // Calls go to `engine`'s socket; a copy of the client is kept.
  explicit SwarmClient(DockerClient engine) : engine_(std::move(engine)) {}

  const DockerClient& engine() const { return engine_; }

  // This engine's swarm state (GET /info).
  base::Result<SwarmInfo> Info() const;
  // Makes this engine a single-node swarm's manager; the node's id. kFailed (503) when it is
  // already in a swarm.
  base::Result<std::string> Init(const SwarmInitOptions& options = {}) const;
  // Leaves the swarm; a manager needs force (the last one's leaving destroys the swarm).
  base::Status Leave(bool force) const;

  // Creates a service; its id. With auth, the manager resolves the image and every node pulls
  // it with that registry login (X-Registry-Auth, as `docker service create
  // --with-registry-auth`); the login is never part of a returned message.
  base::Result<std::string> CreateService(const SwarmServiceSpec& spec,
                                          const std::optional<RegistryAuth>& auth = {}) const;
  base::Result<SwarmServiceInfo> InspectService(const std::string& id) const;
  // Replaces the service's spec with `spec`. `version` must be the current Version.Index
  // (InspectService): the engine refuses a stale one with kFailed "update out of sequence".
  // The manager itself bumps the version (once just after create, and as an update runs), so
  // on that error read it again and retry. With rollback, the engine returns to the previous
  // spec instead (rollback=previous; `spec` must still be valid): a manual rollback. auth: as
  // for CreateService (without, the manager keeps the login the service had).
  base::Status UpdateService(const std::string& id, uint64_t version, const SwarmServiceSpec& spec,
                             bool rollback = false,
                             const std::optional<RegistryAuth>& auth = {}) const;
  // Removes the service and stops its tasks. A job's tasks and exited containers stay behind
  // (moby#42789): remove them through the nodes' engines.
  base::Status RemoveService(const std::string& id) const;
  // The IDs of the services carrying every label (an empty value matches any value).
  base::Result<std::vector<std::string>> ListServiceIds(
      const std::map<std::string, std::string>& labels) const;
  // Every task of the service the manager still knows, old ones included, in its order.
  base::Result<std::vector<SwarmTask>> ListServiceTasks(const std::string& service_id) const;
  // The output of the service's tasks (every node's), demultiplexed into sink; with follow,
  // until the engine ends the stream.
  base::Status ServiceLogs(const std::string& id, const LogsOptions& options,
                           const FrameSink& sink) const;
  // The same as a stream to read on another thread, which Abort can end early. `id` may be the
  // service's name: a followed stream of a service removed and made again ends (reopen it).
  base::Result<LogStream> OpenServiceLogs(const std::string& id, const LogsOptions& options) const;

 private:
  DockerClient engine_;
};

}  // namespace kiln::exec
