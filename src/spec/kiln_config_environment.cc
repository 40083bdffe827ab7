// projects.NAME.environment's CodeBuild fields (CreateProject's ProjectEnvironment,
// AWS-CONTAINERS.md 1.1) and the `registry` section.
#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "spec/kiln_config_sections.h"

namespace kiln::spec::kiln_yml {
namespace {

constexpr std::string_view kRegistryKeys[] = {"listen", "url", "username", "password"};
constexpr std::string_view kCredentialKeys[] = {"credential", "credentialProvider"};
constexpr std::string_view kVariableKeys[] = {"name", "value", "type"};
constexpr std::string_view kTypes[] = {"LINUX_CONTAINER"};
// CodeBuild's other environment types: understood, not run here.
constexpr std::string_view kOtherTypes[] = {"LINUX_GPU_CONTAINER",
                                            "ARM_CONTAINER",
                                            "WINDOWS_CONTAINER",
                                            "WINDOWS_SERVER_2019_CONTAINER",
                                            "WINDOWS_SERVER_2022_CONTAINER",
                                            "LINUX_LAMBDA_CONTAINER",
                                            "ARM_LAMBDA_CONTAINER",
                                            "LINUX_EC2",
                                            "ARM_EC2",
                                            "WINDOWS_EC2",
                                            "MAC_ARM"};
constexpr std::string_view kComputeTypes[] = {"BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM",
                                              "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_XLARGE",
                                              "BUILD_GENERAL1_2XLARGE"};
constexpr std::string_view kPullCredentials[] = {"CODEBUILD", "SERVICE_ROLE"};
constexpr std::string_view kVariableTypes[] = {"PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER"};
constexpr std::string_view kNetworks[] = {"host", "bridge", "none"};

bool IsOneOf(std::span<const std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

void ParseType(ConfigReader& reader, const YamlEntry& e, const std::string& what) {
  std::optional<std::string> type = reader.String(e.value, what + ".type");
  if (!type || IsOneOf(kTypes, *type)) return;
  reader.Error(e.value.Mark(),
               what + ".type " + *type +
                   (IsOneOf(kOtherTypes, *type)
                        ? " is not supported by Kiln: builds run in Linux containers "
                          "(LINUX_CONTAINER)"
                        : " is not a CodeBuild environment type (expected LINUX_CONTAINER)"));
}

TypedVariable ParseTypedVariable(ConfigReader& reader, const YAML::Node& node,
                                 const std::string& what) {
  TypedVariable v;
  std::optional<std::vector<YamlEntry>> fields = reader.Mapping(node, what);
  if (!fields) return v;
  reader.CheckKeys(*fields, what, kVariableKeys);
  const YamlEntry* name = FindEntry(*fields, "name");
  const YamlEntry* value = FindEntry(*fields, "value");
  if (!name) reader.Missing(node.Mark(), what, "name");
  if (!value) reader.Missing(node.Mark(), what, "value");
  if (name) v.name = reader.String(name->value, what + ".name").value_or("");
  if (!v.name.empty() && (!IsEnvName(v.name) || v.name.starts_with("CODEBUILD_"))) {
    reader.Error(name->value.Mark(),
                 what + ".name '" + v.name + "' is not a variable name (CODEBUILD_ is reserved)");
  }
  if (value) v.value = reader.String(value->value, what + ".value", true).value_or("");
  if (const YamlEntry* type = FindEntry(*fields, "type")) {
    std::optional<std::string> t = reader.OneOf(type->value, what + ".type", kVariableTypes);
    if (t == "PARAMETER_STORE") {
      v.type = VariableType::kParameterStore;
      reader.Refer(PendingReference::Kind::kSecretOrParameter, v.value, value->value.Mark(),
                   what + ".value");
    } else if (t == "SECRETS_MANAGER") {
      v.type = VariableType::kSecretsManager;
      reader.Refer(PendingReference::Kind::kSecret, v.value.substr(0, v.value.find(':')),
                   value->value.Mark(), what + ".value");
    }
  }
  return v;
}

void ParseTypedVariables(ConfigReader& reader, const YamlEntry& e, const std::string& what,
                         std::vector<TypedVariable>& out) {
  std::optional<std::vector<YAML::Node>> items = reader.Sequence(e.value, what);
  for (size_t i = 0; items && i < items->size(); ++i) {
    out.push_back(ParseTypedVariable(reader, (*items)[i], what + "[" + std::to_string(i) + "]"));
  }
}

void ParseRegistryCredential(ConfigReader& reader, const YamlEntry& e, const std::string& what,
                             BuildEnvironment& env) {
  std::optional<std::vector<YamlEntry>> fields = reader.Mapping(e.value, what);
  if (!fields) return;
  reader.CheckKeys(*fields, what, kCredentialKeys);
  const YamlEntry* credential = FindEntry(*fields, "credential");
  if (!credential) return reader.Missing(e.value.Mark(), what, "credential");
  env.registry_credential = reader.String(credential->value, what + ".credential").value_or("");
  if (!env.registry_credential.empty()) {
    reader.Refer(PendingReference::Kind::kSecret, env.registry_credential, credential->value.Mark(),
                 what + ".credential");
  }
  if (const YamlEntry* provider = FindEntry(*fields, "credentialProvider")) {
    constexpr std::string_view kProviders[] = {"SECRETS_MANAGER"};
    (void)reader.OneOf(provider->value, what + ".credentialProvider", kProviders);
  }
}

}  // namespace

void ParseBuildEnvironment(ConfigReader& reader, const std::vector<YamlEntry>& fields,
                           const std::string& what, BuildEnvironment& env) {
  if (const YamlEntry* e = FindEntry(fields, "type")) ParseType(reader, *e, what);
  if (const YamlEntry* e = FindEntry(fields, "image")) {
    env.image = reader.String(e->value, what + ".image").value_or("");
    if (!env.image.empty() && !IsImageReference(env.image)) {
      reader.Error(e->value.Mark(), what + ".image '" + env.image +
                                        "' is not an image reference (REPOSITORY[:TAG] or "
                                        "REPOSITORY@sha256:DIGEST)");
    }
  }
  if (const YamlEntry* e = FindEntry(fields, "computeType")) {
    std::optional<std::string> t = reader.OneOf(e->value, what + ".computeType", kComputeTypes);
    if (t) env.compute_type = ParseComputeType(*t).value_or(env.compute_type);
  }
  if (const YamlEntry* e = FindEntry(fields, "privilegedMode")) {
    env.privileged = reader.Bool(e->value, what + ".privilegedMode").value_or(false);
  }
  if (const YamlEntry* e = FindEntry(fields, "imagePullCredentialsType")) {
    std::optional<std::string> t =
        reader.OneOf(e->value, what + ".imagePullCredentialsType", kPullCredentials);
    if (t == "SERVICE_ROLE") env.pull_credentials = ImagePullCredentials::kServiceRole;
  }
  if (const YamlEntry* e = FindEntry(fields, "registryCredential")) {
    ParseRegistryCredential(reader, *e, what + ".registryCredential", env);
  }
  if (const YamlEntry* e = FindEntry(fields, "environmentVariables")) {
    ParseTypedVariables(reader, *e, what + ".environmentVariables", env.variables);
  }
  if (const YamlEntry* e = FindEntry(fields, "network")) {
    std::optional<std::string> n = reader.OneOf(e->value, what + ".network", kNetworks);
    if (n == "host") env.network = BuildNetwork::kHost;
    if (n == "bridge") env.network = BuildNetwork::kBridge;
    if (n == "none") env.network = BuildNetwork::kNone;
  }
  if (const YamlEntry* e = FindEntry(fields, "cluster")) {
    env.cluster = reader.String(e->value, what + ".cluster").value_or("");
    if (!env.cluster.empty()) {
      reader.Refer(PendingReference::Kind::kSwarmCluster, env.cluster, e->value.Mark(),
                   what + ".cluster");
    }
  }
  bool container_only = env.privileged || env.network != BuildNetwork::kAuto ||
                        !env.registry_credential.empty() || !env.cluster.empty();
  if (env.image.empty() && container_only) {
    reader.Error(fields.front().key_node.Mark(),
                 what +
                     ": privilegedMode, network, registryCredential and cluster apply to "
                     "builds in a container: set image too");
  }
}

// Digits naming a port 1-65535.
bool IsPort(std::string_view text) {
  int port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return ec == std::errc() && end == text.data() + text.size() && port >= 1 && port <= 65535 &&
         text.find_first_not_of("0123456789") == std::string_view::npos;
}

bool IsIpLiteral(std::string_view host) {
  unsigned char addr[16];
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    std::string inner(host.substr(1, host.size() - 2));
    return ::inet_pton(AF_INET6, inner.c_str(), addr) == 1;
  }
  return ::inet_pton(AF_INET, std::string(host).c_str(), addr) == 1;
}

bool IsHostName(std::string_view host) {
  return !host.empty() && host.size() <= 253 && host.front() != '-' && host.front() != '.' &&
         host.find_first_not_of(
             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") ==
             std::string_view::npos;
}

// listen: an address this machine has (an IP literal, or localhost) and a port 1-65535, so
// docker-registry binds where the user meant and never on a name that may resolve elsewhere.
bool IsRegistryListen(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = text.substr(0, colon);
  return IsPort(text.substr(colon + 1)) && (host == "localhost" || IsIpLiteral(host));
}

// url: HOST[:PORT], as the first part of an image name.
bool IsRegistryUrl(std::string_view text) {
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos || !IsIpLiteral(text.substr(0, close + 1))) return false;
    std::string_view rest = text.substr(close + 1);
    return rest.empty() || (rest.front() == ':' && IsPort(rest.substr(1)));
  }
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return IsHostName(text);
  return IsHostName(text.substr(0, colon)) && IsPort(text.substr(colon + 1));
}

