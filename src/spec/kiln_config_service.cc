#include "spec/kiln_config_service.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "base/json_text.h"
#include "spec/kiln_config_schema.h"

namespace kiln::spec::kiln_yml {
namespace {

constexpr int64_t kMaxInt32 = 2'147'483'647;
constexpr int64_t kMaxDesiredCount = 5'000;  // ECS's default quota of tasks per service

// ECS: a container name or a task family is up to 255 letters, digits, '_' and '-'.
bool IsEcsName(std::string_view name) {
  return !name.empty() && name.size() <= 255 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

bool IsHttpCode(std::string_view code) {
  return code.size() == 3 && code >= "100" && code <= "599" &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ELB matcher: "200", "200,202" or "200-299"; codes 100 to 599.
bool IsMatcher(std::string_view text) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = std::min(text.find(',', start), text.size());
    std::string_view part = text.substr(start, end - start);
    size_t dash = part.find('-');
    std::string_view last = dash == std::string_view::npos ? part : part.substr(dash + 1);
    if (!IsHttpCode(part.substr(0, dash)) || !IsHttpCode(last)) return false;
    start = end + 1;
  }
  return true;
}

void CheckContainerHealthCheck(ConfigReader& reader, const YAML::Node& node,
                               const OrderedJson& check, const std::string& what) {
  const OrderedJson& command = Member(check, "command");
  std::string first = command.empty() ? "" : command.front().get<std::string>();
  if (command.size() >= 2 && (first == "CMD" || first == "CMD-SHELL")) return;
  reader.Error(ValueMark(node, "command"),
               what +
                   ".command must be [\"CMD\", program, args...] or [\"CMD-SHELL\", "
                   "\"shell command\"] (ECS)");
}

void CheckContainer(ConfigReader& reader, const YAML::Node& node, const OrderedJson& container,
                    const std::string& what) {
  if (!IsEcsName(StringOr(container, "name", ""))) {
    reader.Error(ValueMark(node, "name"),
                 what + ".name must be up to 255 letters, digits, '_' or '-' (ECS)");
  }
}

// ECS `secrets` entries: valueFrom names one of Kiln's secrets or parameters.
void CheckContainerSecret(ConfigReader& reader, const YAML::Node& node, const OrderedJson& secret,
                          const std::string& what) {
  reader.Refer(PendingReference::Kind::kSecretOrParameter, StringOr(secret, "valueFrom", ""),
               ValueMark(node, "valueFrom"), what + ".valueFrom");
}

void CheckTaskDefinition(ConfigReader& reader, const YAML::Node& node, const OrderedJson& task,
                         const std::string& what) {
  if (task.contains("family") && !IsEcsName(StringOr(task, "family", ""))) {
    reader.Error(ValueMark(node, "family"),
                 what + ".family must be up to 255 letters, digits, '_' or '-' (ECS)");
  }
  const OrderedJson& containers = Member(task, "containerDefinitions");
  if (containers.empty()) {
    reader.Error(KeyMark(node, "containerDefinitions"),
                 what + ".containerDefinitions needs at least one container");
    return;
  }
  std::set<std::string> names;
  size_t index = 0;
  YAML::Node items = FindEntry(node, "containerDefinitions")->value;
  for (const YAML::Node& item : items) {
    std::string name = StringOr(containers[index++], "name", "");
    if (!names.insert(name).second) {
      reader.Error(ValueMark(item, "name"), what + ": two containers are named '" + name + "'");
    }
  }
  bool essential = std::any_of(containers.begin(), containers.end(), [](const OrderedJson& c) {
    return !c.contains("essential") || c["essential"] == true;
  });
  if (!essential) {
    reader.Error(KeyMark(node, "containerDefinitions"),
                 what + " needs at least one essential container (ECS)");
  }
}

void CheckBalancerHealthCheck(ConfigReader& reader, const YAML::Node& node,
                              const OrderedJson& check, const std::string& what) {
  if (check.contains("path") && !StringOr(check, "path", "").starts_with('/')) {
    reader.Error(ValueMark(node, "path"), what + ".path must start with '/'");
  }
  if (check.contains("matcher") && !IsMatcher(StringOr(check, "matcher", ""))) {
    reader.Error(ValueMark(node, "matcher"),
                 what + ".matcher must be HTTP codes such as \"200\", \"200,202\" or \"200-299\"");
  }
  if (check.contains("interval") && IntOr(check, "timeout", 0) >= IntOr(check, "interval", 0)) {
    reader.Error(ValueMark(node, "timeout"), what + ".timeout must be less than its interval");
  }
}

void CheckLoadBalancer(ConfigReader& reader, const YAML::Node& node, const OrderedJson& balancer,
                       const std::string& what) {
  if (StringOr(balancer, "mode", "http") != "tcp") return;
  const OrderedJson& check = Member(balancer, "healthCheck");
  std::optional<YamlEntry> check_node = FindEntry(node, "healthCheck");
  for (std::string_view key : {"path", "matcher", "body"}) {
    if (check.contains(key) && check_node) {
      reader.Error(KeyMark(check_node->value, key), what + ".healthCheck." + std::string(key) +
                                                        " applies to mode http only; mode tcp "
                                                        "checks that a connection opens");
    }
  }
}

// ECS: a rolling deployment needs room to start a task (maximumPercent, rounded down) or to
// stop one (minimumHealthyPercent, rounded up); with neither it is stuck.
void CheckService(ConfigReader& reader, const YAML::Node& node, const OrderedJson& service,
                  const std::string& what) {
  int64_t desired = IntOr(service, "desiredCount", 1);
  const OrderedJson& config = Member(service, "deploymentConfiguration");
  int64_t min = IntOr(config, "minimumHealthyPercent", 100);
  int64_t max = IntOr(config, "maximumPercent", 200);
  int64_t most = desired * max / 100;
  int64_t least = (desired * min + 99) / 100;
  if (desired == 0 || most > desired || least < desired) return;
  reader.Error(KeyMark(node, "deploymentConfiguration"),
               what +
                   ".deploymentConfiguration lets a deployment neither start a new task nor "
                   "stop an old one: with desiredCount " +
                   std::to_string(desired) + ", maximumPercent " + std::to_string(max) +
                   " allows at most " + std::to_string(most) +
                   " tasks (rounded down) and minimumHealthyPercent " + std::to_string(min) +
                   " keeps " + std::to_string(least) +
                   " running (rounded up); raise maximumPercent or lower minimumHealthyPercent");
}

constexpr std::string_view kProtocols[] = {"tcp", "udp"};
constexpr std::string_view kModes[] = {"http", "tcp"};

constexpr Field kEnvironmentFields[] = {
    {.key = "name", .kind = FieldKind::kString, .required = true},
    {.key = "value", .kind = FieldKind::kText, .required = true},
};
constexpr Schema kEnvironment{.fields = kEnvironmentFields};

constexpr Field kSecretFields[] = {
    {.key = "name", .kind = FieldKind::kString, .required = true},
    {.key = "valueFrom", .kind = FieldKind::kString, .required = true},
};
constexpr Schema kSecret{.fields = kSecretFields, .check = &CheckContainerSecret};

constexpr Field kPortMappingFields[] = {
    {.key = "containerPort", .kind = FieldKind::kInteger, .min = 0, .max = 65535},
    {.key = "hostPort", .kind = FieldKind::kInteger, .min = 0, .max = 65535},
    {.key = "protocol", .kind = FieldKind::kString, .choices = kProtocols},
    {.key = "name", .kind = FieldKind::kString},
};
constexpr std::string_view kPortMappingEcsOnly[] = {"appProtocol", "containerPortRange",
                                                    "hostPortRange"};
constexpr Schema kPortMapping{.fields = kPortMappingFields, .ecs_only = kPortMappingEcsOnly};

// ECS container health check ranges (AWS-SEMANTICS.md section 4).
constexpr Field kContainerHealthCheckFields[] = {
    {.key = "command", .kind = FieldKind::kStrings, .required = true},
    {.key = "interval", .kind = FieldKind::kInteger, .min = 5, .max = 300},
    {.key = "timeout", .kind = FieldKind::kInteger, .min = 2, .max = 60},
    {.key = "retries", .kind = FieldKind::kInteger, .min = 1, .max = 10},
    {.key = "startPeriod", .kind = FieldKind::kInteger, .min = 0, .max = 300},
};
constexpr Schema kContainerHealthCheck{.fields = kContainerHealthCheckFields,
                                       .check = &CheckContainerHealthCheck};

constexpr Field kContainerFields[] = {
    {.key = "name", .kind = FieldKind::kString, .required = true},
    {.key = "image", .kind = FieldKind::kString},
    {.key = "command", .kind = FieldKind::kStrings},
    {.key = "entryPoint", .kind = FieldKind::kStrings},
    {.key = "environment", .kind = FieldKind::kObjects, .schema = &kEnvironment},
    {.key = "secrets", .kind = FieldKind::kObjects, .schema = &kSecret},
    {.key = "portMappings", .kind = FieldKind::kObjects, .schema = &kPortMapping},
    {.key = "healthCheck", .kind = FieldKind::kObject, .schema = &kContainerHealthCheck},
    {.key = "essential", .kind = FieldKind::kBool},
    {.key = "workingDirectory", .kind = FieldKind::kString},
    {.key = "stopTimeout", .kind = FieldKind::kInteger, .min = 2, .max = 120},
};
constexpr std::string_view kContainerEcsOnly[] = {"cpu",
                                                  "memory",
                                                  "memoryReservation",
                                                  "links",
                                                  "hostname",
                                                  "user",
                                                  "disableNetworking",
                                                  "privileged",
                                                  "readonlyRootFilesystem",
                                                  "dnsServers",
                                                  "dnsSearchDomains",
                                                  "extraHosts",
                                                  "dockerSecurityOptions",
                                                  "interactive",
                                                  "pseudoTerminal",
                                                  "dockerLabels",
                                                  "ulimits",
                                                  "logConfiguration",
                                                  "mountPoints",
                                                  "volumesFrom",
                                                  "dependsOn",
                                                  "startTimeout",
                                                  "linuxParameters",
                                                  "resourceRequirements",
                                                  "firelensConfiguration",
                                                  "systemControls",
                                                  "environmentFiles",
                                                  "repositoryCredentials",
                                                  "credentialSpecs",
                                                  "restartPolicy",
                                                  "versionConsistency"};
constexpr Schema kContainer{
    .fields = kContainerFields, .ecs_only = kContainerEcsOnly, .check = &CheckContainer};

constexpr Field kTaskDefinitionFields[] = {
    {.key = "family", .kind = FieldKind::kString},
    {.key = "containerDefinitions",
     .kind = FieldKind::kObjects,
     .schema = &kContainer,
     .required = true},
};
constexpr std::string_view kTaskDefinitionEcsOnly[] = {"taskRoleArn",
                                                       "executionRoleArn",
                                                       "networkMode",
                                                       "volumes",
                                                       "placementConstraints",
                                                       "requiresCompatibilities",
                                                       "cpu",
                                                       "memory",
                                                       "tags",
                                                       "pidMode",
                                                       "ipcMode",
                                                       "proxyConfiguration",
                                                       "inferenceAccelerators",
                                                       "ephemeralStorage",
                                                       "runtimePlatform",
                                                       "enableFaultInjection"};
constexpr Schema kTaskDefinition{.fields = kTaskDefinitionFields,
                                 .ecs_only = kTaskDefinitionEcsOnly,
                                 .check = &CheckTaskDefinition};

constexpr Field kCircuitBreakerFields[] = {
    {.key = "enable", .kind = FieldKind::kBool, .required = true},
    {.key = "rollback", .kind = FieldKind::kBool, .required = true},
    // Kiln's: failed tasks that trip the breaker (default: ECS's rule, half the desired
    // count between 3 and 200).
    {.key = "threshold", .kind = FieldKind::kInteger, .min = 1, .max = 200},
};
constexpr Schema kCircuitBreaker{.fields = kCircuitBreakerFields};

// ECS rolling update: minimumHealthyPercent 0-100, maximumPercent 100-200.
constexpr Field kDeploymentConfigurationFields[] = {
    {.key = "minimumHealthyPercent", .kind = FieldKind::kInteger, .min = 0, .max = 100},
    {.key = "maximumPercent", .kind = FieldKind::kInteger, .min = 100, .max = 200},
    {.key = "deploymentCircuitBreaker", .kind = FieldKind::kObject, .schema = &kCircuitBreaker},
};
constexpr std::string_view kDeploymentConfigurationEcsOnly[] = {
    "alarms",   "bakeTimeInMinutes",   "lifecycleHooks",
    "strategy", "canaryConfiguration", "linearConfiguration"};
constexpr Schema kDeploymentConfiguration{.fields = kDeploymentConfigurationFields,
                                          .ecs_only = kDeploymentConfigurationEcsOnly};

// Kiln's load balancer, with the target-group health check's names (seconds, as ELB).
constexpr Field kBalancerHealthCheckFields[] = {
    {.key = "path", .kind = FieldKind::kString},
    {.key = "matcher", .kind = FieldKind::kString},
    {.key = "body", .kind = FieldKind::kText},
    {.key = "interval", .kind = FieldKind::kInteger, .min = 1, .max = 300},
    {.key = "timeout", .kind = FieldKind::kInteger, .min = 1, .max = 120},
    {.key = "healthyThreshold", .kind = FieldKind::kInteger, .min = 1, .max = 10},
    {.key = "unhealthyThreshold", .kind = FieldKind::kInteger, .min = 1, .max = 10},
};
constexpr Schema kBalancerHealthCheck{.fields = kBalancerHealthCheckFields,
                                      .check = &CheckBalancerHealthCheck};

constexpr Field kLoadBalancerFields[] = {
    {.key = "listen", .kind = FieldKind::kListen, .required = true},
    {.key = "mode", .kind = FieldKind::kString, .choices = kModes},
    {.key = "healthCheck", .kind = FieldKind::kObject, .schema = &kBalancerHealthCheck},
    {.key = "deregistrationDelay", .kind = FieldKind::kInteger, .min = 0, .max = 3600},
};
constexpr Schema kLoadBalancer{.fields = kLoadBalancerFields, .check = &CheckLoadBalancer};

constexpr Field kServiceFields[] = {
    {.key = "cluster", .kind = FieldKind::kString},
    {.key = "desiredCount", .kind = FieldKind::kInteger, .min = 0, .max = kMaxDesiredCount},
    {.key = "taskDefinition",
     .kind = FieldKind::kObject,
     .schema = &kTaskDefinition,
     .required = true},
    {.key = "deploymentConfiguration",
     .kind = FieldKind::kObject,
     .schema = &kDeploymentConfiguration},
    {.key = "healthCheckGracePeriodSeconds",
     .kind = FieldKind::kInteger,
     .min = 0,
     .max = kMaxInt32},
    {.key = "loadBalancer", .kind = FieldKind::kObject, .schema = &kLoadBalancer},
    {.key = "deploymentTimeout", .kind = FieldKind::kDuration},
    {.key = "stopTimeout", .kind = FieldKind::kDuration},
};
// CreateService fields about AWS's own infrastructure.
constexpr std::string_view kServiceEcsOnly[] = {"serviceName",
                                                "loadBalancers",
                                                "serviceRegistries",
                                                "launchType",
                                                "capacityProviderStrategy",
                                                "platformVersion",
                                                "role",
                                                "placementConstraints",
                                                "placementStrategy",
                                                "networkConfiguration",
                                                "schedulingStrategy",
                                                "deploymentController",
                                                "tags",
                                                "enableECSManagedTags",
                                                "propagateTags",
                                                "enableExecuteCommand",
                                                "serviceConnectConfiguration",
                                                "volumeConfigurations",
                                                "availabilityZoneRebalancing",
                                                "clientToken"};
constexpr Schema kService{
    .fields = kServiceFields, .ecs_only = kServiceEcsOnly, .check = &CheckService};

std::vector<std::string> ContainerNames(const OrderedJson& service) {
  std::vector<std::string> names;
  const OrderedJson& containers = Member(Member(service, "taskDefinition"), "containerDefinitions");
  if (!containers.is_array()) return names;
  for (const OrderedJson& container : containers) names.push_back(StringOr(container, "name", ""));
  return names;
}

}  // namespace

Service ParseService(ConfigReader& reader, const YamlEntry& entry) {
  std::string what = "services." + entry.key;
  OrderedJson json = ReadObject(reader, entry.value, kService, what, entry.key_node.Mark());
  Service service{.name = entry.key,
                  .cluster = StringOr(json, "cluster", "default"),  // ECS's default cluster
                  .desired_count = int(IntOr(json, "desiredCount", 1)),
                  .container_names = ContainerNames(json),
                  .definition_json = base::JsonText(json),
                  .line = LineOf(entry.key_node.Mark())};
  std::optional<YamlEntry> cluster = FindEntry(entry.value, "cluster");
  reader.Refer(PendingReference::Kind::kCluster, service.cluster,
               cluster ? cluster->value.Mark() : entry.key_node.Mark(), what + ".cluster");
  return service;
}

}  // namespace kiln::spec::kiln_yml
