// Pieces shared by the kiln.yml parser (kiln_config*.cc): a reader that checks YAML nodes and
// records each problem at its position, and the YAML -> JSON conversion kept for services and
// inline pipelines. Internal to src/spec; namespace kiln_yml keeps its names to itself.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "spec/diagnostic.h"
#include "spec/kiln_config.h"

namespace kiln::spec::kiln_yml {

// JSON that keeps the order the user wrote keys in.
using OrderedJson = nlohmann::ordered_json;

// One entry of a mapping whose key is a string.
struct YamlEntry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

// What a field holding a ValueRef may contain (DESIGN.md: secrets never sit inline in git).
enum class ValuePolicy {
  kLiteralAllowed,  // a non-secret field: plain text is the value itself
  kSecret,          // only {file:}, {env:}, ${env:}, ${file:} or ${secret:}
  kSecretStore,     // an entry of `secrets`, the root store: no ${secret:} either
};

// A name used before every resource is known; checked once the whole file is read.
struct PendingReference {
  // kSwarmCluster: a cluster whose provider must be swarm (a build's environment.cluster).
  enum class Kind { kSecret, kSecretOrParameter, kCluster, kSwarmCluster, kConnection } kind;
  std::string name;
  YAML::Mark mark;
  std::string what;  // the field holding the name, for the message
};

// Reads nodes of one kiln.yml. Each accessor reports a problem (naming `what`, the field's
// dotted path) into the Diagnostics it was given and returns nullopt; none throws.
class ConfigReader {
 public:
  ConfigReader(const std::string& file, Diagnostics& out) : file_(file), out_(out) {}

  void Error(const YAML::Mark& mark, std::string message);
  size_t error_count() const { return out_.size(); }

  // The entries of a mapping (null counts as empty); a non-string key is reported and skipped.
  std::optional<std::vector<YamlEntry>> Mapping(const YAML::Node& node, const std::string& what);
  std::optional<std::vector<YAML::Node>> Sequence(const YAML::Node& node, const std::string& what);
  // Reports every key that is not one of `known`.
  void CheckKeys(const std::vector<YamlEntry>& entries, const std::string& what,
                 std::span<const std::string_view> known);
  void UnknownKey(const YamlEntry& entry, const std::string& what,
                  std::span<const std::string_view> expected);
  // Reports `key` missing from `what`, at `mark`.
  void Missing(const YAML::Mark& mark, const std::string& what, std::string_view key);

  // A scalar's text; empty text is refused unless allow_empty.
  std::optional<std::string> String(const YAML::Node& node, const std::string& what,
                                    bool allow_empty = false);
  std::optional<std::string> OneOf(const YAML::Node& node, const std::string& what,
                                   std::span<const std::string_view> choices);
  std::optional<int64_t> Integer(const YAML::Node& node, const std::string& what, int64_t min,
                                 int64_t max);
  std::optional<bool> Bool(const YAML::Node& node, const std::string& what);
  // "90s", "20m", "1h30m", "500ms"; a bare integer is seconds. In milliseconds.
  std::optional<int64_t> DurationMs(const YAML::Node& node, const std::string& what);
  // "host:port" ("[::1]:8080" for IPv6); port 0 lets the system pick one.
  std::optional<std::string> Listen(const YAML::Node& node, const std::string& what);
  // A resource name ([A-Za-z0-9._-]{1,100}), read from a mapping key.
  bool Name(const YamlEntry& entry, const std::string& what);
  std::optional<ValueRef> Value(const YAML::Node& node, const std::string& what,
                                ValuePolicy policy);

  void Refer(PendingReference::Kind kind, std::string name, const YAML::Mark& mark,
             std::string what);
  const std::vector<PendingReference>& references() const { return references_; }

 private:
  std::optional<ValueRef> MappedValue(const YAML::Node& node, const std::string& what);
  std::optional<ValueRef> ScalarValue(const YAML::Node& node, const std::string& what,
                                      ValuePolicy policy);
  bool CheckRefName(const ValueRef& ref, const YAML::Mark& mark, const std::string& what);

  const std::string& file_;
  Diagnostics& out_;
  std::vector<PendingReference> references_;
};

// Parses the mapping of named resources in a section (e.g. "connections"): each entry whose
// key is a valid name goes through parse, in file order.
template <typename T>
std::vector<T> ParseNamed(ConfigReader& reader, const YAML::Node& node, const std::string& section,
                          T (*parse)(ConfigReader&, const YamlEntry&)) {
  std::vector<T> out;
  std::optional<std::vector<YamlEntry>> entries = reader.Mapping(node, section);
  for (size_t i = 0; entries && i < entries->size(); ++i) {
    if (reader.Name((*entries)[i], section)) out.push_back(parse(reader, (*entries)[i]));
  }
  return out;
}

// [A-Za-z0-9._-]{1,100}: connections, projects, clusters, services, pipelines, tokens.
bool IsResourceName(std::string_view name);
// [A-Za-z_][A-Za-z0-9_]*
bool IsEnvName(std::string_view name);
// Secrets Manager's rule: 1 to 512 of letters, digits and /_+=.@-
bool IsSecretName(std::string_view name);
// Parameter Store's rule: 1 to 2048 of letters, digits and _.-/
bool IsParameterName(std::string_view name);

// The entry of `map` named key, if map is a mapping that holds it.
std::optional<YamlEntry> FindEntry(const YAML::Node& map, std::string_view key);
const YamlEntry* FindEntry(const std::vector<YamlEntry>& entries, std::string_view key);
// The 1-based line of a mark (0 when unknown).
int LineOf(const YAML::Mark& mark);
// "a, b, c" for messages.
std::string JoinNames(std::span<const std::string_view> names);

// A YAML tree as JSON: plain scalars typed as YAML 1.2's core schema reads them (null,
// true/false, integers, floats), quoted or tagged scalars as strings. The tree must have passed
// CheckTree (bounded depth and size, no alias cycles).
OrderedJson YamlToJson(const YAML::Node& node);

}  // namespace kiln::spec::kiln_yml
