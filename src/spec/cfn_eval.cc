#include "spec/cfn_eval.h"

#include <algorithm>
#include <utility>

#include "spec/yaml_util.h"

namespace kiln::spec {
namespace {

bool IsYamlTag(const std::string& tag) {
  return tag.empty() || tag == "!" || tag == "?" || tag.starts_with("tag:yaml.org,2002:");
}

// The long-form name of a short-form tag: !Ref -> Ref, !Condition -> Condition, !Sub -> Fn::Sub.
std::string FunctionForTag(const std::string& tag) {
  std::string name = tag.substr(1);
  return name == "Ref" || name == "Condition" ? name : "Fn::" + name;
}

// A one-entry mapping {"Ref": ...} or {"Fn::X": ...}: the JSON (long) form of a function.
std::optional<std::string> LongFormName(const YAML::Node& node) {
  if (!node.IsMap() || node.size() != 1) return std::nullopt;
  const YAML::Node key = node.begin()->first;
  if (!key.IsScalar()) return std::nullopt;
  const std::string& name = key.Scalar();
  if (name == "Ref" || name.starts_with("Fn::")) return name;
  return std::nullopt;
}

bool IsListType(const std::string& type) {
  return type == "CommaDelimitedList" || type.starts_with("List<") ||
         type.starts_with("AWS::SSM::Parameter::Value<List<") ||
         type == "AWS::SSM::Parameter::Value<CommaDelimitedList>";
}

std::vector<std::string> SplitText(const std::string& text, const std::string& delimiter) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t at = text.find(delimiter); at != std::string::npos;
       at = text.find(delimiter, start)) {
    parts.push_back(text.substr(start, at - start));
    start = at + delimiter.size();
  }
  parts.push_back(text.substr(start));
  return parts;
}

TreeValue ListOf(const std::vector<std::string>& items, const YAML::Mark& mark) {
  TreeValue list{.kind = TreeValue::Kind::kList, .mark = mark};
  for (const std::string& item : items) list.items.push_back(TreeValue::Scalar(item, mark));
  return list;
}

bool IsConditionFunction(std::string_view name) {
  return name == "Fn::Equals" || name == "Fn::Not" || name == "Fn::And" || name == "Fn::Or" ||
         name == "Condition";
}

}  // namespace

std::optional<YAML::Node> YamlEntry(const YAML::Node& map, std::string_view key) {
  if (!map.IsDefined() || !map.IsMap()) return std::nullopt;
  for (const auto& entry : map) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
  }
  return std::nullopt;
}

CfnEvaluator::CfnEvaluator(const YAML::Node& root, const std::string& file, CfnInputs inputs)
    : root_(root), file_(file), inputs_(std::move(inputs)) {}

CfnEvaluator::Evaluated CfnEvaluator::Eval(const YAML::Node& node, const std::string& path) {
  Result result = EvalNode(node, path, true);
  if (!result) return Evaluated{};
  if (std::holds_alternative<NoValue>(*result)) return Evaluated{.ok = true};
  return Evaluated{.ok = true, .value = std::get<TreeValue>(std::move(*result))};
}

CfnEvaluator::Result CfnEvaluator::EvalNode(const YAML::Node& node, const std::string& path,
                                            bool use_tag) {
  if (use_tag && !IsYamlTag(node.Tag())) {
    return EvalCall(FunctionForTag(node.Tag()), node, true, node.Mark(), path);
  }
  if (std::optional<std::string> name = LongFormName(node)) {
    return EvalCall(*name, node.begin()->second, false, node.Mark(), path);
  }
  if (node.IsMap()) return EvalMap(node, path);
  if (node.IsSequence()) return EvalList(node, path);
  if (node.IsScalar()) return TreeValue::Scalar(node.Scalar(), node.Mark(), node.Tag() == "?");
  return TreeValue{.mark = node.Mark()};
}

