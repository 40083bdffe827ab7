#include "spec/kiln_config_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <utility>

#include "base/duration.h"
#include "base/json_text.h"
#include "spec/yaml_util.h"

namespace kiln::spec::kiln_yml {
namespace {

constexpr size_t kMaxNameLength = 100;
constexpr size_t kMaxSecretNameLength = 512;      // Secrets Manager's limit on a secret's name
constexpr size_t kMaxParameterNameLength = 2048;  // Parameter Store's limit
constexpr size_t kMaxQuoted = 60;

// 'text' for a message, shortened; never used on a value that may be secret.
std::string Quote(std::string_view text) {
  if (text.size() <= kMaxQuoted) return "'" + std::string(text) + "'";
  return "'" + std::string(text.substr(0, kMaxQuoted)) + "...'";
}

bool AllOf(std::string_view text, bool (*ok)(unsigned char)) {
  return std::all_of(text.begin(), text.end(), [&](char c) { return ok(c); });
}

bool IsNameChar(unsigned char c) { return std::isalnum(c) || c == '.' || c == '_' || c == '-'; }
bool IsEnvChar(unsigned char c) { return std::isalnum(c) || c == '_'; }
bool IsDigit(unsigned char c) { return std::isdigit(c); }
bool IsHostChar(unsigned char c) { return std::isalnum(c) || c == '.' || c == '-' || c == '_'; }
bool IsIpv6Char(unsigned char c) { return std::isxdigit(c) || c == ':' || c == '.'; }
bool IsSecretChar(unsigned char c) {
  return std::isalnum(c) || std::string_view("/_+=.@-").find(char(c)) != std::string_view::npos;
}
bool IsParameterChar(unsigned char c) { return IsNameChar(c) || c == '/'; }

bool IsListen(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !AllOf(port, IsDigit) ||
      std::stoi(std::string(port)) > 65535) {
    return false;
  }
  if (host.front() == '[') {
    return host.size() > 2 && host.back() == ']' &&
           AllOf(host.substr(1, host.size() - 2), IsIpv6Char);
  }
  return AllOf(host, IsHostChar);
}

// What "${kind:name}" text holds: a reference, a malformed one, or plain text.
enum class RefShape { kPlain, kReference, kMalformed };

RefShape ScanReference(std::string_view text, ValueRef& ref) {
  if (!text.starts_with("${") || !text.ends_with("}")) return RefShape::kPlain;
  std::string_view inside = text.substr(2, text.size() - 3);
  size_t colon = inside.find(':');
  if (colon == std::string_view::npos) return RefShape::kPlain;  // "${HOME}" is plain text
  std::string_view kind = inside.substr(0, colon);
  ref.text = std::string(inside.substr(colon + 1));
  if (kind == "env") ref.kind = ValueRef::Kind::kEnv;
  if (kind == "file") ref.kind = ValueRef::Kind::kFile;
  if (kind == "secret") ref.kind = ValueRef::Kind::kSecret;
  return ref.kind == ValueRef::Kind::kNone || ref.text.empty() ? RefShape::kMalformed
                                                               : RefShape::kReference;
}

std::string_view Forms(ValuePolicy policy) {
  return policy == ValuePolicy::kSecretStore
             ? "{file: ...}, {env: ...}, ${env:...} or ${file:...}"
             : "{file: ...}, {env: ...}, ${env:...}, ${file:...} or ${secret:...}";
}

bool IsNullText(std::string_view t) {
  return t == "null" || t == "Null" || t == "NULL" || t == "~";
}

std::optional<bool> CoreBool(std::string_view t) {
  if (t == "true" || t == "True" || t == "TRUE") return true;
  if (t == "false" || t == "False" || t == "FALSE") return false;
  return std::nullopt;
}

template <typename T>
std::optional<T> ParseNumber(std::string_view text) {
  if (text.starts_with('+')) text.remove_prefix(1);
  T value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// YAML 1.2 core schema: a plain scalar is null, a boolean, an integer, a float, or a string.
OrderedJson PlainScalarToJson(const std::string& text) {
  if (text.empty() || IsNullText(text)) return nullptr;
  if (std::optional<bool> b = CoreBool(text)) return *b;
  if (std::optional<int64_t> i = ParseNumber<int64_t>(text)) return *i;
  bool numeric = std::isdigit(static_cast<unsigned char>(text.back())) &&
                 text.find_first_not_of("0123456789+-.eE") == std::string::npos;
  if (std::optional<double> d = numeric ? ParseNumber<double>(text) : std::nullopt) {
    if (std::isfinite(*d)) return *d;
  }
  return text;
}

}  // namespace

void ConfigReader::Error(const YAML::Mark& mark, std::string message) {
  out_.push_back(DiagnosticAt(file_, mark, std::move(message)));
}

std::optional<std::vector<YamlEntry>> ConfigReader::Mapping(const YAML::Node& node,
                                                            const std::string& what) {
  std::vector<YamlEntry> entries;
  if (node.IsNull()) return entries;
  if (!node.IsMap()) {
    Error(node.Mark(), what + " must be a mapping, not " + std::string(KindName(node)));
    return std::nullopt;
  }
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      Error(entry.first.Mark(),
            what + ": a key must be a string, not " + std::string(KindName(entry.first)));
      continue;
    }
    entries.push_back(
        {.key = entry.first.Scalar(), .key_node = entry.first, .value = entry.second});
  }
  return entries;
}

