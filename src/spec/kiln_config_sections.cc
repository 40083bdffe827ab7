#include "spec/kiln_config_sections.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "base/json_text.h"
#include "spec/kiln_config_service.h"
#include "spec/schedule.h"
#include "spec/yaml_util.h"

namespace kiln::spec::kiln_yml {
namespace {

constexpr std::string_view kConnectionKeys[] = {"url", "arn", "token", "ssh_key", "webhook_secret",
                                                "poll"};
constexpr std::string_view kClusterKeys[] = {"provider", "engine"};
constexpr std::string_view kProviders[] = {"process", "docker", "swarm", "ecs"};
constexpr std::string_view kServerKeys[] = {"listen", "read_requires_token", "tokens", "hosts",
                                            "limits"};
constexpr std::string_view kTokenKeys[] = {"name", "role", "sha256", "token"};
constexpr std::string_view kRoles[] = {"read", "operate", "admin"};
constexpr int64_t kMinPollMs = 1000;

ValueRef OptionalValue(ConfigReader& reader, const YamlEntry* entry, const std::string& what,
                       ValuePolicy policy) {
  if (entry == nullptr) return {};
  return reader.Value(entry->value, what, policy).value_or(ValueRef{});
}

// An empty webhook secret would make every signature made with the empty key valid: refused
// here when it is written empty, and by `kiln serve` when a reference resolves empty.
ValueRef WebhookSecret(ConfigReader& reader, const YamlEntry* entry, const std::string& name,
                       const std::string& what) {
  if (entry == nullptr) return {};
  const YAML::Node& value = entry->value;
  if (value.IsNull() || (value.IsScalar() && value.Scalar().empty())) {
    YAML::Mark mark = value.Mark().is_null() ? entry->key_node.Mark() : value.Mark();
    reader.Error(mark, "connection '" + name + "': webhook_secret is empty");
    return {};
  }
  return OptionalValue(reader, entry, what, ValuePolicy::kSecret);
}

// A user name or password in the URL is a credential in git: https://TOKEN@host or
// https://user:pass@host. ssh://git@host names only the ssh user.
bool HasInlineCredentials(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return false;
  std::string_view authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find('/'));
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return false;
  bool ssh = url.starts_with("ssh://") || url.starts_with("git+ssh://");
  return !ssh || authority.substr(0, at).find(':') != std::string_view::npos;
}

std::string Url(ConfigReader& reader, const YAML::Node& node, const std::string& what) {
  std::optional<std::string> url = reader.String(node, what);
  if (!url) return "";
  if (HasInlineCredentials(*url)) {
    reader.Error(node.Mark(), what +
                                  " must not hold credentials inline: give them in token "
                                  "({file: ...}, {env: ...} or ${secret:...})");
    return "";
  }
  if (url->find_first_of(" \t\r\n") != std::string::npos) {
    reader.Error(node.Mark(), what + " must not contain whitespace");
    return "";
  }
  return *url;
}

std::string Arn(ConfigReader& reader, const YAML::Node& node, const std::string& what) {
  std::optional<std::string> arn = reader.String(node, what);
  if (arn && arn->starts_with("arn:")) return *arn;
  if (arn) reader.Error(node.Mark(), what + " must be an ARN (arn:...)");
  return "";
}

int64_t Poll(ConfigReader& reader, const YAML::Node& node, const std::string& what) {
  std::optional<int64_t> ms = reader.DurationMs(node, what);
  if (!ms || *ms == 0 || *ms >= kMinPollMs) return ms.value_or(0);
  reader.Error(node.Mark(), what + " must be 0 (no polling) or at least 1s");
  return 0;
}

// ssh_key names a key file; plain text is its path, unless it is the key itself.
ValueRef SshKey(ConfigReader& reader, const YamlEntry* entry, const std::string& what) {
  ValueRef ref = OptionalValue(reader, entry, what, ValuePolicy::kLiteralAllowed);
  if (ref.kind != ValueRef::Kind::kLiteral) return ref;
  if (ref.text.find("PRIVATE KEY") != std::string::npos) {
    reader.Error(entry->value.Mark(), what +
                                          " must not hold a secret inline: use {file: ...}, "
                                          "{env: ...}, ${env:...}, ${file:...} or "
                                          "${secret:...}");
    return {};
  }
  ref.kind = ValueRef::Kind::kFile;
  return ref;
}

Connection ParseConnection(ConfigReader& reader, const YamlEntry& entry) {
  std::string what = "connections." + entry.key;
  Connection connection{.name = entry.key, .line = LineOf(entry.key_node.Mark())};
  std::optional<std::vector<YamlEntry>> fields = reader.Mapping(entry.value, what);
  if (!fields) return connection;
  reader.CheckKeys(*fields, what, kConnectionKeys);
  if (const YamlEntry* url = FindEntry(*fields, "url")) {
    connection.url = Url(reader, url->value, what + ".url");
  } else {
    reader.Missing(entry.key_node.Mark(), what, "url");
  }
  if (const YamlEntry* arn = FindEntry(*fields, "arn")) {
    connection.arn = Arn(reader, arn->value, what + ".arn");
  }
  connection.token =
      OptionalValue(reader, FindEntry(*fields, "token"), what + ".token", ValuePolicy::kSecret);
  connection.webhook_secret = WebhookSecret(reader, FindEntry(*fields, "webhook_secret"), entry.key,
                                            what + ".webhook_secret");
  connection.ssh_key = SshKey(reader, FindEntry(*fields, "ssh_key"), what + ".ssh_key");
  if (const YamlEntry* poll = FindEntry(*fields, "poll")) {
    connection.poll_ms = Poll(reader, poll->value, what + ".poll");
  }
  return connection;
}

// An engine is a unix socket for now: unix:///absolute/path.
std::string Engine(ConfigReader& reader, const YAML::Node& node, const std::string& what) {
  std::optional<std::string> url = reader.String(node, what);
  if (!url) return "";
  if (url->starts_with("unix:///") && url->size() > 8) return *url;
  reader.Error(node.Mark(), what + " must be a unix socket URL such as " +
                                std::string(kDefaultEngine) + ", not '" + url->substr(0, 60) +
                                "' (other transports are not supported yet)");
  return "";
}

Cluster ParseCluster(ConfigReader& reader, const YamlEntry& entry) {
  std::string what = "clusters." + entry.key;
  Cluster cluster{.name = entry.key, .line = LineOf(entry.key_node.Mark())};
  std::optional<std::vector<YamlEntry>> fields = reader.Mapping(entry.value, what);
  if (!fields) return cluster;
  reader.CheckKeys(*fields, what, kClusterKeys);
  if (const YamlEntry* provider = FindEntry(*fields, "provider")) {
    cluster.provider =
        reader.OneOf(provider->value, what + ".provider", kProviders).value_or(cluster.provider);
  }
  bool engine_based = cluster.provider == "docker" || cluster.provider == "swarm";
  if (engine_based) cluster.engine = kDefaultEngine;
  if (const YamlEntry* engine = FindEntry(*fields, "engine")) {
    if (!engine_based) {
      reader.Error(engine->key_node.Mark(), what +
                                                ".engine applies to providers docker and "
                                                "swarm, not " +
                                                cluster.provider);
    } else if (std::string url = Engine(reader, engine->value, what + ".engine"); !url.empty()) {
      cluster.engine = url;
    }
  }
  return cluster;
}

// A file path (relative to kiln.yml's folder, kept as written), or the structure inline.
PipelineRef ParsePipelineRef(ConfigReader& reader, const YamlEntry& entry) {
  std::string what = "pipelines." + entry.key;
  PipelineRef ref{.name = entry.key, .line = LineOf(entry.key_node.Mark())};
  const YAML::Node& value = entry.value;
  if (value.IsScalar()) {
    ref.path = reader.String(value, what).value_or("");
  } else if (!value.IsMap()) {
    reader.Error(value.Mark(), what +
                                   " must be a file path or the pipeline structure inline, "
                                   "not " +
                                   std::string(KindName(value)));
  } else if (!FindEntry(value, "stages") && !FindEntry(value, "pipeline")) {
    reader.Error(entry.key_node.Mark(), what +
                                            " inline must hold a CodePipeline structure "
                                            "(stages, or {pipeline: {...}})");
  } else {
    ref.inline_json = base::JsonText(YamlToJson(value));
  }
  return ref;
}

void CheckUniqueArns(ConfigReader& reader, const YAML::Node& node,
                     const std::vector<Connection>& connections) {
  for (size_t i = 0; i < connections.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (connections[i].arn.empty() || connections[i].arn != connections[j].arn) continue;
      std::optional<YamlEntry> entry = FindEntry(node, connections[i].name);
      reader.Error(entry ? entry->key_node.Mark() : node.Mark(),
                   "connections." + connections[i].name + " has the same arn as connections." +
                       connections[j].name);
    }
  }
}

