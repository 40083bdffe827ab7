// Kiln's typed Swarm values to and from the Engine API's JSON (API 1.41, api/swagger.yaml:
// ServiceSpec, TaskSpec, Service, Task, SwarmInfo). Pure: no I/O, unit-tested without an
// engine. The builders are in swarm_spec_json.cc, the decoders in swarm_wire.cc. Decoders read
// untrusted answers: one of the wrong shape is kFailed ("docker: malformed answer ..."), never
// an exception.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "exec/swarm_types.h"

namespace kiln::exec {

// kInvalidInput for a spec the engine would refuse or Kiln cannot express: no name or image,
// negative counts or durations, health durations under 1 ms, limits under the engine's
// minimums, a rollback whose failure action is rollback, a secret name that is empty, holds
// '=' or repeats an env name. Messages name fields, never secret values.
base::Status ValidateServiceSpec(const SwarmServiceSpec& spec);

// The body of POST /services/create and /services/{id}/update. Secret values are in it: never
// log it.
nlohmann::json ServiceSpecJson(const SwarmServiceSpec& spec);
// The same with every secret value replaced by "********", for logs and error reports.
nlohmann::json ServiceSpecJsonForLog(const SwarmServiceSpec& spec);

// The body of POST /swarm/init.
nlohmann::json SwarmInitJson(const SwarmInitOptions& options);

// The `filters` JSON of GET /tasks selecting one service's tasks: {"service":["<id>"]}.
std::string ServiceTaskFilterJson(const std::string& service_id);

// The `filters` JSON of GET /services selecting services carrying every label (an empty
// value matches any value): {"label":["k=v","k2"]}.
std::string ServiceLabelFilterJson(const std::map<std::string, std::string>& labels);

// Decoders of the engine's answers (the text as received).
// GET /info: its "Swarm" object.
base::Result<SwarmInfo> ParseSwarmInfo(std::string_view text);
// POST /swarm/init: the new node's id, a JSON string.
base::Result<std::string> ParseSwarmInitAnswer(std::string_view text);
// POST /services/create: {"ID": ...}.
base::Result<std::string> ParseServiceCreateAnswer(std::string_view text);
// GET /services/{id}. kUnsupported for a mode Kiln does not make (global).
base::Result<SwarmServiceInfo> ParseServiceInfo(std::string_view text);
// GET /tasks.
base::Result<std::vector<SwarmTask>> ParseTaskList(std::string_view text);
// GET /services: the services' IDs only (whatever their mode).
base::Result<std::vector<std::string>> ParseServiceIdList(std::string_view text);

// One line of GET /services/{id}/logs read with timestamps and details:
// "<RFC 3339 time> <k=v,...> <text>", the attributes naming the task
// (com.docker.swarm.task.id). kFailed for a line without a time or a task id of Swarm's
// alphabet ([a-z0-9], so it is safe in a path).
struct ServiceLogLine {
  int64_t time_ns = 0;
  std::string task_id;
  std::string_view text;  // the task's line, into the parsed line
};
base::Result<ServiceLogLine> ParseServiceLogLine(std::string_view line);

}  // namespace kiln::exec
