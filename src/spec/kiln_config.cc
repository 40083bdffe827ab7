#include "spec/kiln_config.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <utility>

#include "base/files.h"
#include "spec/kiln_config_reader.h"
#include "spec/kiln_config_sections.h"
#include "spec/yaml_util.h"

namespace kiln::spec {
namespace {

using kiln_yml::ConfigReader;
using kiln_yml::FindEntry;
using kiln_yml::PendingReference;
using kiln_yml::YamlEntry;

constexpr std::string_view kTopLevelKeys[] = {"connections", "projects",   "clusters", "services",
                                              "pipelines",   "parameters", "secrets",  "server",
                                              "tokens",      "schedules",  "registry"};
constexpr size_t kMaxValueFileBytes = 1 << 20;

template <typename T>
const T* FindNamed(const std::vector<T>& items, std::string_view name) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& t) { return t.name == name; });
  return it != items.end() ? &*it : nullptr;
}

void ReadSection(ConfigReader& reader, const YamlEntry& entry, KilnConfig& config) {
  const std::string& key = entry.key;
  const YAML::Node& node = entry.value;
  if (key == "connections") config.connections = kiln_yml::ParseConnections(reader, node);
  if (key == "projects") config.projects = kiln_yml::ParseProjects(reader, node);
  if (key == "clusters") config.clusters = kiln_yml::ParseClusters(reader, node);
  if (key == "services") config.services = kiln_yml::ParseServices(reader, node);
  if (key == "pipelines") config.pipelines = kiln_yml::ParsePipelines(reader, node);
  if (key == "schedules") config.schedules = kiln_yml::ParseSchedules(reader, node);
  if (key == "parameters") config.parameters = kiln_yml::ParseValueSources(reader, node, key);
  if (key == "secrets") config.secrets = kiln_yml::ParseValueSources(reader, node, key);
  if (key == "server") kiln_yml::ParseServer(reader, node, config.server);
  if (key == "tokens") kiln_yml::ParseTokens(reader, node, "tokens", config.server.tokens);
  if (key == "registry") kiln_yml::ParseRegistry(reader, node, config.registry);
}

// The message for a reference to nothing, or empty when the name exists.
std::string CheckReference(const PendingReference& ref, const KilnConfig& config) {
  switch (ref.kind) {
    case PendingReference::Kind::kSecret:
      if (config.secrets.contains(ref.name)) return "";
      return ref.what + " refers to secret '" + ref.name + "', which secrets does not define";
    case PendingReference::Kind::kSecretOrParameter:
      if (config.secrets.contains(ref.name) || config.parameters.contains(ref.name)) return "";
      return ref.what + " refers to '" + ref.name +
             "', which neither secrets nor parameters defines";
    case PendingReference::Kind::kCluster:
      if (config.FindCluster(ref.name)) return "";
      return ref.what + " names cluster '" + ref.name + "', which clusters does not define" +
             (ref.name == "default" ? " (a service without a cluster runs on 'default', as in ECS)"
                                    : "");
    case PendingReference::Kind::kSwarmCluster:
      if (const Cluster* c = config.FindCluster(ref.name)) {
        if (c->provider == "swarm") return "";
        return ref.what + " names cluster '" + ref.name + "', whose provider is " + c->provider +
               ": builds run as jobs on swarm clusters only";
      }
      return ref.what + " names cluster '" + ref.name + "', which clusters does not define";
    case PendingReference::Kind::kConnection:
      if (config.FindConnection(ref.name)) return "";
      return ref.what + " names connection '" + ref.name + "', which connections does not define";
  }
  return "";
}

// Where every address Kiln listens on is written: the server's and the load balancers'.
struct Listener {
  std::string address;
  YAML::Mark mark;
  std::string what;
};

std::vector<Listener> Listeners(const YAML::Node& root, const KilnConfig& config) {
  std::vector<Listener> out;
  std::optional<YamlEntry> server = FindEntry(root, "server");
  if (std::optional<YamlEntry> listen =
          server ? FindEntry(server->value, "listen") : std::nullopt) {
    out.push_back({config.server.listen, listen->value.Mark(), "server.listen"});
  }
  std::optional<YamlEntry> registry = FindEntry(root, "registry");
  if (std::optional<YamlEntry> listen =
          registry ? FindEntry(registry->value, "listen") : std::nullopt) {
    out.push_back({config.registry.listen, listen->value.Mark(), "registry.listen"});
  }
  std::optional<YamlEntry> services = FindEntry(root, "services");
  for (const Service& service : config.services) {
    std::optional<YamlEntry> entry = FindEntry(services->value, service.name);
    std::optional<YamlEntry> balancer = FindEntry(entry->value, "loadBalancer");
    std::optional<YamlEntry> listen =
        balancer ? FindEntry(balancer->value, "listen") : std::nullopt;
    if (listen && listen->value.IsScalar()) {
      out.push_back({listen->value.Scalar(), listen->value.Mark(),
                     "services." + service.name + ".loadBalancer.listen"});
    }
  }
  return out;
}

std::string_view Port(std::string_view address) { return address.substr(address.rfind(':') + 1); }

bool Collide(std::string_view a, std::string_view b) {
  auto wildcard = [](std::string_view x) {
    return x.starts_with("0.0.0.0:") || x.starts_with("[::]:");
  };
  if (Port(a) == "0" || Port(b) == "0") return false;  // the system picks distinct ports
  return a == b || (Port(a) == Port(b) && (wildcard(a) || wildcard(b)));
}