std::string Sha256(ConfigReader& reader, const YAML::Node& node, const std::string& what) {
  std::optional<std::string> text = reader.String(node, what);
  if (!text) return "";
  bool hex = text->size() == 64 && std::all_of(text->begin(), text->end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c));
             });
  if (!hex) {
    reader.Error(node.Mark(), what +
                                  " must be 64 hexadecimal digits: the SHA-256 of the token "
                                  "(printf %s TOKEN | sha256sum)");
    return "";
  }
  std::transform(text->begin(), text->end(), text->begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return *text;
}

std::string TokenName(ConfigReader& reader, const YAML::Node& node, const std::string& what) {
  std::optional<std::string> name = reader.String(node, what);
  if (name && IsResourceName(*name)) return *name;
  if (name) reader.Error(node.Mark(), what + " must be 1 to 100 letters, digits, '.', '_' or '-'");
  return "";
}

// A token entry: name, role, and either the token's sha256 or the token from a file or the
// environment (never inline).
TokenSpec ParseToken(ConfigReader& reader, const YAML::Node& node, const std::string& what) {
  TokenSpec token;
  std::optional<std::vector<YamlEntry>> fields = reader.Mapping(node, what);
  if (!fields) return token;
  reader.CheckKeys(*fields, what, kTokenKeys);
  const YamlEntry* name = FindEntry(*fields, "name");
  const YamlEntry* role = FindEntry(*fields, "role");
  const YamlEntry* sha256 = FindEntry(*fields, "sha256");
  const YamlEntry* secret = FindEntry(*fields, "token");
  if (name) token.name = TokenName(reader, name->value, what + ".name");
  if (role) token.role = reader.OneOf(role->value, what + ".role", kRoles).value_or("");
  if (sha256) token.sha256 = Sha256(reader, sha256->value, what + ".sha256");
  token.token = OptionalValue(reader, secret, what + ".token", ValuePolicy::kSecret);
  if (!name) reader.Missing(node.Mark(), what, "name");
  if (!role) reader.Missing(node.Mark(), what, "role");
  if ((sha256 == nullptr) == (secret == nullptr)) {
    reader.Error(node.Mark(), what +
                                  " needs exactly one of sha256 (the token's digest) or token "
                                  "({file: ...}, {env: ...} or ${secret:...})");
  }
  return token;
}

