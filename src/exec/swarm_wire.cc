// Decoders of a swarm manager's answers (swarm_wire.h). Field names: api/swagger.yaml v1.41
// and api/types/swarm/{service,task}.go.
#include "exec/swarm_wire.h"

#include <algorithm>

#include "exec/docker_wire.h"
#include "exec/engine_json.h"

namespace kiln::exec {

namespace {

using Json = nlohmann::json;

// An enum field read through its text table; a missing field reads as `absent`, an unknown
// text is an error.
template <typename E>
E ReadEnum(FieldReader& r, const char* key, std::optional<E> (*from_text)(std::string_view),
           E absent) {
  const Json* v = r.Find(key, Json::value_t::string);
  if (!v) return absent;
  auto value = from_text(v->get<std::string>());
  if (!value) r.Fail(r.what() + "." + key + " '" + v->get<std::string>().substr(0, 40) + "'");
  return value.value_or(absent);
}

// A non-negative integer field (indexes, counts).
uint64_t ReadCount(FieldReader& r, const char* key) {
  int64_t n = r.Int(key);
  if (n < 0) r.Fail(r.what() + "." + key + " is negative");
  return n < 0 ? 0 : static_cast<uint64_t>(n);
}

uint64_t ReadCount(FieldReader&& r, const char* key) { return ReadCount(r, key); }

// An engine time field as ns since the epoch (0: absent or Go's zero time).
int64_t ReadTime(FieldReader& r, const char* key) {
  auto ns = ParseEngineTime(r.String(key));
  if (!ns.ok()) r.Fail(r.what() + "." + key + ": " + ns.status().message());
  return ns.ok() ? *ns : 0;
}

base::Status ReadMode(FieldReader& spec, SwarmSpecSummary* out) {
  if (!spec.Find("Mode", Json::value_t::object)) {
    spec.Fail(spec.what() + " without a Mode");
    return base::Status::Ok();  // spec's error is reported
  }
  FieldReader mode = spec.Object("Mode");
  if (mode.Find("Replicated", Json::value_t::object)) {
    out->mode = SwarmServiceMode::kReplicated;
    out->replicas = static_cast<int64_t>(ReadCount(mode.Object("Replicated"), "Replicas"));
  } else if (mode.Find("ReplicatedJob", Json::value_t::object)) {
    out->mode = SwarmServiceMode::kReplicatedJob;
    out->total_completions =
        static_cast<int64_t>(ReadCount(mode.Object("ReplicatedJob"), "TotalCompletions"));
  } else if (mode.status().ok()) {
    return base::Unsupported("docker: a service mode Kiln does not run (global)");
  }
  return base::Status::Ok();
}

base::Status ReadSpec(FieldReader& spec, SwarmSpecSummary* out) {
  out->name = spec.String("Name");
  out->labels = spec.StringMap("Labels");
  {
    FieldReader task = spec.Object("TaskTemplate");
    out->force_update = ReadCount(task, "ForceUpdate");
    FieldReader c = task.Object("ContainerSpec");
    out->image = c.String("Image");
    out->command = c.Strings("Command");
    out->args = c.Strings("Args");
    out->env = c.Strings("Env");
    out->health_test = c.Object("Healthcheck").Strings("Test");
  }
  return ReadMode(spec, out);
}

SwarmUpdateStatus ReadUpdateStatus(FieldReader& r) {
  FieldReader u = r.Object("UpdateStatus");
  return SwarmUpdateStatus{
      .state = ReadEnum(u, "State", &SwarmUpdateStateFromText, SwarmUpdateState::kNone),
      .message = u.String("Message"),
      .started_at_ns = ReadTime(u, "StartedAt"),
      .completed_at_ns = ReadTime(u, "CompletedAt")};
}

void ReadTaskStatus(FieldReader& r, SwarmTask* task) {
  FieldReader s = r.Object("Status");
  task->state = ReadEnum(s, "State", &SwarmTaskStateFromText, SwarmTaskState::kNew);
  task->message = s.String("Message");
  task->error = s.String("Err");
  task->timestamp_ns = ReadTime(s, "Timestamp");
  FieldReader c = s.Object("ContainerStatus");
  task->container_id = c.String("ContainerID");
  const Json* code = c.Find("ExitCode", Json::value_t::number_integer);
  // A running container reports ExitCode 0 too: it means something once the task is final.
  if (code && IsFinal(task->state)) {
    int64_t n = code->get<int64_t>();
    if (n < -1 || n > 255) c.Fail("task exit code " + std::to_string(n));
    task->exit_code = static_cast<int>(n);
  }
}

base::Result<SwarmTask> ReadTask(const Json& e) {
  if (!e.is_object()) return MalformedAnswer("task list holds a non-object");
  FieldReader r(e, "task");
  SwarmTask task{.id = r.String("ID"),
                 .service_id = r.String("ServiceID"),
                 .node_id = r.String("NodeID"),
                 .slot = r.Int("Slot")};
  task.desired_state = ReadEnum(r, "DesiredState", &SwarmTaskStateFromText, SwarmTaskState::kNew);
  task.job_iteration = ReadCount(r.Object("JobIteration"), "Index");
  task.env = r.Object("Spec").Object("ContainerSpec").Strings("Env");
  ReadTaskStatus(r, &task);
  if (!r.status().ok()) return r.status();
  if (task.id.empty()) return MalformedAnswer("task without an ID");
  return task;
}

}  // namespace

base::Result<SwarmInfo> ParseSwarmInfo(std::string_view text) {
  auto j = ParseAnswerObject(text, "info");
  if (!j.ok()) return j.status();
  FieldReader info(*j, "info");
  if (!info.Find("Swarm", Json::value_t::object) && info.status().ok()) {
    return MalformedAnswer("info without Swarm");
  }
  FieldReader r = info.Object("Swarm");
  if (!info.status().ok()) return info.status();
  SwarmInfo out{
      .state = ReadEnum(r, "LocalNodeState", &SwarmNodeStateFromText, SwarmNodeState::kNone),
      .control_available = r.Bool("ControlAvailable"),
      .node_id = r.String("NodeID"),
      .node_addr = r.String("NodeAddr"),
      .error = r.String("Error")};
  if (!r.status().ok()) return r.status();
  return out;
}

base::Result<std::string> ParseSwarmInitAnswer(std::string_view text) {
  auto j = Json::parse(text, nullptr, false);
  if (!j.is_string() || j.get<std::string>().empty()) {
    return MalformedAnswer("swarm init did not name the node");
  }
  return j.get<std::string>();
}

base::Result<std::string> ParseServiceCreateAnswer(std::string_view text) {
  auto j = ParseAnswerObject(text, "service create");
  if (!j.ok()) return j.status();
  FieldReader r(*j, "service create");
  std::string id = r.String("ID");
  if (!r.status().ok()) return r.status();
  if (id.empty()) return MalformedAnswer("service create without an ID");
  return id;
}

base::Result<SwarmServiceInfo> ParseServiceInfo(std::string_view text) {
  auto j = ParseAnswerObject(text, "service");
  if (!j.ok()) return j.status();
  FieldReader r(*j, "service");
  SwarmServiceInfo info{.id = r.String("ID"), .version = ReadCount(r.Object("Version"), "Index")};
  info.created_at_ns = ReadTime(r, "CreatedAt");
  info.updated_at_ns = ReadTime(r, "UpdatedAt");
  {
    FieldReader spec = r.Object("Spec");
    if (auto st = ReadSpec(spec, &info.spec); !st.ok()) return st;
  }
  if (r.Find("PreviousSpec", Json::value_t::object)) {
    FieldReader previous = r.Object("PreviousSpec");
    info.previous_spec.emplace();
    if (auto st = ReadSpec(previous, &*info.previous_spec); !st.ok()) return st;
  }
  info.update_status = ReadUpdateStatus(r);
  if (!r.status().ok()) return r.status();
  if (info.id.empty()) return MalformedAnswer("service without an ID");
  return info;
}

base::Result<std::vector<SwarmTask>> ParseTaskList(std::string_view text) {
  auto j = Json::parse(text, nullptr, false);
  if (!j.is_array()) return MalformedAnswer("task list is not a JSON array");
  std::vector<SwarmTask> out;
  for (const Json& e : j) {
    auto task = ReadTask(e);
    if (!task.ok()) return task.status();
    out.push_back(std::move(*task));
  }
  return out;
}

base::Result<std::vector<std::string>> ParseServiceIdList(std::string_view text) {
  auto j = Json::parse(text, nullptr, false);
  if (!j.is_array()) return MalformedAnswer("service list is not a JSON array");
  std::vector<std::string> out;
  for (const Json& e : j) {
    if (!e.is_object() || !e.contains("ID") || !e["ID"].is_string()) {
      return MalformedAnswer("service without an ID");
    }
    out.push_back(e["ID"].get<std::string>());
  }
  return out;
}

base::Result<ServiceLogLine> ParseServiceLogLine(std::string_view line) {
  auto bad = [](const char* why) {
    return base::Status(base::ErrorKind::kFailed,
                        std::string("docker: malformed log line: ") + why);
  };
  size_t space = line.find(' ');
  if (space == std::string_view::npos) return bad("no time");
  auto time = ParseEngineTime(line.substr(0, space));
  if (!time.ok()) return bad("no time");
  std::string_view rest = line.substr(space + 1);
  size_t end = rest.find(' ');
  std::string_view attrs = rest.substr(0, end);
  ServiceLogLine out{.time_ns = *time,
                     .text = end == std::string_view::npos ? "" : rest.substr(end + 1)};
  constexpr std::string_view kKey = "com.docker.swarm.task.id=";
  for (size_t at = 0; at <= attrs.size();) {
    size_t comma = std::min(attrs.find(',', at), attrs.size());
    std::string_view attr = attrs.substr(at, comma - at);
    if (attr.starts_with(kKey)) out.task_id = std::string(attr.substr(kKey.size()));
    at = comma + 1;
  }
  bool alphabet =
      !out.task_id.empty() && out.task_id.size() <= 64 &&
      out.task_id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") == std::string::npos;
  if (!alphabet) return bad("no task id");
  return out;
}

}  // namespace kiln::exec
