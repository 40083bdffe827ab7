#include "spec/kiln_config_container.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace kiln::spec {
namespace {

// "N" or "N.F" followed by optional spaces and `unit` (any case); the number times scale, when
// that is whole. A bare integer is taken as it is.
std::optional<int64_t> ParseSize(std::string_view text, std::string_view unit, int64_t scale) {
  int64_t whole = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), whole);
  if (ec == std::errc() && end == text.data() + text.size()) return whole;
  double number = 0;
  auto [num_end, num_ec] =
      std::from_chars(text.data(), text.data() + text.size(), number, std::chars_format::fixed);
  if (num_ec != std::errc() || !(number >= 0) || number > 1e12) return std::nullopt;
  std::string_view rest = text.substr(size_t(num_end - text.data()));
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  bool unit_ok = rest.size() == unit.size() &&
                 std::equal(rest.begin(), rest.end(), unit.begin(), [](char a, char b) {
                   return std::tolower(static_cast<unsigned char>(a)) == b;
                 });
  double scaled = number * double(scale);
  if (!unit_ok || scaled != std::floor(scaled)) return std::nullopt;
  return int64_t(scaled);
}

}  // namespace

std::optional<int64_t> ParseTaskCpu(std::string_view text) { return ParseSize(text, "vcpu", 1024); }

std::optional<int64_t> ParseTaskMemory(std::string_view text) {
  return ParseSize(text, "gb", 1024);
}

std::optional<std::string> SecretReferenceName(std::string_view value_from) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t colon = value_from.find(':', start);
    parts.push_back(value_from.substr(start, colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() < 6 || parts[0] != "arn") return std::string(value_from);
  if (parts[2] == "ssm" && parts.size() == 6 && parts[5].starts_with("parameter/")) {
    std::string_view name = parts[5].substr(10);
    return name.find('/') == std::string_view::npos ? std::string(name) : "/" + std::string(name);
  }
  if (parts[2] == "secretsmanager" && parts.size() >= 7 && parts[5] == "secret") {
    bool plain = parts.size() == 7 || std::all_of(parts.begin() + 7, parts.end(),
                                                  [](std::string_view p) { return p.empty(); });
    if (!plain) return std::nullopt;
    return std::string(parts[6]);
  }
  return std::string(value_from);
}

}  // namespace kiln::spec