std::optional<std::vector<YAML::Node>> ConfigReader::Sequence(const YAML::Node& node,
                                                              const std::string& what) {
  std::vector<YAML::Node> items;
  if (node.IsNull()) return items;
  if (!node.IsSequence()) {
    Error(node.Mark(), what + " must be a sequence, not " + std::string(KindName(node)));
    return std::nullopt;
  }
  for (const YAML::Node& item : node) items.push_back(item);
  return items;
}

void ConfigReader::CheckKeys(const std::vector<YamlEntry>& entries, const std::string& what,
                             std::span<const std::string_view> known) {
  for (const YamlEntry& entry : entries) {
    if (std::find(known.begin(), known.end(), entry.key) == known.end()) {
      UnknownKey(entry, what, known);
    }
  }
}

void ConfigReader::UnknownKey(const YamlEntry& entry, const std::string& what,
                              std::span<const std::string_view> expected) {
  std::string message = "unknown key " + Quote(entry.key) + " in " + what;
  if (!expected.empty()) message += " (expected one of: " + JoinNames(expected) + ")";
  Error(entry.key_node.Mark(), std::move(message));
}

void ConfigReader::Missing(const YAML::Mark& mark, const std::string& what, std::string_view key) {
  Error(mark, what + " has no '" + std::string(key) + "', which is required");
}

std::optional<std::string> ConfigReader::String(const YAML::Node& node, const std::string& what,
                                                bool allow_empty) {
  if (!node.IsScalar()) {
    Error(node.Mark(), what + " must be a string, not " + std::string(KindName(node)));
    return std::nullopt;
  }
  if (node.Scalar().empty() && !allow_empty) {
    Error(node.Mark(), what + " must not be empty");
    return std::nullopt;
  }
  if (node.Scalar().find('\0') != std::string::npos) {
    Error(node.Mark(), what + " must not contain a NUL character");
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::string> ConfigReader::OneOf(const YAML::Node& node, const std::string& what,
                                               std::span<const std::string_view> choices) {
  std::optional<std::string> text = String(node, what);
  if (!text) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *text) != choices.end()) return text;
  Error(node.Mark(), what + " must be one of " + JoinNames(choices) + ", not " + Quote(*text));
  return std::nullopt;
}

std::optional<int64_t> ConfigReader::Integer(const YAML::Node& node, const std::string& what,
                                             int64_t min, int64_t max) {
  std::optional<int64_t> value;
  if (node.IsScalar()) value = ParseNumber<int64_t>(node.Scalar());
  if (value && *value >= min && *value <= max) return value;
  std::string got = node.IsScalar() ? Quote(node.Scalar()) : std::string(KindName(node));
  Error(node.Mark(), what + " must be an integer from " + std::to_string(min) + " to " +
                         std::to_string(max) + ", not " + got);
  return std::nullopt;
}

std::optional<bool> ConfigReader::Bool(const YAML::Node& node, const std::string& what) {
  std::optional<bool> value;
  if (node.IsScalar()) value = ParseYamlBool(node.Scalar());
  if (value) return value;
  std::string got = node.IsScalar() ? Quote(node.Scalar()) : std::string(KindName(node));
  Error(node.Mark(), what + " must be true or false, not " + got);
  return std::nullopt;
}

std::optional<int64_t> ConfigReader::DurationMs(const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) {
    Error(node.Mark(),
          what + " must be a duration such as 90s or 20m, not " + std::string(KindName(node)));
    return std::nullopt;
  }
  base::Result<int64_t> ms = base::ParseDuration(node.Scalar());
  if (ms.ok()) return ms.value();
  Error(node.Mark(), what + ": " + ms.status().message());
  return std::nullopt;
}

std::optional<std::string> ConfigReader::Listen(const YAML::Node& node, const std::string& what) {
  std::optional<std::string> text = String(node, what);
  if (!text) return std::nullopt;
  if (IsListen(*text)) return text;
  Error(node.Mark(), what + " must be HOST:PORT (e.g. 127.0.0.1:8080), not " + Quote(*text));
  return std::nullopt;
}

bool ConfigReader::Name(const YamlEntry& entry, const std::string& what) {
  if (IsResourceName(entry.key)) return true;
  Error(entry.key_node.Mark(), "invalid name " + Quote(entry.key) + " in " + what +
                                   ": use 1 to 100 letters, digits, '.', '_' or '-'");
  return false;
}