void CheckListeners(ConfigReader& reader, const YAML::Node& root, const KilnConfig& config) {
  std::vector<Listener> listeners = Listeners(root, config);
  for (size_t i = 0; i < listeners.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (!Collide(listeners[i].address, listeners[j].address)) continue;
      reader.Error(listeners[i].mark, listeners[i].what + " uses the address of " +
                                          listeners[j].what + " (" + listeners[j].address + ")");
    }
  }
}

KilnConfig ReadConfig(ConfigReader& reader, const YAML::Node& root, const std::string& file) {
  KilnConfig config{.file = file};
  std::optional<std::vector<YamlEntry>> entries = reader.Mapping(root, "kiln.yml");
  if (!entries) return config;
  reader.CheckKeys(*entries, "kiln.yml", kTopLevelKeys);
  for (const YamlEntry& entry : *entries) ReadSection(reader, entry, config);
  for (const PendingReference& ref : reader.references()) {
    std::string problem = CheckReference(ref, config);
    if (!problem.empty()) reader.Error(ref.mark, std::move(problem));
  }
  if (reader.error_count() == 0) CheckListeners(reader, root, config);
  for (const Schedule& s : config.schedules) {
    bool known = std::any_of(config.pipelines.begin(), config.pipelines.end(),
                             [&](const PipelineRef& p) { return p.name == s.pipeline; });
    if (!known && !s.pipeline.empty()) {
      reader.Error(FindEntry(FindEntry(root, "schedules")->value, s.name)->key_node.Mark(),
                   "schedules." + s.name + " names pipeline '" + s.pipeline +
                       "', which pipelines does not define");
    }
  }
  return config;
}

ParsedConfig ParseChecked(std::string_view text, const std::string& file,
                          const KilnConfigLimits& limits) {
  ParsedConfig result;
  GuardedYaml yaml =
      LoadChecked(text, file, "kiln.yml", limits.max_bytes, limits.max_depth, limits.max_nodes);
  result.diagnostics = std::move(yaml.diagnostics);
  if (!result.diagnostics.empty()) return result;
  ConfigReader reader(file, result.diagnostics);
  KilnConfig config = ReadConfig(reader, yaml.root, file);
  if (result.diagnostics.empty()) result.config = std::move(config);
  return result;
}

ResolvedValue Failed(std::string error) { return {.ok = false, .error = std::move(error)}; }

ResolvedValue ReadValueFile(const std::string& path, const KilnConfig& config) {
  std::filesystem::path full(path);
  if (full.is_relative() && !config.file.empty()) {
    full = std::filesystem::path(config.file).parent_path() / full;
  }
  base::Result<std::string> text = base::ReadFile(full, kMaxValueFileBytes);
  if (!text.ok()) return Failed("cannot read " + text.status().message());
  std::string value = std::move(text.value());
  if (value.ends_with('\n')) value.pop_back();
  if (value.ends_with('\r')) value.pop_back();
  return {.ok = true, .value = std::move(value)};
}

// follow_secret: whether a ${secret:} may be looked up (only from outside the store).
ResolvedValue Resolve(const ValueRef& ref, const KilnConfig& config, bool follow_secret) {
  switch (ref.kind) {
    case ValueRef::Kind::kNone:
      return Failed("no value is given");
    case ValueRef::Kind::kLiteral:
      return {.ok = true, .value = ref.text};
    case ValueRef::Kind::kEnv:
      if (const char* value = std::getenv(ref.text.c_str())) return {.ok = true, .value = value};
      return Failed("environment variable " + ref.text + " is not set");
    case ValueRef::Kind::kFile:
      return ReadValueFile(ref.text, config);
    case ValueRef::Kind::kSecret:
      break;
  }
  auto it = config.secrets.find(ref.text);
  if (it == config.secrets.end()) return Failed("secret '" + ref.text + "' is not defined");
  if (!follow_secret || it->second.kind == ValueRef::Kind::kSecret) {
    return Failed("secret '" + ref.text + "' refers to another secret");
  }
  ResolvedValue value = Resolve(it->second, config, false);
  if (!value.ok) value.error = "secret '" + ref.text + "': " + value.error;
  return value;
}

}  // namespace

const Connection* KilnConfig::FindConnection(std::string_view name_or_arn) const {
  if (const Connection* by_name = FindNamed(connections, name_or_arn)) return by_name;
  auto it = std::find_if(connections.begin(), connections.end(), [&](const Connection& c) {
    return !c.arn.empty() && c.arn == name_or_arn;
  });
  return it != connections.end() ? &*it : nullptr;
}

const Project* KilnConfig::FindProject(std::string_view name) const {
  return FindNamed(projects, name);
}

const Service* KilnConfig::FindService(std::string_view name) const {
  return FindNamed(services, name);
}

const Cluster* KilnConfig::FindCluster(std::string_view name) const {
  return FindNamed(clusters, name);
}

ParsedConfig ParseKilnConfig(std::string_view text, const std::string& file,
                             const KilnConfigLimits& limits) {
  try {
    return ParseChecked(text, file, limits);
  } catch (const std::exception& e) {
    // yaml-cpp errors are caught where they arise; this guards against anything else.
    ParsedConfig result;
    result.diagnostics.push_back(
        Diagnostic{.file = file, .message = std::string("cannot read kiln.yml: ") + e.what()});
    return result;
  }
}

ResolvedValue ResolveValue(const ValueRef& ref, const KilnConfig& config) {
  try {
    return Resolve(ref, config, true);
  } catch (const std::exception& e) {
    return Failed(std::string("cannot resolve the value: ") + e.what());
  }
}

}  // namespace kiln::spec
