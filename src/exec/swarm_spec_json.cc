// ServiceSpec JSON from Kiln's SwarmServiceSpec (swarm_wire.h), and its validation. The shape
// follows api/swagger.yaml (v1.41) ServiceSpec / TaskSpec; the limits follow swarmkit's
// manager/controlapi/service.go, so that a bad spec fails here with Kiln's words.
#include <set>

#include "base/json_text.h"
#include "exec/swarm_wire.h"

namespace kiln::exec {

namespace {

using Json = nlohmann::json;

constexpr int64_t kMinHealthDurationNs = 1000000;  // 1 ms: the engine's minimum
constexpr int64_t kMinNanoCpus = 1000000;          // 0.001 CPU
constexpr int64_t kMinMemoryBytes = 4 << 20;       // 4 MiB
constexpr char kRedacted[] = "********";

base::Status Invalid(const std::string& what) {
  return base::InvalidInput("swarm service spec: " + what);
}

base::Status CheckNotNegative(std::initializer_list<std::pair<const char*, int64_t>> fields) {
  for (const auto& [name, value] : fields) {
    if (value < 0) return Invalid(std::string(name) + " is negative");
  }
  return base::Status::Ok();
}

base::Status CheckHealth(const HealthcheckConfig& h) {
  for (auto [name, ns] : {std::pair{"interval", h.interval_ns}, std::pair{"timeout", h.timeout_ns},
                          std::pair{"start period", h.start_period_ns}}) {
    if (ns != 0 && ns < kMinHealthDurationNs) {
      return Invalid(std::string("health check ") + name + " must be 0 or at least 1 ms");
    }
  }
  if (h.retries < 0) return Invalid("health check retries is negative");
  return base::Status::Ok();
}

base::Status CheckUpdate(const SwarmUpdateConfig& c, const std::string& which) {
  if (c.parallelism < 0 || c.delay_ns < 0 || c.monitor_ns < 0) {
    return Invalid(which + " has a negative parallelism, delay or monitor");
  }
  if (!(c.max_failure_ratio >= 0 && c.max_failure_ratio <= 1)) {
    return Invalid(which + " max failure ratio must be between 0 and 1");
  }
  return base::Status::Ok();
}

base::Status CheckResources(const SwarmResources& r) {
  if (auto st = CheckNotNegative({{"nano CPUs limit", r.nano_cpus_limit},
                                  {"memory limit", r.memory_bytes_limit},
                                  {"nano CPUs reservation", r.nano_cpus_reservation},
                                  {"memory reservation", r.memory_bytes_reservation}});
      !st.ok()) {
    return st;
  }
  for (int64_t cpus : {r.nano_cpus_limit, r.nano_cpus_reservation}) {
    if (cpus != 0 && cpus < kMinNanoCpus) return Invalid("CPUs must be 0 or at least 0.001");
  }
  for (int64_t bytes : {r.memory_bytes_limit, r.memory_bytes_reservation}) {
    if (bytes != 0 && bytes < kMinMemoryBytes) return Invalid("memory must be 0 or at least 4 MiB");
  }
  return base::Status::Ok();
}

// Secret names only: their values never appear in a message.
base::Status CheckSecretEnv(const SwarmServiceSpec& spec) {
  std::set<std::string> names;
  for (const std::string& e : spec.env) names.insert(e.substr(0, e.find('=')));
  for (const auto& [name, value] : spec.secret_env) {
    if (name.empty() || name.find('=') != std::string::npos) {
      return Invalid("secret env name '" + name + "' is not valid");
    }
    if (names.contains(name)) return Invalid("secret env " + name + " is also in env");
  }
  return base::Status::Ok();
}

base::Status CheckPorts(const std::vector<SwarmPublishedPort>& ports) {
  for (const SwarmPublishedPort& p : ports) {
    if (p.target_port < 1 || p.target_port > 65535 || p.published_port < 0 ||
        p.published_port > 65535) {
      return Invalid("port " + std::to_string(p.target_port) + ":" +
                     std::to_string(p.published_port) + " is out of range");
    }
    if (p.protocol != "tcp" && p.protocol != "udp" && p.protocol != "sctp") {
      return Invalid("port protocol '" + p.protocol + "' is not tcp, udp or sctp");
    }
  }
  return base::Status::Ok();
}

base::Status CheckMode(const SwarmServiceSpec& spec) {
  if (spec.mode == SwarmServiceMode::kReplicated) {
    return spec.replicas < 0 ? Invalid("replicas is negative") : base::Status::Ok();
  }
  if (spec.max_concurrent < 1 || spec.total_completions < 1) {
    return Invalid("a job needs max concurrent and total completions of at least 1");
  }
  return base::Status::Ok();
}

}  // namespace

base::Status ValidateServiceSpec(const SwarmServiceSpec& spec) {
  if (spec.name.empty()) return Invalid("no name");
  if (spec.image.empty()) return Invalid("no image");
  if (spec.health_check) {
    if (auto st = CheckHealth(*spec.health_check); !st.ok()) return st;
  }
  const SwarmRestartPolicy& r = spec.restart_policy;
  for (const base::Status& st :
       {CheckNotNegative({{"stop grace period", spec.stop_grace_period_ns},
                          {"restart delay", r.delay_ns},
                          {"restart max attempts", r.max_attempts},
                          {"restart window", r.window_ns}}),
        CheckResources(spec.resources), CheckSecretEnv(spec), CheckPorts(spec.ports),
        CheckMode(spec), CheckUpdate(spec.update_config, "update config"),
        CheckUpdate(spec.rollback_config, "rollback config")}) {
    if (!st.ok()) return st;
  }
  if (spec.rollback_config.failure_action == SwarmFailureAction::kRollback) {
    return Invalid("a rollback's failure action must be pause or continue");
  }
  return base::Status::Ok();
}

namespace {

const char* FailureActionText(SwarmFailureAction a) {
  switch (a) {
    case SwarmFailureAction::kContinue:
      return "continue";
    case SwarmFailureAction::kRollback:
      return "rollback";
    case SwarmFailureAction::kPause:
      break;
  }
  return "pause";
}

const char* RestartConditionText(SwarmRestartCondition c) {
  switch (c) {
    case SwarmRestartCondition::kNone:
      return "none";
    case SwarmRestartCondition::kOnFailure:
      return "on-failure";
    case SwarmRestartCondition::kAny:
      break;
  }
  return "any";
}

Json UpdateConfigJson(const SwarmUpdateConfig& c) {
  return {{"Parallelism", c.parallelism},
          {"Delay", c.delay_ns},
          {"FailureAction", FailureActionText(c.failure_action)},
          {"Monitor", c.monitor_ns},
          {"MaxFailureRatio", c.max_failure_ratio},
          {"Order", c.order == SwarmUpdateOrder::kStartFirst ? "start-first" : "stop-first"}};
}

Json HealthJson(const HealthcheckConfig& h) {
  return {{"Test", h.test},
          {"Interval", h.interval_ns},
          {"Timeout", h.timeout_ns},
          {"StartPeriod", h.start_period_ns},
          {"Retries", h.retries}};
}

Json BindsJson(const std::vector<BindMount>& binds) {
  Json mounts = Json::array();
  for (const BindMount& b : binds) {
    mounts.push_back(
        {{"Type", "bind"}, {"Source", b.source}, {"Target", b.target}, {"ReadOnly", b.read_only}});
  }
  return mounts;
}

Json ContainerSpecJson(const SwarmServiceSpec& spec, bool redact) {
  std::vector<std::string> env = spec.env;
  for (const auto& [name, value] : spec.secret_env) {
    env.push_back(name + "=" + (redact ? kRedacted : value));
  }
  Json c = {{"Image", spec.image}, {"Labels", spec.labels}, {"Env", env}, {"Init", spec.init}};
  if (!spec.command.empty()) c["Command"] = spec.command;
  if (!spec.args.empty()) c["Args"] = spec.args;
  if (!spec.hostname.empty()) c["Hostname"] = spec.hostname;
  if (!spec.user.empty()) c["User"] = spec.user;
  if (!spec.working_dir.empty()) c["Dir"] = spec.working_dir;
  if (!spec.binds.empty()) c["Mounts"] = BindsJson(spec.binds);
  if (spec.stop_grace_period_ns > 0) c["StopGracePeriod"] = spec.stop_grace_period_ns;
  // The swagger spells it HealthCheck; answers use the Go field's name (Healthcheck, in
  // api/types/swarm/container.go), and the engine reads either.
  if (spec.health_check) c["Healthcheck"] = HealthJson(*spec.health_check);
  return c;
}

Json ResourcesJson(const SwarmResources& r) {
  return {{"Limits", {{"NanoCPUs", r.nano_cpus_limit}, {"MemoryBytes", r.memory_bytes_limit}}},
          {"Reservations",
           {{"NanoCPUs", r.nano_cpus_reservation}, {"MemoryBytes", r.memory_bytes_reservation}}}};
}

Json TaskTemplateJson(const SwarmServiceSpec& spec, bool redact) {
  const SwarmRestartPolicy& r = spec.restart_policy;
  Json t = {{"ContainerSpec", ContainerSpecJson(spec, redact)},
            {"Resources", ResourcesJson(spec.resources)},
            {"RestartPolicy",
             {{"Condition", RestartConditionText(r.condition)},
              {"Delay", r.delay_ns},
              {"MaxAttempts", r.max_attempts},
              {"Window", r.window_ns}}},
            {"ForceUpdate", spec.force_update}};
  if (!spec.constraints.empty()) t["Placement"] = {{"Constraints", spec.constraints}};
  // The swarm's predefined `host` network, by name (the daemon resolves it:
  // daemon/cluster/services.go). Without any network the task gets the engine's default
  // network: only loopback on an engine without a bridge.
  if (spec.network == SwarmNetwork::kHost) t["Networks"] = Json::array({{{"Target", "host"}}});
  return t;
}

Json ModeJson(const SwarmServiceSpec& spec) {
  if (spec.mode == SwarmServiceMode::kReplicatedJob) {
    return {
        {"ReplicatedJob",
         {{"MaxConcurrent", spec.max_concurrent}, {"TotalCompletions", spec.total_completions}}}};
  }
  return {{"Replicated", {{"Replicas", spec.replicas}}}};
}

Json EndpointJson(const std::vector<SwarmPublishedPort>& ports) {
  Json e = {{"Mode", "vip"}};
  if (ports.empty()) return e;
  Json list = Json::array();
  for (const SwarmPublishedPort& p : ports) {
    list.push_back({{"Protocol", p.protocol},
                    {"TargetPort", p.target_port},
                    {"PublishedPort", p.published_port},
                    {"PublishMode", "host"}});
  }
  e["Ports"] = list;
  return e;
}

Json SpecJson(const SwarmServiceSpec& spec, bool redact) {
  Json j = {{"Name", spec.name},
            {"Labels", spec.labels},
            {"TaskTemplate", TaskTemplateJson(spec, redact)},
            {"Mode", ModeJson(spec)},
            {"EndpointSpec", EndpointJson(spec.ports)}};
  // swarmkit refuses an update config on a job ("Jobs may not have an update config").
  if (spec.mode == SwarmServiceMode::kReplicated) {
    j["UpdateConfig"] = UpdateConfigJson(spec.update_config);
    j["RollbackConfig"] = UpdateConfigJson(spec.rollback_config);
  }
  return j;
}

}  // namespace

Json ServiceSpecJson(const SwarmServiceSpec& spec) { return SpecJson(spec, false); }

Json ServiceSpecJsonForLog(const SwarmServiceSpec& spec) { return SpecJson(spec, true); }

Json SwarmInitJson(const SwarmInitOptions& options) {
  return {{"ListenAddr", options.listen_addr}, {"AdvertiseAddr", options.advertise_addr}};
}

std::string ServiceTaskFilterJson(const std::string& service_id) {
  return base::JsonText(Json{{"service", Json::array({service_id})}});
}

std::string ServiceLabelFilterJson(const std::map<std::string, std::string>& labels) {
  Json list = Json::array();
  for (const auto& [key, value] : labels) list.push_back(value.empty() ? key : key + "=" + value);
  return base::JsonText(Json{{"label", list}});
}

}  // namespace kiln::exec
