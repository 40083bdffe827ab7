// A small document tree shared by the pipeline reader and the CloudFormation importer: parsed
// YAML/JSON (or a template after its intrinsic functions are evaluated) with source positions.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spec/diagnostic.h"
#include "spec/yaml_util.h"

namespace kiln::spec {

struct TreeEntry;

struct TreeValue {
  enum class Kind { kNull, kScalar, kList, kMap };
  Kind kind = Kind::kNull;
  std::string text;                // kScalar: the source text ("10", "false", "main")
  bool plain = false;              // an unquoted scalar: a number or boolean stays one in JSON
  std::vector<TreeValue> items;    // kList
  std::vector<TreeEntry> entries;  // kMap, in file order
  YAML::Mark mark;                 // 0-based; where the value (or the intrinsic) starts

  // A string value; `plain` as above.
  static TreeValue Scalar(std::string text, const YAML::Mark& mark, bool plain = false);

  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsList() const { return kind == Kind::kList; }
  bool IsMap() const { return kind == Kind::kMap; }
  // The entry for key in a map, or null.
  const TreeValue* Find(std::string_view key) const;
};

struct TreeEntry {
  std::string key;
  YAML::Mark key_mark;
  TreeValue value;
};

// "a mapping", "a list", "a string" or "null", for messages.
std::string_view TreeKindName(const TreeValue& value);

// Loads the single YAML (or JSON) document of a user's file with the limits every pipeline
// input shares: at most 4 MiB of text, 64 levels of nesting (checked before yaml-cpp recurses),
// no alias bombs or duplicate keys (CheckTree). `what` names the input in messages ("pipeline
// definition"). The root is null (and diagnostics say why) when the text is refused or empty.
GuardedYaml LoadCheckedYaml(std::string_view text, const std::string& file, std::string_view what);

// Converts a loaded YAML/JSON node. Tags other than YAML's own (e.g. CloudFormation's !Ref)
// are errors here: a plain pipeline file has no intrinsic functions.
TreeValue TreeFromYaml(const YAML::Node& node, const std::string& file, Diagnostics& out);

// The value as compact JSON text: maps and lists as JSON, unquoted numbers and booleans as
// JSON numbers and booleans, everything else as JSON strings.
std::string TreeToJsonText(const TreeValue& value);

// The whole of `text` as a decimal integer ("10"), or nullopt ("10m", "", "1e3", overflow).
std::optional<int> ParseWholeInt(std::string_view text);

// A JSON pointer token (RFC 6901: "~" -> "~0", "/" -> "~1").
std::string PointerToken(std::string_view key);

}  // namespace kiln::spec
