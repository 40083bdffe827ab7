// A table-driven reader for ECS-shaped objects: a schema per object lists the fields Kiln
// reads (typed, with ECS's ranges), the ECS fields it accepts and keeps unread, and a check for
// the rules that span fields. Internal to src/spec.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "spec/kiln_config_reader.h"

namespace kiln::spec::kiln_yml {

enum class FieldKind {
  kString,   // non-empty
  kText,     // may be empty
  kInteger,  // from min to max
  kBool,
  kStrings,     // a sequence of strings
  kObject,      // a mapping checked against schema
  kObjects,     // a sequence of such mappings
  kDuration,    // Kiln's own: "90s" or integer seconds, kept as written
  kListen,      // HOST:PORT
  kStringMap,   // a mapping of names to strings (may be empty)
  kTaskCpu,     // ECS task cpu: units or vCPUs (spec::ParseTaskCpu), kept as "UNITS"
  kTaskMemory,  // ECS task memory: MiB or GB (spec::ParseTaskMemory), kept as "MIB"
};

struct Schema;
using SchemaCheck = void (*)(ConfigReader& reader, const YAML::Node& node,
                             const OrderedJson& object, const std::string& what);

struct Field {
  std::string_view key;
  FieldKind kind;
  int64_t min = 0;
  int64_t max = 0;
  const Schema* schema = nullptr;
  std::span<const std::string_view> choices = {};
  bool required = false;
};

struct Schema {
  std::span<const Field> fields;
  std::span<const std::string_view> ecs_only = {};  // accepted, kept in the JSON, not read
  SchemaCheck check = nullptr;                      // runs when the fields had no problem
};

// Reads the mapping at node along schema: reports unknown keys (naming the fields Kiln reads),
// wrong types, values out of range, and missing required fields (at `at`: the key holding the
// mapping, or the list item); then runs the schema's check if none of that went wrong. Returns
// the mapping as JSON, with Kiln's fields in their JSON types and ECS-only fields as written.
OrderedJson ReadObject(ConfigReader& reader, const YAML::Node& node, const Schema& schema,
                       const std::string& what, const YAML::Mark& at);

// For checks: a member's value, or the fallback when it is absent or of another type.
int64_t IntOr(const OrderedJson& object, std::string_view key, int64_t fallback);
std::string StringOr(const OrderedJson& object, std::string_view key, std::string fallback);
const OrderedJson& Member(const OrderedJson& object, std::string_view key);
// Where key's value (or the key itself) sits in the mapping node; node's own mark if absent.
YAML::Mark ValueMark(const YAML::Node& node, std::string_view key);
YAML::Mark KeyMark(const YAML::Node& node, std::string_view key);

}  // namespace kiln::spec::kiln_yml
