#include "spec/pipeline_tree.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "spec/yaml_util.h"

namespace kiln::spec {
namespace {

using Json = nlohmann::ordered_json;

constexpr size_t kMaxBytes = size_t{4} << 20;
constexpr int kMaxDepth = 64;
// Far above any real pipeline or template; stops alias "billion laughs" bombs.
constexpr size_t kMaxNodes = 200000;

// YAML's own tags ("!!str" and friends) and the non-specific ones ("!" quoted, "?" plain).
bool IsYamlTag(const std::string& tag) {
  return tag.empty() || tag == "!" || tag == "?" || tag.starts_with("tag:yaml.org,2002:");
}

Json ScalarJson(const TreeValue& value) {
  if (!value.plain) return value.text;
  if (value.text == "true" || value.text == "false") return value.text == "true";
  // A plain scalar that parses as a JSON number is one (10, -1.5); anything else is a string.
  Json number = Json::parse(value.text, nullptr, /*allow_exceptions=*/false);
  return number.is_number() ? number : Json(value.text);
}

Json ToJson(const TreeValue& value) {
  switch (value.kind) {
    case TreeValue::Kind::kNull:
      return nullptr;
    case TreeValue::Kind::kScalar:
      return ScalarJson(value);
    case TreeValue::Kind::kList: {
      Json list = Json::array();
      for (const TreeValue& item : value.items) list.push_back(ToJson(item));
      return list;
    }
    case TreeValue::Kind::kMap:
      break;
  }
  Json map = Json::object();
  for (const TreeEntry& entry : value.entries) map[entry.key] = ToJson(entry.value);
  return map;
}

}  // namespace

TreeValue TreeValue::Scalar(std::string text, const YAML::Mark& mark, bool plain) {
  return TreeValue{.kind = Kind::kScalar, .text = std::move(text), .plain = plain, .mark = mark};
}

const TreeValue* TreeValue::Find(std::string_view key) const {
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const TreeEntry& e) { return e.key == key; });
  return it == entries.end() ? nullptr : &it->value;
}

std::string_view TreeKindName(const TreeValue& value) {
  switch (value.kind) {
    case TreeValue::Kind::kMap:
      return "a mapping";
    case TreeValue::Kind::kList:
      return "a list";
    case TreeValue::Kind::kScalar:
      return "a string";
    case TreeValue::Kind::kNull:
      break;
  }
  return "null";
}

GuardedYaml LoadCheckedYaml(std::string_view text, const std::string& file, std::string_view what) {
  GuardedYaml yaml = LoadChecked(text, file, what, kMaxBytes, kMaxDepth, kMaxNodes);
  if (yaml.diagnostics.empty() && (!yaml.root.IsDefined() || yaml.root.IsNull())) {
    yaml.diagnostics.push_back(Diagnostic{.file = file, .message = "empty " + std::string(what)});
  }
  return yaml;
}

TreeValue TreeFromYaml(const YAML::Node& node, const std::string& file, Diagnostics& out) {
  TreeValue value{.mark = node.Mark()};
  if (!IsYamlTag(node.Tag())) {
    out.push_back(DiagnosticAt(file, node.Mark(),
                               "unexpected tag " + node.Tag() +
                                   " (CloudFormation templates are read by `kiln pipeline "
                                   "import`, not as pipeline definitions)"));
  }
  if (node.IsScalar()) {
    value.kind = TreeValue::Kind::kScalar;
    value.text = node.Scalar();
    value.plain = node.Tag() == "?";
  } else if (node.IsSequence()) {
    value.kind = TreeValue::Kind::kList;
    for (const YAML::Node& item : node) value.items.push_back(TreeFromYaml(item, file, out));
  } else if (node.IsMap()) {
    value.kind = TreeValue::Kind::kMap;
    for (const auto& entry : node) {
      value.entries.push_back(TreeEntry{.key = entry.first.Scalar(),
                                        .key_mark = entry.first.Mark(),
                                        .value = TreeFromYaml(entry.second, file, out)});
    }
  }
  return value;
}

std::string TreeToJsonText(const TreeValue& value) { return base::JsonText(ToJson(value)); }

std::optional<int> ParseWholeInt(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string PointerToken(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace kiln::spec