// Evaluates every entry so that all unresolvable values are reported at once.
CfnEvaluator::Result CfnEvaluator::EvalMap(const YAML::Node& node, const std::string& path) {
  TreeValue map{.kind = TreeValue::Kind::kMap, .mark = node.Mark()};
  bool ok = true;
  for (const auto& entry : node) {
    std::string key = entry.first.Scalar();
    Result value = EvalNode(entry.second, path + "/" + PointerToken(key), true);
    if (!value) {
      ok = false;
    } else if (TreeValue* v = std::get_if<TreeValue>(&*value)) {
      map.entries.push_back(
          TreeEntry{.key = key, .key_mark = entry.first.Mark(), .value = std::move(*v)});
    }
  }
  if (!ok) return std::nullopt;
  return map;
}

CfnEvaluator::Result CfnEvaluator::EvalList(const YAML::Node& node, const std::string& path) {
  TreeValue list{.kind = TreeValue::Kind::kList, .mark = node.Mark()};
  bool ok = true;
  for (size_t i = 0; i < node.size(); ++i) {
    Result item = EvalNode(node[i], path + "/" + std::to_string(i), true);
    if (!item) {
      ok = false;
    } else if (TreeValue* v = std::get_if<TreeValue>(&*item)) {
      list.items.push_back(std::move(*v));
    }
  }
  if (!ok) return std::nullopt;
  return list;
}

CfnEvaluator::Result CfnEvaluator::EvalCall(const std::string& name, const YAML::Node& arg,
                                            bool arg_tagged, const YAML::Mark& mark,
                                            const std::string& path) {
  static const std::pair<std::string_view, Handler> kHandlers[] = {
      {"Ref", &CfnEvaluator::Ref},
      {"Fn::GetAtt", &CfnEvaluator::GetAtt},
      {"Fn::Sub", &CfnEvaluator::Sub},
      {"Fn::Join", &CfnEvaluator::Join},
      {"Fn::Select", &CfnEvaluator::Select},
      {"Fn::Split", &CfnEvaluator::Split},
      {"Fn::ImportValue", &CfnEvaluator::ImportValue},
      {"Fn::If", &CfnEvaluator::If},
      {"Fn::FindInMap", &CfnEvaluator::FindInMap},
      {"Fn::Base64", &CfnEvaluator::Base64},
      {"Fn::Cidr", &CfnEvaluator::Unsupported},
      {"Fn::GetAZs", &CfnEvaluator::Unsupported},
  };
  Call call{.name = name, .mark = mark, .path = path};
  if (IsConditionFunction(name)) return ConditionValue(arg, arg_tagged, call);
  for (const auto& [function, handler] : kHandlers) {
    if (function == name) return (this->*handler)(arg, arg_tagged, call);
  }
  return Error(call, arg_tagged ? "unknown tag !" + name.substr(name.find(':') + 2)
                                : "unknown intrinsic function");
}

std::optional<TreeValue> CfnEvaluator::EvalArg(const YAML::Node& arg, bool arg_tagged,
                                               const Call& call) {
  Result value = EvalNode(arg, call.path, !arg_tagged);
  if (!value) return std::nullopt;
  if (std::holds_alternative<NoValue>(*value)) {
    return Error(call, "AWS::NoValue cannot be used as an argument");
  }
  return std::get<TreeValue>(std::move(*value));
}

std::optional<std::string> CfnEvaluator::EvalString(const YAML::Node& arg, bool arg_tagged,
                                                    const Call& call, std::string_view what) {
  std::optional<TreeValue> value = EvalArg(arg, arg_tagged, call);
  if (!value) return std::nullopt;
  if (!value->IsScalar()) {
    return Error(call,
                 std::string(what) + " must be a string, not " + std::string(TreeKindName(*value)));
  }
  return value->text;
}

std::optional<std::vector<YAML::Node>> CfnEvaluator::ArgList(const YAML::Node& arg, size_t min,
                                                             size_t max, const Call& call) {
  if (!arg.IsSequence() || arg.size() < min || arg.size() > max) {
    std::string count =
        min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max);
    return Error(call, "takes a list of " + count + (max == 1 ? " argument" : " arguments"));
  }
  std::vector<YAML::Node> items;
  for (const YAML::Node& item : arg) items.push_back(item);
  return items;
}

