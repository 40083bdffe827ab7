// projects.NAME of kiln.yml: a CodeBuild project (buildspec, timeout, environment) and its
// webhook filter groups (AWS-SEMANTICS.md section 5.1).
#include <algorithm>
#include <utility>

#include "spec/kiln_config_sections.h"

namespace kiln::spec::kiln_yml {
namespace {

constexpr std::string_view kProjectKeys[] = {"buildspec", "timeout", "environment", "webhook",
                                             "cache"};
constexpr std::string_view kCacheKeys[] = {"type", "modes"};
constexpr std::string_view kCacheTypes[] = {"NO_CACHE", "LOCAL", "S3"};
constexpr std::string_view kEnvironmentKeys[] = {"type",
                                                 "image",
                                                 "computeType",
                                                 "privilegedMode",
                                                 "imagePullCredentialsType",
                                                 "registryCredential",
                                                 "environmentVariables",
                                                 "variables",
                                                 "network",
                                                 "cluster",
                                                 "executor"};
constexpr std::string_view kExecutors[] = {"local", "docker"};  // before CodeBuild's fields
constexpr std::string_view kWebhookKeys[] = {"connection", "filter_groups"};
constexpr std::string_view kFilterKeys[] = {"type", "pattern", "exclude_matched_pattern",
                                            "excludeMatchedPattern"};
constexpr std::string_view kFilterTypes[] = {"EVENT",     "HEAD_REF",       "BASE_REF",
                                             "FILE_PATH", "COMMIT_MESSAGE", "ACTOR_ACCOUNT_ID"};
constexpr std::string_view kEvents[] = {"PUSH",
                                        "PULL_REQUEST_CREATED",
                                        "PULL_REQUEST_UPDATED",
                                        "PULL_REQUEST_REOPENED",
                                        "PULL_REQUEST_MERGED",
                                        "PULL_REQUEST_CLOSED"};
// CodeBuild knows these too; Kiln's GitHub webhooks never produce them.
constexpr std::string_view kUnsupportedTypes[] = {"TAG_NAME", "RELEASE_NAME", "REPOSITORY_NAME",
                                                  "ORGANIZATION_NAME", "WORKFLOW_NAME"};
constexpr std::string_view kUnsupportedEvents[] = {"RELEASED", "PRERELEASED",
                                                   "WORKFLOW_JOB_QUEUED"};
constexpr int64_t kMaxTimeoutMs = int64_t{2160} * 60 * 1000;  // CodeBuild: 36 hours at most

bool Contains(std::span<const std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string_view Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// A path inside the primary source: relative, and not climbing out of it.
std::string Buildspec(ConfigReader& reader, const YAML::Node& node, const std::string& what) {
  std::optional<std::string> path = reader.String(node, what);
  if (!path) return "";
  bool climbs = *path == ".." || path->starts_with("../") || path->ends_with("/..") ||
                path->find("/../") != std::string::npos;
  if (!path->starts_with('/') && !climbs) return *path;
  reader.Error(node.Mark(), what +
                                " must be a path inside the primary source (relative, "
                                "without '..')");
  return "";
}

int64_t Timeout(ConfigReader& reader, const YAML::Node& node, const std::string& what,
                int64_t fallback) {
  std::optional<int64_t> ms = reader.DurationMs(node, what);
  if (!ms) return fallback;
  if (*ms > 0 && *ms <= kMaxTimeoutMs) return *ms;
  reader.Error(node.Mark(), what + " must be more than 0 and at most 36h (CodeBuild's limit)");
  return fallback;
}

void ParseVariables(ConfigReader& reader, const YAML::Node& node, const std::string& what,
                    Project& project) {
  std::optional<std::vector<YamlEntry>> entries = reader.Mapping(node, what);
  for (size_t i = 0; entries && i < entries->size(); ++i) {
    const YamlEntry& entry = (*entries)[i];
    if (!IsEnvName(entry.key) || entry.key.starts_with("CODEBUILD_")) {
      reader.Error(entry.key_node.Mark(),
                   what + ": '" + entry.key +
                       "' is not a variable name (letters, digits and "
                       "'_', not starting with a digit; CODEBUILD_ is reserved, as in CodeBuild)");
      continue;
    }
    std::optional<std::string> value = reader.String(entry.value, what + "." + entry.key, true);
    if (value) project.variables.emplace_back(entry.key, std::move(*value));
  }
}

void ParseEnvironment(ConfigReader& reader, const YamlEntry& entry, const std::string& what,
                      Project& project) {
  std::optional<std::vector<YamlEntry>> fields = reader.Mapping(entry.value, what);
  if (!fields) return;
  reader.CheckKeys(*fields, what, kEnvironmentKeys);
  if (const YamlEntry* variables = FindEntry(*fields, "variables")) {
    ParseVariables(reader, variables->value, what + ".variables", project);
  }
  ParseBuildEnvironment(reader, *fields, what, project.environment);
  // `executor: local|docker` came before CodeBuild's fields: docker means "has an image".
  if (const YamlEntry* executor = FindEntry(*fields, "executor")) {
    std::optional<std::string> kind = reader.OneOf(executor->value, what + ".executor", kExecutors);
    if (kind == "docker" && project.environment.on_host()) {
      reader.Missing(entry.key_node.Mark(), what, "image");
    } else if (kind == "local" && !project.environment.on_host()) {
      reader.Error(executor->value.Mark(),
                   what + ".executor local runs on the host: it takes no image");
    }
  }
}

// EVENT: a comma-separated list of CodeBuild event names.
void CheckEvents(ConfigReader& reader, const YAML::Node& node, const std::string& pattern,
                 const std::string& what) {
  size_t start = 0;
  while (start <= pattern.size()) {
    size_t end = std::min(pattern.find(',', start), pattern.size());
    std::string event(Trim(std::string_view(pattern).substr(start, end - start)));
    start = end + 1;
    if (Contains(kEvents, event)) continue;
    std::string why = Contains(kUnsupportedEvents, event) ? " is not an event Kiln receives"
                                                          : " is not a CodeBuild webhook event";
    reader.Error(node.Mark(), what + ": '" + event + "'" + why +
                                  " (expected a comma-separated "
                                  "list of " +
                                  JoinNames(kEvents) + ")");
  }
}

ProjectWebhook::Filter ParseFilter(ConfigReader& reader, const YAML::Node& node,
                                   const std::string& what) {
  ProjectWebhook::Filter filter;
  std::optional<std::vector<YamlEntry>> fields = reader.Mapping(node, what);
  if (!fields) return filter;
  reader.CheckKeys(*fields, what, kFilterKeys);
  const YamlEntry* type = FindEntry(*fields, "type");
  const YamlEntry* pattern = FindEntry(*fields, "pattern");
  if (!type) reader.Missing(node.Mark(), what, "type");
  if (!pattern) reader.Missing(node.Mark(), what, "pattern");
  if (type && type->value.IsScalar() && Contains(kUnsupportedTypes, type->value.Scalar())) {
    reader.Error(type->value.Mark(),
                 what + ".type " + type->value.Scalar() +
                     " is not supported by Kiln (supported: " + JoinNames(kFilterTypes) + ")");
  } else if (type) {
    filter.type = reader.OneOf(type->value, what + ".type", kFilterTypes).value_or("");
  }
  if (pattern) filter.pattern = reader.String(pattern->value, what + ".pattern").value_or("");
  if (filter.type == "EVENT" && !filter.pattern.empty()) {
    CheckEvents(reader, pattern->value, filter.pattern, what + ".pattern");
  }
  const YamlEntry* snake = FindEntry(*fields, "exclude_matched_pattern");
  const YamlEntry* camel = FindEntry(*fields, "excludeMatchedPattern");
  if (snake && camel) {
    reader.Error(camel->key_node.Mark(), what +
                                             " has both exclude_matched_pattern and "
                                             "excludeMatchedPattern; keep one");
  } else if (const YamlEntry* exclude = snake ? snake : camel) {
    filter.exclude_matched_pattern =
        reader.Bool(exclude->value, what + "." + exclude->key).value_or(false);
  }
  return filter;
}

// CodeBuild: a group passes when every filter in it passes, and needs exactly one EVENT.
std::vector<ProjectWebhook::Filter> ParseGroup(ConfigReader& reader, const YAML::Node& node,
                                               const std::string& what) {
  std::vector<ProjectWebhook::Filter> group;
  std::optional<std::vector<YAML::Node>> items = reader.Sequence(node, what);
  if (!items) return group;
  size_t errors = reader.error_count();
  for (size_t i = 0; i < items->size(); ++i) {
    group.push_back(ParseFilter(reader, (*items)[i], what + "[" + std::to_string(i) + "]"));
  }
  auto events = std::count_if(group.begin(), group.end(),
                              [](const ProjectWebhook::Filter& f) { return f.type == "EVENT"; });
  if (events != 1 && reader.error_count() == errors) {
    reader.Error(node.Mark(), what + " has " + std::to_string(events) +
                                  " EVENT filters; CodeBuild needs exactly one in each group");
  }
  return group;
}

ProjectWebhook ParseWebhook(ConfigReader& reader, const YamlEntry& entry, const std::string& what) {
  ProjectWebhook webhook;
  std::optional<std::vector<YamlEntry>> fields = reader.Mapping(entry.value, what);
  if (!fields) return webhook;
  reader.CheckKeys(*fields, what, kWebhookKeys);
  if (const YamlEntry* connection = FindEntry(*fields, "connection")) {
    webhook.connection = reader.String(connection->value, what + ".connection").value_or("");
    if (!webhook.connection.empty()) {
      reader.Refer(PendingReference::Kind::kConnection, webhook.connection,
                   connection->value.Mark(), what + ".connection");
    }
  } else {
    reader.Missing(entry.key_node.Mark(), what, "connection");
  }
  const YamlEntry* groups = FindEntry(*fields, "filter_groups");
  std::optional<std::vector<YAML::Node>> items;
  if (groups) items = reader.Sequence(groups->value, what + ".filter_groups");
  if (!groups || (items && items->empty())) {
    reader.Error(entry.key_node.Mark(), what +
                                            " needs filter_groups: at least one group, "
                                            "each with an EVENT filter (CodeBuild)");
  }
  for (size_t i = 0; items && i < items->size(); ++i) {
    std::string group_what = what + ".filter_groups[" + std::to_string(i) + "]";
    webhook.filter_groups.push_back(ParseGroup(reader, (*items)[i], group_what));
  }
  return webhook;
}

void ParseCacheModes(ConfigReader& reader, const YAML::Node& node, const std::string& what,
                     ProjectCache& cache) {
  std::optional<std::vector<YAML::Node>> items = reader.Sequence(node, what);
  if (!items) return;
  cache.modes = 0;
  for (size_t i = 0; i < items->size(); ++i) {
    std::string item_what = what + "[" + std::to_string(i) + "]";
    std::optional<std::string> name = reader.String((*items)[i], item_what);
    std::optional<CacheMode> mode = name ? ParseCacheMode(*name) : std::nullopt;
    if (mode) cache.modes |= static_cast<unsigned>(*mode);
    if (name && !mode) {
      reader.Error((*items)[i].Mark(), item_what +
                                           " must be LOCAL_SOURCE_CACHE, "
                                           "LOCAL_DOCKER_LAYER_CACHE or LOCAL_CUSTOM_CACHE");
    }
  }
}

// CodeBuild's `cache: {type, modes}`. S3 needs AWS: refused with what to use instead.
void ParseCache(ConfigReader& reader, const YamlEntry& entry, const std::string& what,
                Project& project) {
  std::optional<std::vector<YamlEntry>> fields = reader.Mapping(entry.value, what);
  if (!fields) return;
  reader.CheckKeys(*fields, what, kCacheKeys);
  const YamlEntry* type = FindEntry(*fields, "type");
  std::optional<std::string> name;
  if (type) name = reader.OneOf(type->value, what + ".type", kCacheTypes);
  if (!type) reader.Missing(entry.key_node.Mark(), what, "type");
  if (name == "S3") {
    reader.Error(type->value.Mark(),
                 what + ".type S3 needs Amazon S3, which Kiln does not reach: use LOCAL");
  }
  project.cache.type = name == "NO_CACHE" ? CacheType::kNoCache : CacheType::kLocal;
  const YamlEntry* modes = FindEntry(*fields, "modes");
  if (modes) ParseCacheModes(reader, modes->value, what + ".modes", project.cache);
  if (modes && project.cache.type == CacheType::kNoCache) {
    reader.Error(modes->key_node.Mark(), what + ".modes needs type LOCAL");
  }
  // CodeBuild: the Docker layer cache needs privileged mode.
  if (project.cache.has(CacheMode::kDockerLayer) && !project.environment.privileged) {
    reader.Error(modes->key_node.Mark(),
                 what + ".modes LOCAL_DOCKER_LAYER_CACHE needs environment.privilegedMode: true");
  }
}

Project ParseProject(ConfigReader& reader, const YamlEntry& entry) {
  std::string what = "projects." + entry.key;
  Project project{.name = entry.key, .line = LineOf(entry.key_node.Mark())};
  std::optional<std::vector<YamlEntry>> fields = reader.Mapping(entry.value, what);
  if (!fields) return project;
  reader.CheckKeys(*fields, what, kProjectKeys);
  if (const YamlEntry* buildspec = FindEntry(*fields, "buildspec")) {
    project.buildspec = Buildspec(reader, buildspec->value, what + ".buildspec");
  }
  if (const YamlEntry* timeout = FindEntry(*fields, "timeout")) {
    project.timeout_ms = Timeout(reader, timeout->value, what + ".timeout", project.timeout_ms);
  }
  if (const YamlEntry* environment = FindEntry(*fields, "environment")) {
    ParseEnvironment(reader, *environment, what + ".environment", project);
  }
  if (const YamlEntry* webhook = FindEntry(*fields, "webhook")) {
    project.webhook = ParseWebhook(reader, *webhook, what + ".webhook");
  }
  if (const YamlEntry* cache = FindEntry(*fields, "cache")) {  // after environment: privileged
    ParseCache(reader, *cache, what + ".cache", project);
  }
  return project;
}

}  // namespace

std::vector<Project> ParseProjects(ConfigReader& reader, const YAML::Node& node) {
  return ParseNamed(reader, node, "projects", &ParseProject);
}

}  // namespace kiln::spec::kiln_yml
