#include "exec/swarm_client.h"

#include "base/json_text.h"
#include "exec/docker_wire.h"
#include "exec/swarm_wire.h"

namespace kiln::exec {

namespace {

using Method = DockerClient::Method;

std::string ServicePath(const std::string& id, std::string_view rest = {}) {
  return "/services/" + PathEscape(id) + std::string(rest);
}

const char* Flag(bool on) { return on ? "1" : "0"; }

// For calls whose answer says nothing Kiln acts on.
base::Status Done(const base::Result<std::string>& answer) {
  return answer.ok() ? base::Status::Ok() : answer.status();
}

// The status with every secret value of spec masked, in case the engine quoted one.
base::Status Scrubbed(base::Status st, const SwarmServiceSpec& spec) {
  if (st.ok()) return st;
  std::string message = st.message();
  for (const auto& [name, value] : spec.secret_env) {
    if (value.empty()) continue;
    for (size_t at = message.find(value); at != std::string::npos;
         at = message.find(value, at + 8)) {
      message.replace(at, value.size(), "********");
    }
  }
  return {st.kind(), std::move(message)};
}

}  // namespace

base::Result<SwarmInfo> SwarmClient::Info() const {
  auto text = engine_.Call(Method::kGet, "/info");
  if (!text.ok()) return text.status();
  return ParseSwarmInfo(*text);
}

base::Result<std::string> SwarmClient::Init(const SwarmInitOptions& options) const {
  auto text = engine_.Call(Method::kPost, "/swarm/init", base::JsonText(SwarmInitJson(options)));
  if (!text.ok()) return text.status();
  return ParseSwarmInitAnswer(*text);
}

base::Status SwarmClient::Leave(bool force) const {
  return Done(engine_.Call(Method::kPost, std::string("/swarm/leave?force=") + Flag(force)));
}

base::Result<std::string> SwarmClient::CreateService(const SwarmServiceSpec& spec) const {
  if (auto st = ValidateServiceSpec(spec); !st.ok()) return st;
  auto text =
      engine_.Call(Method::kPost, "/services/create", base::JsonText(ServiceSpecJson(spec)));
  if (!text.ok()) return Scrubbed(text.status(), spec);
  return ParseServiceCreateAnswer(*text);
}

base::Result<SwarmServiceInfo> SwarmClient::InspectService(const std::string& id) const {
  auto text = engine_.Call(Method::kGet, ServicePath(id));
  if (!text.ok()) return text.status();
  return ParseServiceInfo(*text);
}

base::Status SwarmClient::UpdateService(const std::string& id, uint64_t version,
                                        const SwarmServiceSpec& spec, bool rollback) const {
  if (auto st = ValidateServiceSpec(spec); !st.ok()) return st;
  std::string query = "/update?version=" + std::to_string(version);
  if (rollback) query += "&rollback=previous";
  // The answer is {"Warnings": [...]}.
  return Scrubbed(Done(engine_.Call(Method::kPost, ServicePath(id, query),
                                    base::JsonText(ServiceSpecJson(spec)))),
                  spec);
}

base::Status SwarmClient::RemoveService(const std::string& id) const {
  return Done(engine_.Call(Method::kDelete, ServicePath(id)));
}

base::Result<std::vector<std::string>> SwarmClient::ListServiceIds(
    const std::map<std::string, std::string>& labels) const {
  auto text = engine_.Call(Method::kGet,
                           "/services?filters=" + QueryEscape(ServiceLabelFilterJson(labels)));
  if (!text.ok()) return text.status();
  return ParseServiceIdList(*text);
}

base::Result<std::vector<SwarmTask>> SwarmClient::ListServiceTasks(
    const std::string& service_id) const {
  auto text = engine_.Call(Method::kGet,
                           "/tasks?filters=" + QueryEscape(ServiceTaskFilterJson(service_id)));
  if (!text.ok()) return text.status();
  return ParseTaskList(*text);
}

base::Status SwarmClient::ServiceLogs(const std::string& id, const LogsOptions& options,
                                      const FrameSink& sink) const {
  return engine_.StreamFrames(ServicePath(id, "/logs" + LogsQuery(options)), sink);
}

base::Result<LogStream> SwarmClient::OpenServiceLogs(const std::string& id,
                                                     const LogsOptions& options) const {
  return engine_.OpenStream(ServicePath(id, "/logs" + LogsQuery(options)));
}

}  // namespace kiln::exec