CfnEvaluator::Result CfnEvaluator::Ref(const YAML::Node& arg, bool, const Call& call) {
  if (!arg.IsScalar()) return Error(call, "takes the name of a parameter or resource");
  return ResolveRef(arg.Scalar(), call);
}

// "Resource.Attribute" (split at the first dot, as CloudFormation does) or [Resource, Attribute].
CfnEvaluator::Result CfnEvaluator::GetAtt(const YAML::Node& arg, bool, const Call& call) {
  if (arg.IsScalar()) {
    const std::string& text = arg.Scalar();
    size_t dot = text.find('.');
    if (dot == std::string::npos) return Error(call, "'" + text + "' is not Resource.Attribute");
    return ResolveGetAtt(text.substr(0, dot), text.substr(dot + 1), call);
  }
  std::optional<std::vector<YAML::Node>> args = ArgList(arg, 2, 2, call);
  if (!args) return std::nullopt;
  std::optional<std::string> resource = EvalString((*args)[0], false, call, "the resource");
  std::optional<std::string> attribute = EvalString((*args)[1], false, call, "the attribute");
  if (!resource || !attribute) return std::nullopt;
  return ResolveGetAtt(*resource, *attribute, call);
}

CfnEvaluator::Result CfnEvaluator::Sub(const YAML::Node& arg, bool, const Call& call) {
  YAML::Node text_node = arg;
  std::map<std::string, TreeValue> vars;
  if (arg.IsSequence()) {
    std::optional<std::vector<YAML::Node>> args = ArgList(arg, 2, 2, call);
    if (!args) return std::nullopt;
    text_node.reset((*args)[0]);  // rebinds; `=` would overwrite the template's node
    std::optional<TreeValue> map = EvalArg((*args)[1], false, call);
    if (!map) return std::nullopt;
    if (!map->IsMap()) return Error(call, "the variables must be a mapping");
    for (TreeEntry& entry : map->entries) vars[entry.key] = std::move(entry.value);
  }
  if (!text_node.IsScalar()) return Error(call, "takes a string, or [string, {variables}]");
  return Substitute(text_node.Scalar(), vars, call);
}

CfnEvaluator::Result CfnEvaluator::Substitute(const std::string& text,
                                              const std::map<std::string, TreeValue>& vars,
                                              const Call& call) {
  std::string out;
  bool ok = true;
  size_t pos = 0;
  for (size_t open = text.find("${"); open != std::string::npos; open = text.find("${", pos)) {
    size_t close = text.find('}', open);
    if (close == std::string::npos) break;  // no closing brace: the rest is literal text
    out += text.substr(pos, open - pos);
    pos = close + 1;
    if (text[open + 2] == '!') {  // ${!Literal} writes ${Literal}
      out += "${" + text.substr(open + 3, close - open - 2);
      continue;
    }
    Result value = SubstituteVariable(text.substr(open + 2, close - open - 2), vars, call);
    if (!value) ok = false;
    if (value && std::holds_alternative<TreeValue>(*value)) out += std::get<TreeValue>(*value).text;
  }
  out += text.substr(std::min(pos, text.size()));
  if (!ok) return std::nullopt;
  return TreeValue::Scalar(out, call.mark);
}

CfnEvaluator::Result CfnEvaluator::SubstituteVariable(const std::string& name,
                                                      const std::map<std::string, TreeValue>& vars,
                                                      const Call& call) {
  Result value;
  if (auto it = vars.find(name); it != vars.end()) {
    value = it->second;
  } else if (size_t dot = name.find('.'); dot != std::string::npos) {
    value = ResolveGetAtt(name.substr(0, dot), name.substr(dot + 1), call);
  } else {
    value = ResolveRef(name, call);
  }
  if (!value) return std::nullopt;
  const TreeValue* v = std::get_if<TreeValue>(&*value);
  if (!v || !v->IsScalar()) return Error(call, "${" + name + "} is not a string");
  return value;
}