void CheckNewToken(ConfigReader& reader, const YAML::Node& node, const std::string& what,
                   const TokenSpec& token, const std::vector<TokenSpec>& tokens) {
  for (const TokenSpec& other : tokens) {
    if (!token.name.empty() && token.name == other.name) {
      reader.Error(node.Mark(), what + ": two tokens are named '" + token.name + "'");
    } else if (!token.sha256.empty() && token.sha256 == other.sha256) {
      reader.Error(node.Mark(), what + " has the same sha256 as token '" + other.name + "'");
    }
  }
}

}  // namespace

std::vector<Connection> ParseConnections(ConfigReader& reader, const YAML::Node& node) {
  std::vector<Connection> connections = ParseNamed(reader, node, "connections", &ParseConnection);
  CheckUniqueArns(reader, node, connections);
  return connections;
}

std::vector<Cluster> ParseClusters(ConfigReader& reader, const YAML::Node& node) {
  return ParseNamed(reader, node, "clusters", &ParseCluster);
}

std::vector<Service> ParseServices(ConfigReader& reader, const YAML::Node& node) {
  return ParseNamed(reader, node, "services", &ParseService);
}

Schedule ParseScheduleEntry(ConfigReader& reader, const YamlEntry& entry) {
  static constexpr std::string_view kKeys[] = {"pipeline", "expression"};
  std::string what = "schedules." + entry.key;
  Schedule schedule{.name = entry.key, .line = LineOf(entry.key_node.Mark())};
  std::optional<std::vector<YamlEntry>> fields = reader.Mapping(entry.value, what);
  if (!fields) return schedule;
  reader.CheckKeys(*fields, what, kKeys);
  const YamlEntry* pipeline = FindEntry(*fields, "pipeline");
  const YamlEntry* expression = FindEntry(*fields, "expression");
  if (!pipeline || !expression) {
    reader.Error(entry.key_node.Mark(), what + " needs pipeline and expression");
    return schedule;
  }
  schedule.pipeline = reader.String(pipeline->value, what + ".pipeline").value_or("");
  schedule.expression = reader.String(expression->value, what + ".expression").value_or("");
  std::string error;
  if (!spec::ParseSchedule(schedule.expression, &error)) {
    reader.Error(expression->value.Mark(), what + ".expression: " + error);
  }
  return schedule;
}

