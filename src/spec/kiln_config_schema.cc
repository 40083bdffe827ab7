#include "spec/kiln_config_schema.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace kiln::spec::kiln_yml {
namespace {

bool Contains(std::span<const std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Walks a YAML mapping along a schema, reporting problems and building the JSON.
class SchemaWalker {
 public:
  explicit SchemaWalker(ConfigReader& reader) : reader_(reader) {}

  // `at` locates a missing required field: the key that holds the mapping, or the item.
  OrderedJson Object(const YAML::Node& node, const Schema& schema, const std::string& what,
                     const YAML::Mark& at);

 private:
  OrderedJson Value(const YamlEntry& entry, const Field& field, const std::string& what);
  OrderedJson Strings(const YAML::Node& node, const std::string& what);
  OrderedJson Objects(const YAML::Node& node, const Schema& schema, const std::string& what);
  OrderedJson StringMap(const YAML::Node& node, const std::string& what);
  OrderedJson TaskSize(const YAML::Node& node, const Field& field, const std::string& what);

  ConfigReader& reader_;
};

OrderedJson SchemaWalker::Object(const YAML::Node& node, const Schema& schema,
                                 const std::string& what, const YAML::Mark& at) {
  OrderedJson out = OrderedJson::object();
  size_t errors = reader_.error_count();
  std::optional<std::vector<YamlEntry>> entries = reader_.Mapping(node, what);
  if (!entries) return out;
  std::vector<std::string_view> keys;
  for (const Field& field : schema.fields) keys.push_back(field.key);
  for (const YamlEntry& entry : *entries) {
    auto field = std::find_if(schema.fields.begin(), schema.fields.end(),
                              [&](const Field& f) { return f.key == entry.key; });
    if (field != schema.fields.end()) {
      out[entry.key] = Value(entry, *field, what + "." + entry.key);
    } else if (Contains(schema.ecs_only, entry.key)) {
      out[entry.key] = YamlToJson(entry.value);
    } else {
      reader_.UnknownKey(entry, what, keys);
    }
  }
  for (const Field& field : schema.fields) {
    if (field.required && !out.contains(field.key)) reader_.Missing(at, what, field.key);
  }
  if (schema.check && reader_.error_count() == errors) schema.check(reader_, node, out, what);
  return out;
}

OrderedJson SchemaWalker::Value(const YamlEntry& entry, const Field& field,
                                const std::string& what) {
  const YAML::Node& node = entry.value;
  switch (field.kind) {
    case FieldKind::kString:
    case FieldKind::kText: {
      std::optional<std::string> text =
          field.choices.empty() ? reader_.String(node, what, field.kind == FieldKind::kText)
                                : reader_.OneOf(node, what, field.choices);
      return text ? OrderedJson(*text) : OrderedJson();
    }
    case FieldKind::kInteger: {
      std::optional<int64_t> value = reader_.Integer(node, what, field.min, field.max);
      return value ? OrderedJson(*value) : OrderedJson();
    }
    case FieldKind::kBool: {
      std::optional<bool> value = reader_.Bool(node, what);
      return value ? OrderedJson(*value) : OrderedJson();
    }
    case FieldKind::kStrings:
      return Strings(node, what);
    case FieldKind::kObject:
      return Object(node, *field.schema, what, entry.key_node.Mark());
    case FieldKind::kObjects:
      return Objects(node, *field.schema, what);
    case FieldKind::kDuration:
      return reader_.DurationMs(node, what) ? YamlToJson(node) : OrderedJson();
    case FieldKind::kListen: {
      std::optional<std::string> listen = reader_.Listen(node, what);
      return listen ? OrderedJson(*listen) : OrderedJson();
    }
    case FieldKind::kStringMap:
      return StringMap(node, what);
    case FieldKind::kTaskCpu:
    case FieldKind::kTaskMemory:
      return TaskSize(node, field, what);
  }
  return nullptr;
}

OrderedJson SchemaWalker::Strings(const YAML::Node& node, const std::string& what) {
  OrderedJson out = OrderedJson::array();
  std::optional<std::vector<YAML::Node>> items = reader_.Sequence(node, what);
  for (size_t i = 0; items && i < items->size(); ++i) {
    std::optional<std::string> text =
        reader_.String((*items)[i], what + "[" + std::to_string(i) + "]", true);
    if (text) out.push_back(*text);
  }
  return out;
}

OrderedJson SchemaWalker::Objects(const YAML::Node& node, const Schema& schema,
                                  const std::string& what) {
  OrderedJson out = OrderedJson::array();
  std::optional<std::vector<YAML::Node>> items = reader_.Sequence(node, what);
  for (size_t i = 0; items && i < items->size(); ++i) {
    const YAML::Node& item = (*items)[i];
    out.push_back(Object(item, schema, what + "[" + std::to_string(i) + "]", item.Mark()));
  }
  return out;
}

OrderedJson SchemaWalker::StringMap(const YAML::Node& node, const std::string& what) {
  OrderedJson out = OrderedJson::object();
  std::optional<std::vector<YamlEntry>> entries = reader_.Mapping(node, what);
  for (size_t i = 0; entries && i < entries->size(); ++i) {
    const YamlEntry& entry = (*entries)[i];
    std::optional<std::string> text = reader_.String(entry.value, what + "." + entry.key, true);
    if (text) out[entry.key] = *text;
  }
  return out;
}

// ECS converts a task's cpu and memory to integers when it registers the definition and
// describes them back as strings ("1 vCPU" -> "1024"); Kiln keeps that registered form.
OrderedJson SchemaWalker::TaskSize(const YAML::Node& node, const Field& field,
                                   const std::string& what) {
  bool cpu = field.kind == FieldKind::kTaskCpu;
  std::optional<std::string> text = reader_.String(node, what);
  if (!text) return nullptr;
  std::optional<int64_t> value = cpu ? ParseTaskCpu(*text) : ParseTaskMemory(*text);
  if (value && *value >= field.min && *value <= field.max) return std::to_string(*value);
  std::string range = std::to_string(field.min) + " to " + std::to_string(field.max);
  reader_.Error(
      node.Mark(),
      what +
          (cpu ? " must be CPU units from " + range + " (\"256\") or vCPUs (\"0.25 vCPU\")"
               : " must be MiB from " + range + " (\"512\") or GB (\"1 GB\")") +
          ", not '" + text->substr(0, 60) + "' (ECS)");
  return nullptr;
}

}  // namespace

OrderedJson ReadObject(ConfigReader& reader, const YAML::Node& node, const Schema& schema,
                       const std::string& what, const YAML::Mark& at) {
  return SchemaWalker(reader).Object(node, schema, what, at);
}

int64_t IntOr(const OrderedJson& object, std::string_view key, int64_t fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

std::string StringOr(const OrderedJson& object, std::string_view key, std::string fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

const OrderedJson& Member(const OrderedJson& object, std::string_view key) {
  static const OrderedJson kNull;
  auto it = object.find(key);
  return it != object.end() ? *it : kNull;
}

YAML::Mark ValueMark(const YAML::Node& node, std::string_view key) {
  std::optional<YamlEntry> entry = FindEntry(node, key);
  return entry ? entry->value.Mark() : node.Mark();
}

YAML::Mark KeyMark(const YAML::Node& node, std::string_view key) {
  std::optional<YamlEntry> entry = FindEntry(node, key);
  return entry ? entry->key_node.Mark() : node.Mark();
}

}  // namespace kiln::spec::kiln_yml
