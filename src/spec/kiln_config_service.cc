#include "spec/kiln_config_service.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "base/json_text.h"
#include "spec/kiln_config_container.h"
#include "spec/kiln_config_schema.h"

namespace kiln::spec::kiln_yml {
namespace {

constexpr int64_t kMaxInt32 = 2'147'483'647;
constexpr int64_t kMaxDesiredCount = 5'000;  // ECS's default quota of tasks per service

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

constexpr std::string_view kModes[] = {"http", "tcp"};

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
     .schema = &kTaskDefinitionSchema,
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