namespace kiln::spec::kiln_yml {
namespace {

constexpr int64_t kMaxInt32 = 2'147'483'647;

// ECS: a container name or a task family is up to 255 letters, digits, '_' and '-'.
bool IsEcsName(std::string_view name) {
  return !name.empty() && name.size() <= 255 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// ECS healthCheck.command: ["CMD", program, args...], ["CMD-SHELL", "command"], or ["NONE"]
// (which turns off a HEALTHCHECK the image has).
void CheckContainerHealthCheck(ConfigReader& reader, const YAML::Node& node,
                               const OrderedJson& check, const std::string& what) {
  const OrderedJson& command = Member(check, "command");
  std::string first = command.empty() ? "" : command.front().get<std::string>();
  if (first == "NONE" && command.size() == 1) return;
  if (command.size() >= 2 && (first == "CMD" || first == "CMD-SHELL")) return;
  reader.Error(ValueMark(node, "command"),
               what +
                   ".command must be [\"CMD\", program, args...], [\"CMD-SHELL\", "
                   "\"shell command\"] or [\"NONE\"] (ECS)");
}

// ECS: a port mapping names containerPort unless it gives a containerPortRange.
void CheckPortMapping(ConfigReader& reader, const YAML::Node& node, const OrderedJson& mapping,
                      const std::string& what) {
  if (!mapping.contains("containerPort") && !mapping.contains("containerPortRange")) {
    reader.Missing(node.Mark(), what, "containerPort");
  }
}

void CheckContainer(ConfigReader& reader, const YAML::Node& node, const OrderedJson& container,
                    const std::string& what) {
  if (!IsEcsName(StringOr(container, "name", ""))) {
    reader.Error(ValueMark(node, "name"),
                 what + ".name must be up to 255 letters, digits, '_' or '-' (ECS)");
  }
  // ECS: "If you specify both, memory must be greater than memoryReservation."
  int64_t memory = IntOr(container, "memory", 0);
  int64_t reservation = IntOr(container, "memoryReservation", 0);
  if (memory > 0 && reservation >= memory) {
    reader.Error(ValueMark(node, "memoryReservation"),
                 what + ".memoryReservation (" + std::to_string(reservation) +
                     " MiB) must be less than memory (" + std::to_string(memory) +
                     " MiB): memory is the hard limit, memoryReservation the soft one (ECS)");
  }
}

// ECS `secrets` entries: valueFrom names one of Kiln's secrets or parameters, by name or by
// the ARN ECS would take (spec::SecretReferenceName).
void CheckContainerSecret(ConfigReader& reader, const YAML::Node& node, const OrderedJson& secret,
                          const std::string& what) {
  std::string from = StringOr(secret, "valueFrom", "");
  std::optional<std::string> name = SecretReferenceName(from);
  if (!name) {
    reader.Error(ValueMark(node, "valueFrom"),
                 what +
                     ".valueFrom selects a JSON key or version of a secret, which Kiln does "
                     "not do: name the whole secret");
    return;
  }
  reader.Refer(PendingReference::Kind::kSecretOrParameter, *name, ValueMark(node, "valueFrom"),
               what + ".valueFrom");
}

}  // namespace

namespace {

constexpr size_t kMaxContainers = 10;  // ECS's quota of containers per task definition

bool Essential(const OrderedJson& container) {
  return !container.contains("essential") || container["essential"] == true;
}

bool HasHealthCheck(const OrderedJson& container) {
  const OrderedJson& command = Member(Member(container, "healthCheck"), "command");
  return !command.empty() && command.front() != "NONE";
}

std::vector<YAML::Node> Items(const YAML::Node& node, std::string_view key) {
  std::vector<YAML::Node> out;
  std::optional<YamlEntry> entry = FindEntry(node, key);
  if (entry && entry->value.IsSequence()) {
    for (const YAML::Node& item : entry->value) out.push_back(item);
  }
  return out;
}

std::string ContainerWhat(const std::string& what, size_t i) {
  return what + ".containerDefinitions[" + std::to_string(i) + "]";
}

void CheckContainerNames(ConfigReader& reader, const YAML::Node& node,
                         const OrderedJson& containers, const std::vector<YAML::Node>& nodes,
                         const std::string& what) {
  std::set<std::string> names;
  for (size_t i = 0; i < containers.size() && i < nodes.size(); ++i) {
    std::string name = StringOr(containers[i], "name", "");
    if (!names.insert(name).second) {
      reader.Error(ValueMark(nodes[i], "name"), what + ": two containers are named '" + name + "'");
    }
  }
  if (std::none_of(containers.begin(), containers.end(), Essential)) {
    reader.Error(KeyMark(node, "containerDefinitions"),
                 what + " needs at least one essential container (ECS)");
  }
}

// ECS dependsOn: the container is in the task; HEALTHY needs its health check; COMPLETE and
// SUCCESS wait for an exit, so they cannot name an essential container (its exit stops the
// task).
void CheckDependency(ConfigReader& reader, const YAML::Node& node, const OrderedJson& dependency,
                     const OrderedJson& containers, const std::map<std::string, size_t>& index,
                     const std::string& what) {
  std::string target = StringOr(dependency, "containerName", "");
  std::string condition = StringOr(dependency, "condition", "");
  auto it = index.find(target);
  if (it == index.end()) {
    reader.Error(ValueMark(node, "containerName"), what + ".containerName names '" + target +
                                                       "', which is not a container of " +
                                                       "this task definition");
    return;
  }
  const OrderedJson& other = containers[it->second];
  if (condition == "HEALTHY" && !HasHealthCheck(other)) {
    reader.Error(ValueMark(node, "condition"), what + ".condition HEALTHY needs container '" +
                                                   target + "' to have a healthCheck (ECS)");
  }
  if ((condition == "COMPLETE" || condition == "SUCCESS") && Essential(other)) {
    reader.Error(ValueMark(node, "condition"), what + ".condition " + condition +
                                                   " cannot wait for essential container '" +
                                                   target + "': set essential: false on it (ECS)");
  }
}

// A dependsOn cycle as container indexes, the first repeated last; empty without one.
bool Visit(size_t at, const std::vector<std::vector<size_t>>& edges, std::vector<int>& state,
           std::vector<size_t>& path) {
  state[at] = 1;  // on the path
  path.push_back(at);
  for (size_t next : edges[at]) {
    if (state[next] == 1) {
      path.erase(path.begin(), std::find(path.begin(), path.end(), next));
      path.push_back(next);
      return true;
    }
    if (state[next] == 0 && Visit(next, edges, state, path)) return true;
  }
  state[at] = 2;
  path.pop_back();
  return false;
}

void CheckDependencyCycle(ConfigReader& reader, const OrderedJson& containers,
                          const std::vector<YAML::Node>& nodes,
                          const std::map<std::string, size_t>& index, const std::string& what) {
  std::vector<std::vector<size_t>> edges(containers.size());
  for (size_t i = 0; i < containers.size(); ++i) {
    for (const OrderedJson& dependency : Member(containers[i], "dependsOn")) {
      auto it = index.find(StringOr(dependency, "containerName", ""));
      if (it != index.end()) edges[i].push_back(it->second);
    }
  }
  std::vector<int> state(containers.size(), 0);
  for (size_t i = 0; i < containers.size() && i < nodes.size(); ++i) {
    std::vector<size_t> path;
    if (state[i] != 0 || !Visit(i, edges, state, path)) continue;
    std::string names;
    for (size_t at : path)
      names += (names.empty() ? "" : " -> ") + StringOr(containers[at], "name", "");
    reader.Error(KeyMark(nodes[path.front()], "dependsOn"),
                 what + ": containers depend on each other in a cycle: " + names + " (ECS)");
    return;
  }
}

void CheckDependsOn(ConfigReader& reader, const OrderedJson& containers,
                    const std::vector<YAML::Node>& nodes, const std::string& what) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < containers.size(); ++i) index[StringOr(containers[i], "name", "")] = i;
  for (size_t i = 0; i < containers.size() && i < nodes.size(); ++i) {
    const OrderedJson& dependencies = Member(containers[i], "dependsOn");
    std::vector<YAML::Node> items = Items(nodes[i], "dependsOn");
    for (size_t j = 0; j < dependencies.size() && j < items.size(); ++j) {
      CheckDependency(reader, items[j], dependencies[j], containers, index,
                      ContainerWhat(what, i) + ".dependsOn[" + std::to_string(j) + "]");
    }
  }
  CheckDependencyCycle(reader, containers, nodes, index, what);
}

// ECS: with host or awsvpc networking a hostPort is omitted or equals containerPort (the task
// has the port itself); networkMode none has no port mappings.
void CheckPorts(ConfigReader& reader, const OrderedJson& task, const std::vector<YAML::Node>& nodes,
                const std::string& what) {
  std::string mode = StringOr(task, "networkMode", "bridge");
  const OrderedJson& containers = Member(task, "containerDefinitions");
  for (size_t i = 0; i < containers.size() && i < nodes.size(); ++i) {
    const OrderedJson& mappings = Member(containers[i], "portMappings");
    if (mode == "none" && !mappings.empty()) {
      reader.Error(KeyMark(nodes[i], "portMappings"),
                   ContainerWhat(what, i) + ".portMappings: networkMode none has none (ECS)");
      continue;
    }
    std::vector<YAML::Node> items = Items(nodes[i], "portMappings");
    for (size_t j = 0; j < mappings.size() && j < items.size(); ++j) {
      int64_t port = IntOr(mappings[j], "containerPort", 0);
      if (mode == "bridge" || !mappings[j].contains("hostPort") ||
          IntOr(mappings[j], "hostPort", 0) == port) {
        continue;
      }
      reader.Error(ValueMark(items[j], "hostPort"),
                   ContainerWhat(what, i) + ".portMappings[" + std::to_string(j) +
                       "].hostPort must be left out or equal containerPort (" +
                       std::to_string(port) + ") with networkMode " + mode + " (ECS)");
    }
  }
}

constexpr std::string_view kCompatibilities[] = {"EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"};

void CheckCompatibilities(ConfigReader& reader, const YAML::Node& node, const OrderedJson& task,
                          const std::string& what) {
  std::vector<YAML::Node> items = Items(node, "requiresCompatibilities");
  const OrderedJson& values = Member(task, "requiresCompatibilities");
  for (size_t i = 0; i < values.size() && i < items.size(); ++i) {
    std::string value = values[i].get<std::string>();
    if (std::find(std::begin(kCompatibilities), std::end(kCompatibilities), value) ==
        std::end(kCompatibilities)) {
      reader.Error(items[i].Mark(), what + ".requiresCompatibilities[" + std::to_string(i) +
                                        "] must be one of " + JoinNames(kCompatibilities) +
                                        ", not '" + value + "'");
    }
  }
  bool fargate = std::find(values.begin(), values.end(), "FARGATE") != values.end();
  if (fargate && StringOr(task, "networkMode", "") != "awsvpc") {
    reader.Error(
        KeyMark(node, task.contains("networkMode") ? "networkMode" : "requiresCompatibilities"),
        what + ": requiresCompatibilities FARGATE needs networkMode awsvpc (ECS)");
  }
}

void CheckTaskDefinition(ConfigReader& reader, const YAML::Node& node, const OrderedJson& task,
                         const std::string& what) {
  if (task.contains("family") && !IsEcsName(StringOr(task, "family", ""))) {
    reader.Error(ValueMark(node, "family"),
                 what + ".family must be up to 255 letters, digits, '_' or '-' (ECS)");
  }
  const OrderedJson& containers = Member(task, "containerDefinitions");
  if (containers.empty() || containers.size() > kMaxContainers) {
    reader.Error(KeyMark(node, "containerDefinitions"),
                 what + ".containerDefinitions needs 1 to " + std::to_string(kMaxContainers) +
                     " containers (ECS), not " + std::to_string(containers.size()));
    return;
  }
  std::vector<YAML::Node> nodes = Items(node, "containerDefinitions");
  size_t errors = reader.error_count();
  CheckContainerNames(reader, node, containers, nodes, what);
  bool names_ok = reader.error_count() == errors;  // dependsOn looks containers up by name
  CheckPorts(reader, task, nodes, what);
  if (names_ok) CheckDependsOn(reader, containers, nodes, what);
  CheckCompatibilities(reader, node, task, what);
}

}  // namespace