void ParseRegistry(ConfigReader& reader, const YAML::Node& node, Registry& registry) {
  std::optional<std::vector<YamlEntry>> fields = reader.Mapping(node, "registry");
  if (!fields) return;
  registry.line = node.Mark().line + 1;
  reader.CheckKeys(*fields, "registry", kRegistryKeys);
  const YamlEntry* listen = FindEntry(*fields, "listen");
  const YamlEntry* url = FindEntry(*fields, "url");
  if (listen && url) {
    reader.Error(url->key_node.Mark(),
                 "registry: give listen (Kiln runs a registry) or url (yours), not both");
  } else if (!listen && !url) {
    reader.Error(node.Mark(), "registry needs listen (e.g. 127.0.0.1:5000) or url");
  }
  if (listen) {
    registry.listen = reader.Listen(listen->value, "registry.listen").value_or("");
    if (!registry.listen.empty() && !IsRegistryListen(registry.listen)) {
      reader.Error(listen->value.Mark(),
                   "registry.listen must be an IP address (e.g. 127.0.0.1) or localhost and a "
                   "port 1-65535, not '" +
                       registry.listen + "'");
    }
  }
  if (url) {
    registry.url = reader.String(url->value, "registry.url").value_or("");
    if (!IsRegistryUrl(registry.url)) {
      reader.Error(url->value.Mark(),
                   "registry.url is HOST[:PORT] (port 1-65535, no scheme), as image names start "
                   "with it");
    }
  }
  const YamlEntry* username = FindEntry(*fields, "username");
  const YamlEntry* password = FindEntry(*fields, "password");
  if ((username || password) && listen) {
    reader.Error((username ? username : password)->key_node.Mark(),
                 "registry: username and password are for url; Kiln makes the credentials of "
                 "the registry it runs");
  }
  if (url && !listen && (!username || !password)) {
    reader.Error(node.Mark(), "registry.url needs username and password (the login for it)");
  }
  if (username)
    registry.username = reader.String(username->value, "registry.username").value_or("");
  if (password) {
    registry.password = reader.Value(password->value, "registry.password", ValuePolicy::kSecret)
                            .value_or(ValueRef{});
  }
}

}  // namespace kiln::spec::kiln_yml