std::optional<ValueRef> ConfigReader::Value(const YAML::Node& node, const std::string& what,
                                            ValuePolicy policy) {
  std::optional<ValueRef> ref;
  if (node.IsMap()) {
    ref = MappedValue(node, what);
  } else if (node.IsScalar()) {
    ref = ScalarValue(node, what, policy);
  } else {
    Error(node.Mark(), what + " must be a string or a mapping such as {file: PATH}, not " +
                           std::string(KindName(node)));
  }
  if (!ref || !CheckRefName(*ref, node.Mark(), what)) return std::nullopt;
  if (ref->kind == ValueRef::Kind::kSecret) {
    if (policy == ValuePolicy::kSecretStore) {
      Error(node.Mark(), what + " refers to secret '" + ref->text +
                             "': a secret cannot refer to another secret (use " +
                             std::string(Forms(policy)) + ")");
      return std::nullopt;
    }
    Refer(PendingReference::Kind::kSecret, ref->text, node.Mark(), what);
  }
  return ref;
}

std::optional<ValueRef> ConfigReader::MappedValue(const YAML::Node& node, const std::string& what) {
  static constexpr std::string_view kKeys[] = {"file", "env"};
  std::optional<std::vector<YamlEntry>> entries = Mapping(node, what);
  if (!entries) return std::nullopt;
  size_t errors = error_count();
  CheckKeys(*entries, what, kKeys);
  if (error_count() != errors) return std::nullopt;
  if (entries->size() != 1) {
    Error(node.Mark(), what + " takes exactly one of {file: PATH} or {env: NAME}");
    return std::nullopt;
  }
  const YamlEntry& entry = entries->front();
  std::optional<std::string> text = String(entry.value, what + "." + entry.key);
  if (!text) return std::nullopt;
  return ValueRef{.kind = entry.key == "file" ? ValueRef::Kind::kFile : ValueRef::Kind::kEnv,
                  .text = *text};
}

std::optional<ValueRef> ConfigReader::ScalarValue(const YAML::Node& node, const std::string& what,
                                                  ValuePolicy policy) {
  ValueRef ref;
  switch (ScanReference(node.Scalar(), ref)) {
    case RefShape::kReference:
      return ref;
    case RefShape::kMalformed:
      // Not quoted back: a mistyped reference may be a secret pasted in.
      Error(node.Mark(),
            what + " is not a reference Kiln knows: use " + std::string(Forms(policy)));
      return std::nullopt;
    case RefShape::kPlain:
      break;
  }
  if (policy == ValuePolicy::kLiteralAllowed) {
    return ValueRef{.kind = ValueRef::Kind::kLiteral, .text = node.Scalar()};
  }
  Error(node.Mark(), what + " must not hold a secret inline: use " + std::string(Forms(policy)));
  return std::nullopt;
}

// The name is not quoted back: what was pasted where a name belongs may be the secret itself.
bool ConfigReader::CheckRefName(const ValueRef& ref, const YAML::Mark& mark,
                                const std::string& what) {
  const std::string& name = ref.text;
  std::string problem;
  if (ref.kind == ValueRef::Kind::kEnv && !IsEnvName(name)) {
    problem = "an environment variable name (letters, digits and '_', not starting with a digit)";
  } else if (ref.kind == ValueRef::Kind::kFile && name.find('\0') != std::string::npos) {
    problem = "a file path";
  } else if (ref.kind == ValueRef::Kind::kSecret && !IsSecretName(name)) {
    problem = "a secret name (1 to 512 letters, digits and /_+=.@-)";
  }
  if (problem.empty()) return true;
  Error(mark, what + " must refer to " + problem);
  return false;
}

void ConfigReader::Refer(PendingReference::Kind kind, std::string name, const YAML::Mark& mark,
                         std::string what) {
  references_.push_back(
      {.kind = kind, .name = std::move(name), .mark = mark, .what = std::move(what)});
}

bool IsResourceName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength && AllOf(name, IsNameChar);
}

bool IsEnvName(std::string_view name) {
  return !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
         AllOf(name, IsEnvChar);
}

bool IsSecretName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxSecretNameLength && AllOf(name, IsSecretChar);
}

bool IsParameterName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxParameterNameLength && AllOf(name, IsParameterChar);
}

std::optional<YamlEntry> FindEntry(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return std::nullopt;
  for (const auto& entry : map) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) {
      return YamlEntry{.key = entry.first.Scalar(), .key_node = entry.first, .value = entry.second};
    }
  }
  return std::nullopt;
}

const YamlEntry* FindEntry(const std::vector<YamlEntry>& entries, std::string_view key) {
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const YamlEntry& entry) { return entry.key == key; });
  return it != entries.end() ? &*it : nullptr;
}

int LineOf(const YAML::Mark& mark) { return mark.line >= 0 ? mark.line + 1 : 0; }

std::string JoinNames(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

OrderedJson YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      // yaml-cpp tags a plain scalar "?"; a quoted one "!" (always a string).
      return node.Tag() == "?" ? PlainScalarToJson(node.Scalar()) : OrderedJson(node.Scalar());
    case YAML::NodeType::Sequence: {
      OrderedJson out = OrderedJson::array();
      for (const YAML::Node& item : node) out.push_back(YamlToJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      OrderedJson out = OrderedJson::object();
      for (const auto& entry : node) {
        std::string key =
            entry.first.IsScalar() ? entry.first.Scalar() : base::JsonText(YamlToJson(entry.first));
        out[key] = YamlToJson(entry.second);
      }
      return out;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return nullptr;
}

}  // namespace kiln::spec::kiln_yml