namespace {

constexpr std::string_view kProtocols[] = {"tcp", "udp"};
constexpr std::string_view kConditions[] = {"START", "COMPLETE", "SUCCESS", "HEALTHY"};
constexpr std::string_view kNetworkModes[] = {"bridge", "host", "awsvpc", "none"};
// ECS's log drivers. Kiln keeps every task's output in its own task log whichever is named:
// the driver and its options are accepted and kept, not used.
constexpr std::string_view kLogDrivers[] = {"json-file", "syslog",  "journald", "gelf",
                                            "fluentd",   "awslogs", "splunk",   "awsfirelens"};

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

// ECS PortMapping: hostPort 0 (or left out) in bridge mode is a dynamic port.
constexpr Field kPortMappingFields[] = {
    {.key = "containerPort", .kind = FieldKind::kInteger, .min = 1, .max = 65535},
    {.key = "hostPort", .kind = FieldKind::kInteger, .min = 0, .max = 65535},
    {.key = "protocol", .kind = FieldKind::kString, .choices = kProtocols},
    {.key = "name", .kind = FieldKind::kString},
};
constexpr std::string_view kPortMappingEcsOnly[] = {"appProtocol", "containerPortRange",
                                                    "hostPortRange"};
constexpr Schema kPortMapping{
    .fields = kPortMappingFields, .ecs_only = kPortMappingEcsOnly, .check = &CheckPortMapping};

// ECS container health check ranges (AWS-CONTAINERS.md 3.2): seconds.
constexpr Field kContainerHealthCheckFields[] = {
    {.key = "command", .kind = FieldKind::kStrings, .required = true},
    {.key = "interval", .kind = FieldKind::kInteger, .min = 5, .max = 300},
    {.key = "timeout", .kind = FieldKind::kInteger, .min = 2, .max = 60},
    {.key = "retries", .kind = FieldKind::kInteger, .min = 1, .max = 10},
    {.key = "startPeriod", .kind = FieldKind::kInteger, .min = 0, .max = 300},
};
constexpr Schema kContainerHealthCheck{.fields = kContainerHealthCheckFields,
                                       .check = &CheckContainerHealthCheck};

constexpr Field kDependencyFields[] = {
    {.key = "containerName", .kind = FieldKind::kString, .required = true},
    {.key = "condition", .kind = FieldKind::kString, .choices = kConditions, .required = true},
};
constexpr Schema kDependency{.fields = kDependencyFields};

constexpr Field kLogConfigurationFields[] = {
    {.key = "logDriver", .kind = FieldKind::kString, .choices = kLogDrivers, .required = true},
    {.key = "options", .kind = FieldKind::kStringMap},
};
constexpr std::string_view kLogConfigurationEcsOnly[] = {"secretOptions"};
constexpr Schema kLogConfiguration{.fields = kLogConfigurationFields,
                                   .ecs_only = kLogConfigurationEcsOnly};

// cpu: CPU shares, at most the kernel's 262144; memory and memoryReservation in MiB, at
// least the 6 MiB Docker 20.10 reserves for a container (ECS); stopTimeout 2-120 s (ECS).
constexpr Field kContainerFields[] = {
    {.key = "name", .kind = FieldKind::kString, .required = true},
    {.key = "image", .kind = FieldKind::kString},
    {.key = "essential", .kind = FieldKind::kBool},
    {.key = "command", .kind = FieldKind::kStrings},
    {.key = "entryPoint", .kind = FieldKind::kStrings},
    {.key = "environment", .kind = FieldKind::kObjects, .schema = &kEnvironment},
    {.key = "secrets", .kind = FieldKind::kObjects, .schema = &kSecret},
    {.key = "portMappings", .kind = FieldKind::kObjects, .schema = &kPortMapping},
    {.key = "healthCheck", .kind = FieldKind::kObject, .schema = &kContainerHealthCheck},
    {.key = "cpu", .kind = FieldKind::kInteger, .min = 0, .max = 262'144},
    {.key = "memory", .kind = FieldKind::kInteger, .min = 6, .max = kMaxInt32},
    {.key = "memoryReservation", .kind = FieldKind::kInteger, .min = 6, .max = kMaxInt32},
    {.key = "stopTimeout", .kind = FieldKind::kInteger, .min = 2, .max = 120},
    {.key = "dependsOn", .kind = FieldKind::kObjects, .schema = &kDependency},
    {.key = "logConfiguration", .kind = FieldKind::kObject, .schema = &kLogConfiguration},
    {.key = "workingDirectory", .kind = FieldKind::kString},
    {.key = "user", .kind = FieldKind::kString},
};
constexpr std::string_view kContainerEcsOnly[] = {"links",
                                                  "hostname",
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
                                                  "mountPoints",
                                                  "volumesFrom",
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

// Task size: 128 to 196608 CPU units (0.125 to 192 vCPUs, ECS on Linux); memory from the
// 6 MiB a container needs. The roles are accepted and unused: Kiln has no IAM.
constexpr Field kTaskDefinitionFields[] = {
    {.key = "family", .kind = FieldKind::kString},
    {.key = "containerDefinitions",
     .kind = FieldKind::kObjects,
     .schema = &kContainer,
     .required = true},
    {.key = "networkMode", .kind = FieldKind::kString, .choices = kNetworkModes},
    {.key = "cpu", .kind = FieldKind::kTaskCpu, .min = 128, .max = 196'608},
    {.key = "memory", .kind = FieldKind::kTaskMemory, .min = 6, .max = kMaxInt32},
    {.key = "requiresCompatibilities", .kind = FieldKind::kStrings},
    {.key = "executionRoleArn", .kind = FieldKind::kString},
    {.key = "taskRoleArn", .kind = FieldKind::kString},
};
constexpr std::string_view kTaskDefinitionEcsOnly[] = {"volumes",
                                                       "placementConstraints",
                                                       "tags",
                                                       "pidMode",
                                                       "ipcMode",
                                                       "proxyConfiguration",
                                                       "inferenceAccelerators",
                                                       "ephemeralStorage",
                                                       "runtimePlatform",
                                                       "enableFaultInjection"};

}  // namespace

constinit const Schema kTaskDefinitionSchema{.fields = kTaskDefinitionFields,
                                             .ecs_only = kTaskDefinitionEcsOnly,
                                             .check = &CheckTaskDefinition};

}  // namespace kiln::spec::kiln_yml