CfnEvaluator::Result CfnEvaluator::Join(const YAML::Node& arg, bool, const Call& call) {
  std::optional<std::vector<YAML::Node>> args = ArgList(arg, 2, 2, call);
  if (!args) return std::nullopt;
  std::optional<std::string> delimiter = EvalString((*args)[0], false, call, "the delimiter");
  std::optional<TreeValue> list = EvalArg((*args)[1], false, call);
  if (!delimiter || !list) return std::nullopt;
  if (!list->IsList()) return Error(call, "the second argument must be a list");
  std::string out;
  for (size_t i = 0; i < list->items.size(); ++i) {
    if (!list->items[i].IsScalar()) return Error(call, "can join only strings");
    out += (i == 0 ? "" : *delimiter) + list->items[i].text;
  }
  return TreeValue::Scalar(out, call.mark);
}

CfnEvaluator::Result CfnEvaluator::Select(const YAML::Node& arg, bool, const Call& call) {
  std::optional<std::vector<YAML::Node>> args = ArgList(arg, 2, 2, call);
  if (!args) return std::nullopt;
  std::optional<std::string> index = EvalString((*args)[0], false, call, "the index");
  std::optional<TreeValue> list = EvalArg((*args)[1], false, call);
  if (!index || !list) return std::nullopt;
  if (!list->IsList()) return Error(call, "the second argument must be a list");
  std::optional<int> i = ParseWholeInt(*index);
  if (!i || *i < 0 || size_t(*i) >= list->items.size()) {
    return Error(call, "index '" + *index + "' is not an index into a list of " +
                           std::to_string(list->items.size()));
  }
  return list->items[*i];
}

CfnEvaluator::Result CfnEvaluator::Split(const YAML::Node& arg, bool, const Call& call) {
  std::optional<std::vector<YAML::Node>> args = ArgList(arg, 2, 2, call);
  if (!args) return std::nullopt;
  std::optional<std::string> delimiter = EvalString((*args)[0], false, call, "the delimiter");
  std::optional<std::string> text = EvalString((*args)[1], false, call, "the source");
  if (!delimiter || !text) return std::nullopt;
  if (delimiter->empty()) return Error(call, "the delimiter is empty");
  return ListOf(SplitText(*text, *delimiter), call.mark);
}

// Another stack's export: the caller supplies it as "Export:NAME" (`--export NAME=VALUE`).
CfnEvaluator::Result CfnEvaluator::ImportValue(const YAML::Node& arg, bool arg_tagged,
                                               const Call& call) {
  std::optional<std::string> name = EvalString(arg, arg_tagged, call, "the export name");
  if (!name) return std::nullopt;
  auto it = inputs_.values.find("Export:" + *name);
  if (it == inputs_.values.end()) {
    return Error(call, "export '" + *name +
                           "' is another stack's; supply its value with --export " + *name +
                           "=VALUE");
  }
  return TreeValue::Scalar(it->second, call.mark);
}

CfnEvaluator::Result CfnEvaluator::Unsupported(const YAML::Node&, bool, const Call& call) {
  return Error(call, "cannot be evaluated without AWS; replace it with a literal value");
}

CfnEvaluator::Result CfnEvaluator::ResolveRef(const std::string& name, const Call& call) {
  if (std::optional<YAML::Node> declared =
          YamlEntry(YamlEntry(root_, "Parameters").value_or(YAML::Node()), name)) {
    return Parameter(name, *declared, call);
  }
  if (name.starts_with("AWS::")) return PseudoParameter(name, call);
  std::optional<YAML::Node> resources = YamlEntry(root_, "Resources");
  if (resources && YamlEntry(*resources, name)) {
    if (std::optional<std::string> resource_name = ResourceName(name)) {
      Note("Ref " + name + " is the resource's name, '" + *resource_name + "'");
      return TreeValue::Scalar(*resource_name, call.mark);
    }
    // A resource without a name of its own: its logical id stands for it.
    Note("Ref " + name + " has no name to evaluate; the logical id stands for it");
    return TreeValue::Scalar(name, call.mark);
  }
  return Error(call, "no parameter or resource named '" + name + "'");
}