std::vector<Schedule> ParseSchedules(ConfigReader& reader, const YAML::Node& node) {
  return ParseNamed(reader, node, "schedules", &ParseScheduleEntry);
}

std::vector<PipelineRef> ParsePipelines(ConfigReader& reader, const YAML::Node& node) {
  return ParseNamed(reader, node, "pipelines", &ParsePipelineRef);
}

std::map<std::string, ValueRef> ParseValueSources(ConfigReader& reader, const YAML::Node& node,
                                                  const std::string& section) {
  bool secrets = section == "secrets";
  std::map<std::string, ValueRef> out;
  std::optional<std::vector<YamlEntry>> entries = reader.Mapping(node, section);
  for (size_t i = 0; entries && i < entries->size(); ++i) {
    const YamlEntry& entry = (*entries)[i];
    if (secrets ? !IsSecretName(entry.key) : !IsParameterName(entry.key)) {
      reader.Error(entry.key_node.Mark(),
                   "invalid name '" + entry.key + "' in " + section +
                       (secrets ? ": use 1 to 512 letters, digits and /_+=.@-"
                                : ": use 1 to 2048 letters, digits and _.-/"));
      continue;
    }
    std::optional<ValueRef> ref =
        reader.Value(entry.value, section + "." + entry.key,
                     secrets ? ValuePolicy::kSecretStore : ValuePolicy::kSecret);
    if (ref) out[entry.key] = std::move(*ref);
  }
  return out;
}

void ParseServer(ConfigReader& reader, const YAML::Node& node, ServerSettings& server) {
  std::optional<std::vector<YamlEntry>> fields = reader.Mapping(node, "server");
  if (!fields) return;
  reader.CheckKeys(*fields, "server", kServerKeys);
  if (const YamlEntry* listen = FindEntry(*fields, "listen")) {
    server.listen = reader.Listen(listen->value, "server.listen").value_or(server.listen);
  }
  if (const YamlEntry* read = FindEntry(*fields, "read_requires_token")) {
    server.read_requires_token =
        reader.Bool(read->value, "server.read_requires_token").value_or(server.read_requires_token);
  }
  if (const YamlEntry* tokens = FindEntry(*fields, "tokens")) {
    ParseTokens(reader, tokens->value, "server.tokens", server.tokens);
  }
  if (const YamlEntry* hosts = FindEntry(*fields, "hosts")) {
    ParseServerHosts(reader, hosts->value, server.hosts);
  }
  if (const YamlEntry* limits = FindEntry(*fields, "limits")) {
    ParseServerLimits(reader, limits->value, server.limits);
  }
}

void ParseTokens(ConfigReader& reader, const YAML::Node& node, const std::string& what,
                 std::vector<TokenSpec>& tokens) {
  std::optional<std::vector<YAML::Node>> items = reader.Sequence(node, what);
  for (size_t i = 0; items && i < items->size(); ++i) {
    std::string item_what = what + "[" + std::to_string(i) + "]";
    TokenSpec token = ParseToken(reader, (*items)[i], item_what);
    CheckNewToken(reader, (*items)[i], item_what, token, tokens);
    tokens.push_back(std::move(token));
  }
}

}  // namespace kiln::spec::kiln_yml
