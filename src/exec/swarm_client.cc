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

void Mask(std::string* message, const std::string& value) {
  if (value.empty()) return;
  for (size_t at = message->find(value); at != std::string::npos;
       at = message->find(value, at + 8)) {
    message->replace(at, value.size(), "********");
  }
}

// The status with every secret value of spec and the registry login masked, in case the
// engine quoted one.
base::Status Scrubbed(base::Status st, const SwarmServiceSpec& spec,
                      const std::optional<RegistryAuth>& auth = {}) {
  if (st.ok()) return st;
  std::string message = st.message();
  for (const auto& [name, value] : spec.secret_env) Mask(&message, value);
  if (auth) {
    Mask(&message, auth->password);
    Mask(&message, auth->identity_token);
    Mask(&message, RegistryAuthHeader(*auth));
  }
  return {st.kind(), std::move(message)};
}

DockerClient::Headers AuthHeaders(const std::optional<RegistryAuth>& auth) {
  if (!auth) return {};
  return {{"X-Registry-Auth", RegistryAuthHeader(*auth)}};
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

base::Result<std::string> SwarmClient::CreateService(
    const SwarmServiceSpec& spec, const std::optional<RegistryAuth>& auth) const {
  if (auto st = ValidateServiceSpec(spec); !st.ok()) return st;
  auto text = engine_.Call(Method::kPost, "/services/create", base::JsonText(ServiceSpecJson(spec)),
                           AuthHeaders(auth));
  if (!text.ok()) return Scrubbed(text.status(), spec, auth);
  return ParseServiceCreateAnswer(*text);
}

base::Result<SwarmServiceInfo> SwarmClient::InspectService(const std::string& id) const {
  auto text = engine_.Call(Method::kGet, ServicePath(id));
  if (!text.ok()) return text.status();
  return ParseServiceInfo(*text);
}

base::Status SwarmClient::UpdateService(const std::string& id, uint64_t version,
                                        const SwarmServiceSpec& spec, bool rollback,
                                        const std::optional<RegistryAuth>& auth) const {
  if (auto st = ValidateServiceSpec(spec); !st.ok()) return st;
  std::string query = "/update?version=" + std::to_string(version);
  if (rollback) query += "&rollback=previous";
  // The answer is {"Warnings": [...]}.
  return Scrubbed(Done(engine_.Call(Method::kPost, ServicePath(id, query),
                                    base::JsonText(ServiceSpecJson(spec)), AuthHeaders(auth))),
                  spec, auth);
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