CfnEvaluator::Result CfnEvaluator::PseudoParameter(const std::string& name, const Call& call) {
  if (auto it = inputs_.values.find(name); it != inputs_.values.end()) {
    return TreeValue::Scalar(it->second, call.mark);
  }
  if (name == "AWS::NoValue") return NoValue{};
  if (name == "AWS::NotificationARNs") return ListOf({}, call.mark);
  const std::pair<std::string_view, std::string> kPseudo[] = {
      {"AWS::Region", std::string(kLocalRegion)},
      {"AWS::AccountId", std::string(kLocalAccountId)},
      {"AWS::StackName", inputs_.stack_name},
      {"AWS::StackId", "arn:aws:cloudformation:" + std::string(kLocalRegion) + ":" +
                           std::string(kLocalAccountId) + ":stack/" + inputs_.stack_name +
                           "/local"},
      {"AWS::Partition", "aws"},
      {"AWS::URLSuffix", "amazonaws.com"},
  };
  for (const auto& [pseudo, value] : kPseudo) {
    if (pseudo == name) return TreeValue::Scalar(value, call.mark);
  }
  return Error(call, "unknown pseudo parameter '" + name + "'");
}

CfnEvaluator::Result CfnEvaluator::Parameter(const std::string& name, const YAML::Node& declaration,
                                             const Call& call) {
  std::string value;
  if (auto it = inputs_.values.find(name); it != inputs_.values.end()) {
    value = it->second;
  } else if (std::optional<YAML::Node> fallback = YamlEntry(declaration, "Default");
             fallback && fallback->IsScalar()) {
    value = fallback->Scalar();
    bool secret = YamlEntry(declaration, "NoEcho").has_value();
    Note("parameter " + name + " resolved from its Default" + (secret ? "" : " '" + value + "'"));
  } else {
    return Error(call, "parameter '" + name +
                           "' has no value and no Default; supply it with "
                           "--parameter " +
                           name + "=VALUE");
  }
  if (std::optional<YAML::Node> allowed = YamlEntry(declaration, "AllowedValues");
      allowed && allowed->IsSequence()) {
    bool found = std::any_of(allowed->begin(), allowed->end(), [&](const YAML::Node& v) {
      return v.IsScalar() && v.Scalar() == value;
    });
    if (!found) return Error(call, "parameter '" + name + "' is not one of its AllowedValues");
  }
  std::optional<YAML::Node> type = YamlEntry(declaration, "Type");
  if (type && type->IsScalar() && IsListType(type->Scalar())) {
    return ListOf(SplitText(value, ","), call.mark);
  }
  return TreeValue::Scalar(value, call.mark);
}

std::optional<bool> CfnEvaluator::EvalCondition(const YAML::Node& node, const std::string& path,
                                                bool use_tag) {
  std::optional<std::string> name;
  YAML::Node arg = node;
  if (use_tag && !IsYamlTag(node.Tag())) {
    name = FunctionForTag(node.Tag());
  } else if (node.IsMap() && node.size() == 1 && node.begin()->first.IsScalar()) {
    name = node.begin()->first.Scalar();
    arg.reset(node.begin()->second);  // rebinds; `=` would overwrite the template's node
  }
  Call call{.name = name.value_or("condition"), .mark = node.Mark(), .path = path};
  if (!name || !IsConditionFunction(*name)) {
    return Error(call, "expected Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition");
  }
  return ConditionCall(*name, arg, call);
}

std::nullopt_t CfnEvaluator::Error(const Call& call, const std::string& message) {
  diagnostics_.push_back(
      DiagnosticAt(file_, call.mark, call.path + ": " + call.name + ": " + message));
  return std::nullopt;
}

void CfnEvaluator::Note(const std::string& note) {
  if (std::find(notes_.begin(), notes_.end(), note) == notes_.end()) notes_.push_back(note);
}

}  // namespace kiln::spec
