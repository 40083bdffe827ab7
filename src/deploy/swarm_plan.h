// How a Kiln service becomes a Swarm service (issue 12, "Docker Swarm"): the revision's one
// container as the task template, ECS's deployment configuration as Swarm's update_config, the
// circuit breaker as failure_action rollback. Pure.
//
// Ports: tasks use the node's network (Kiln creates no overlay networks, and the ingress mesh
// needs the engine's iptables), so tasks on one node need ports of their own. Each task gets
// PORT = <prefix><slot> through Swarm's {{.Task.Slot}} template (prefix 312: slot 1 -> 3121,
// slot 12 -> 31212), and every deployment a new prefix: a replacement task never takes its
// predecessor's port, so start-first works on one node, and a load-balancer target (a task's
// port) never reaches another task. Kiln reads a task's port back from its spec's PORT.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "deploy/service_spec.h"
#include "deploy/task_runtime.h"
#include "exec/swarm_types.h"

namespace kiln::deploy {

inline constexpr int kMinPortPrefix = 200, kMaxPortPrefix = 654;  // ports 2001 to 65499

// PORT of the task in `slot` (>= 1) under prefix.
int SlotPort(int prefix, int64_t slot);

struct SwarmPlanInput {
  const ServiceSpec* service = nullptr;
  const TaskSpec* task = nullptr;
  int desired = 1;
  int64_t revision = 0;
  std::string state_label;  // kiln.state
  SecretValues secrets;     // resolved, of the one container
  int port_prefix = 0;
};

// The Swarm spec. kUnsupported for a task definition of more than one container (a Swarm task
// is one container) or more than 99 tasks (slots 1 to 99 have ports); kInvalidInput for a port
// prefix out of range.
base::Result<exec::SwarmServiceSpec> SwarmPlan(const SwarmPlanInput& input);

// The prefix of a spec's PORT=<prefix>{{.Task.Slot}}; 0 when it has no valid one.
int PortPrefixOf(const std::vector<std::string>& env);
// The revision a Swarm service's spec runs (its kiln.revision label); 0 when it has none.
int64_t RevisionOf(const exec::SwarmSpecSummary& spec);
// The port of a task whose spec's environment is env, in `slot`; 0 when it has no Kiln PORT.
int TaskPort(const std::vector<std::string>& env, int64_t slot);

// The Swarm service's name for a Kiln service.
std::string SwarmServiceName(const std::string& service);

}  // namespace kiln::deploy
