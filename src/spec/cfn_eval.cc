#include "spec/cfn_eval.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "spec/yaml_util.h"

namespace kiln::spec {
namespace {

std::optional<YAML::Node> Get(const YAML::Node& map, std::string_view key) {
  return YamlEntry(map, key);
}

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

bool IsConditionFunction(std::string_view name) {
  return name == "Fn::Equals" || name == "Fn::Not" || name == "Fn::And" || name == "Fn::Or" ||
         name == "Condition";
}

TreeValue Scalar(std::string text, const YAML::Mark& mark, bool plain = false) {
  return TreeValue{
      .kind = TreeValue::Kind::kScalar, .text = std::move(text), .plain = plain, .mark = mark};
}

// The name property CloudFormation gives each kind of resource; "Name" for most.
std::string_view NameProperty(std::string_view type) {
  static constexpr std::pair<std::string_view, std::string_view> kNames[] = {
      {"AWS::CodeCommit::Repository", "RepositoryName"},
      {"AWS::ECR::Repository", "RepositoryName"},
      {"AWS::S3::Bucket", "BucketName"},
      {"AWS::IAM::Role", "RoleName"},
      {"AWS::IAM::ManagedPolicy", "ManagedPolicyName"},
      {"AWS::CodeStarConnections::Connection", "ConnectionName"},
      {"AWS::ECS::Cluster", "ClusterName"},
      {"AWS::ECS::Service", "ServiceName"},
      {"AWS::Logs::LogGroup", "LogGroupName"},
      {"AWS::CodeDeploy::Application", "ApplicationName"},
      {"AWS::CodeDeploy::DeploymentGroup", "DeploymentGroupName"},
      {"AWS::SNS::Topic", "TopicName"},
      {"AWS::SQS::Queue", "QueueName"},
      {"AWS::Lambda::Function", "FunctionName"},
  };
  for (const auto& [resource_type, property] : kNames) {
    if (resource_type == type) return property;
  }
  return "Name";
}

// arn:aws:codebuild:local:000000000000:project/NAME for an AWS::CodeBuild::Project.
std::string LocalArn(std::string_view type, const std::string& name) {
  std::string lower(type);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  size_t first = lower.find("::"), last = lower.rfind("::");
  std::string service = lower.substr(first + 2, last - first - 2);
  return "arn:aws:" + service + ":" + std::string(kLocalRegion) + ":" +
         std::string(kLocalAccountId) + ":" + lower.substr(last + 2) + "/" + name;
}

std::string EncodeBase64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    size_t n = std::min<size_t>(3, in.size() - i);
    uint32_t chunk = 0;
    for (size_t k = 0; k < 3; ++k) chunk = chunk << 8 | (k < n ? uint8_t(in[i + k]) : 0);
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(chunk >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
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
  for (const std::string& item : items) list.items.push_back(Scalar(item, mark));
  return list;
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

std::optional<bool> CfnEvaluator::ResourceExists(const YAML::Node& resource,
                                                 const std::string& path) {
  std::optional<YAML::Node> condition = Get(resource, "Condition");
  if (!condition) return true;
  if (!condition->IsScalar()) {
    diagnostics_.push_back(
        DiagnosticAt(file_, condition->Mark(), path + "/Condition: expected a condition name"));
    return std::nullopt;
  }
  return NamedCondition(condition->Scalar(), condition->Mark(), path + "/Condition");
}

std::vector<CfnResource> CfnEvaluator::Resources(std::string_view type) const {
  std::vector<CfnResource> out;
  std::optional<YAML::Node> resources = Get(root_, "Resources");
  if (!resources || !resources->IsMap()) return out;
  for (const auto& entry : *resources) {
    std::optional<YAML::Node> resource_type = Get(entry.second, "Type");
    if (resource_type && resource_type->IsScalar() && resource_type->Scalar() == type) {
      out.push_back(CfnResource{.logical_id = entry.first.Scalar(),
                                .node = entry.second,
                                .line = entry.first.Mark().line + 1});
    }
  }
  return out;
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
  if (node.IsScalar()) return Scalar(node.Scalar(), node.Mark(), node.Tag() == "?");
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
    return Error(call, "takes a list of " + count + " arguments");
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
    text_node = (*args)[0];
    std::optional<TreeValue> map = EvalArg((*args)[1], false, call);
    if (!map) return std::nullopt;
    if (!map->IsMap()) return Error(call, "the variables must be a mapping");
    for (TreeEntry& entry : map->entries) vars[entry.key] = std::move(entry.value);
  }
  if (!text_node.IsScalar()) return Error(call, "takes a string, or [string, {variables}]");
  const std::string& text = text_node.Scalar();
  std::string out;
  bool ok = true;
  size_t pos = 0;
  for (size_t open = text.find("${"); open != std::string::npos; open = text.find("${", pos)) {
    out += text.substr(pos, open - pos);
    size_t close = text.find('}', open);
    if (close == std::string::npos) break;
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
  return Scalar(out, call.mark);
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
  return Scalar(out, call.mark);
}

CfnEvaluator::Result CfnEvaluator::Select(const YAML::Node& arg, bool, const Call& call) {
  std::optional<std::vector<YAML::Node>> args = ArgList(arg, 2, 2, call);
  if (!args) return std::nullopt;
  std::optional<std::string> index = EvalString((*args)[0], false, call, "the index");
  std::optional<TreeValue> list = EvalArg((*args)[1], false, call);
  if (!index || !list) return std::nullopt;
  if (!list->IsList()) return Error(call, "the second argument must be a list");
  size_t i = 0;
  auto [end, ec] = std::from_chars(index->data(), index->data() + index->size(), i);
  if (ec != std::errc() || end != index->data() + index->size() || i >= list->items.size()) {
    return Error(call, "index '" + *index + "' is not within the list of " +
                           std::to_string(list->items.size()));
  }
  return list->items[i];
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
  return Scalar(it->second, call.mark);
}

CfnEvaluator::Result CfnEvaluator::If(const YAML::Node& arg, bool, const Call& call) {
  std::optional<std::vector<YAML::Node>> args = ArgList(arg, 3, 3, call);
  if (!args) return std::nullopt;
  if (!(*args)[0].IsScalar()) return Error(call, "the first argument must be a condition name");
  std::optional<bool> holds = NamedCondition((*args)[0].Scalar(), call.mark, call.path);
  if (!holds) return std::nullopt;
  return EvalNode((*args)[*holds ? 1 : 2], call.path, true);
}

CfnEvaluator::Result CfnEvaluator::FindInMap(const YAML::Node& arg, bool, const Call& call) {
  std::optional<std::vector<YAML::Node>> args = ArgList(arg, 3, 3, call);
  if (!args) return std::nullopt;
  std::vector<std::string> keys;
  for (const YAML::Node& item : *args) {
    std::optional<std::string> key = EvalString(item, false, call, "a key");
    if (!key) return std::nullopt;
    keys.push_back(*key);
  }
  std::optional<YAML::Node> node = Get(root_, "Mappings");
  for (const std::string& key : keys) {
    if (node) node = Get(*node, key);
  }
  if (!node) {
    return Error(call, "no Mappings entry " + keys[0] + " / " + keys[1] + " / " + keys[2]);
  }
  return EvalNode(*node,
                  "/Mappings/" + PointerToken(keys[0]) + "/" + PointerToken(keys[1]) + "/" +
                      PointerToken(keys[2]),
                  true);
}

CfnEvaluator::Result CfnEvaluator::Base64(const YAML::Node& arg, bool arg_tagged,
                                          const Call& call) {
  std::optional<std::string> text = EvalString(arg, arg_tagged, call, "the value");
  if (!text) return std::nullopt;
  return Scalar(EncodeBase64(*text), call.mark);
}

CfnEvaluator::Result CfnEvaluator::ConditionValue(const YAML::Node& arg, bool, const Call& call) {
  std::optional<bool> holds = ConditionCall(call.name, arg, call);
  if (!holds) return std::nullopt;
  return Scalar(*holds ? "true" : "false", call.mark, true);
}

CfnEvaluator::Result CfnEvaluator::Unsupported(const YAML::Node&, bool, const Call& call) {
  return Error(call, "cannot be evaluated without AWS; replace it with a literal value");
}

CfnEvaluator::Result CfnEvaluator::ResolveRef(const std::string& name, const Call& call) {
  if (std::optional<YAML::Node> declared =
          Get(Get(root_, "Parameters").value_or(YAML::Node()), name)) {
    return Parameter(name, *declared, call);
  }
  if (name.starts_with("AWS::")) return PseudoParameter(name, call);
  std::optional<YAML::Node> resources = Get(root_, "Resources");
  if (resources && Get(*resources, name)) {
    if (std::optional<std::string> resource_name = ResourceName(name)) {
      Note("Ref " + name + " is the resource's name, '" + *resource_name + "'");
      return Scalar(*resource_name, call.mark);
    }
    // A resource without a name of its own: its logical id stands for it.
    Note("Ref " + name + " has no name to evaluate; the logical id stands for it");
    return Scalar(name, call.mark);
  }
  return Error(call, "no parameter or resource named '" + name + "'");
}

CfnEvaluator::Result CfnEvaluator::PseudoParameter(const std::string& name, const Call& call) {
  if (auto it = inputs_.values.find(name); it != inputs_.values.end()) {
    return Scalar(it->second, call.mark);
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
    if (pseudo == name) return Scalar(value, call.mark);
  }
  return Error(call, "unknown pseudo parameter '" + name + "'");
}

CfnEvaluator::Result CfnEvaluator::Parameter(const std::string& name, const YAML::Node& declaration,
                                             const Call& call) {
  std::string value;
  if (auto it = inputs_.values.find(name); it != inputs_.values.end()) {
    value = it->second;
  } else if (std::optional<YAML::Node> fallback = Get(declaration, "Default");
             fallback && fallback->IsScalar()) {
    value = fallback->Scalar();
    bool secret = Get(declaration, "NoEcho").has_value();
    Note("parameter " + name + " resolved from its Default" + (secret ? "" : " '" + value + "'"));
  } else {
    return Error(call, "parameter '" + name +
                           "' has no value and no Default; supply it with "
                           "--param " +
                           name + "=VALUE");
  }
  if (std::optional<YAML::Node> allowed = Get(declaration, "AllowedValues");
      allowed && allowed->IsSequence()) {
    bool found = std::any_of(allowed->begin(), allowed->end(), [&](const YAML::Node& v) {
      return v.IsScalar() && v.Scalar() == value;
    });
    if (!found) return Error(call, "parameter '" + name + "' is not one of its AllowedValues");
  }
  std::optional<YAML::Node> type = Get(declaration, "Type");
  if (type && type->IsScalar() && IsListType(type->Scalar())) {
    return ListOf(SplitText(value, ","), call.mark);
  }
  return Scalar(value, call.mark);
}

// What Kiln can know of a resource's attributes without AWS: its name and a local ARN.
// Anything else (a nested stack's Outputs.X, a repository's CloneUrlHttp...) is supplied by
// the caller as "GetAtt:Resource.Attribute".
CfnEvaluator::Result CfnEvaluator::ResolveGetAtt(const std::string& resource,
                                                 const std::string& attribute, const Call& call) {
  std::string key = "GetAtt:" + resource + "." + attribute;
  if (auto it = inputs_.values.find(key); it != inputs_.values.end()) {
    return Scalar(it->second, call.mark);
  }
  std::optional<YAML::Node> node = Get(Get(root_, "Resources").value_or(YAML::Node()), resource);
  if (!node) return Error(call, "no resource named '" + resource + "'");
  std::string hint = "; supply it with --param '" + key + "=VALUE'";
  if (attribute != "Name" && attribute != "Arn") {
    return Error(call, resource + "." + attribute + " cannot be evaluated without AWS" + hint);
  }
  std::optional<std::string> name = ResourceName(resource);
  if (!name) return Error(call, "resource '" + resource + "' has no Name to evaluate" + hint);
  if (attribute == "Name") return Scalar(*name, call.mark);
  std::optional<YAML::Node> type = Get(*node, "Type");
  return Scalar(
      LocalArn(type && type->IsScalar() ? type->Scalar() : "AWS::Unknown::Resource", *name),
      call.mark);
}

// The resource's name property (Name, BucketName...) when it evaluates to a string. Failures
// are not reported: the caller falls back or reports in its own terms.
std::optional<std::string> CfnEvaluator::ResourceName(const std::string& logical_id) {
  std::optional<YAML::Node> resource =
      Get(Get(root_, "Resources").value_or(YAML::Node()), logical_id);
  std::optional<YAML::Node> type = resource ? Get(*resource, "Type") : std::nullopt;
  if (!type || !type->IsScalar()) return std::nullopt;
  std::optional<YAML::Node> name =
      Get(Get(*resource, "Properties").value_or(YAML::Node()), NameProperty(type->Scalar()));
  if (!name || !evaluating_.insert("Resource:" + logical_id).second) return std::nullopt;
  size_t reported = diagnostics_.size();
  Result value = EvalNode(*name, "/Resources/" + PointerToken(logical_id), true);
  diagnostics_.resize(reported);
  evaluating_.erase("Resource:" + logical_id);
  const TreeValue* v = value ? std::get_if<TreeValue>(&*value) : nullptr;
  if (!v || !v->IsScalar()) return std::nullopt;
  return v->text;
}

std::optional<bool> CfnEvaluator::EvalCondition(const YAML::Node& node, const std::string& path,
                                                bool use_tag) {
  std::optional<std::string> name;
  YAML::Node arg = node;
  if (use_tag && !IsYamlTag(node.Tag())) {
    name = FunctionForTag(node.Tag());
  } else if (node.IsMap() && node.size() == 1 && node.begin()->first.IsScalar()) {
    name = node.begin()->first.Scalar();
    arg = node.begin()->second;
  }
  Call call{.name = name.value_or("condition"), .mark = node.Mark(), .path = path};
  if (!name || !IsConditionFunction(*name)) {
    return Error(call, "expected Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition");
  }
  return ConditionCall(*name, arg, call);
}

std::optional<bool> CfnEvaluator::ConditionCall(const std::string& name, const YAML::Node& arg,
                                                const Call& call) {
  if (name == "Condition") {
    if (!arg.IsScalar()) return Error(call, "takes a condition name");
    return NamedCondition(arg.Scalar(), call.mark, call.path);
  }
  if (name == "Fn::Equals") {
    std::optional<std::vector<YAML::Node>> args = ArgList(arg, 2, 2, call);
    if (!args) return std::nullopt;
    std::optional<TreeValue> a = EvalArg((*args)[0], false, call);
    std::optional<TreeValue> b = EvalArg((*args)[1], false, call);
    if (!a || !b) return std::nullopt;
    return a->IsScalar() && b->IsScalar() ? a->text == b->text
                                          : TreeToJsonText(*a) == TreeToJsonText(*b);
  }
  bool is_not = name == "Fn::Not";
  std::optional<std::vector<YAML::Node>> args = ArgList(arg, is_not ? 1 : 2, is_not ? 1 : 10, call);
  if (!args) return std::nullopt;
  std::vector<bool> values;
  for (const YAML::Node& item : *args) {
    std::optional<bool> value = EvalCondition(item, call.path, true);
    if (!value) return std::nullopt;
    values.push_back(*value);
  }
  if (is_not) return !values[0];
  if (name == "Fn::And") return std::all_of(values.begin(), values.end(), [](bool v) { return v; });
  return std::any_of(values.begin(), values.end(), [](bool v) { return v; });
}

std::optional<bool> CfnEvaluator::NamedCondition(const std::string& name, const YAML::Mark& mark,
                                                 const std::string& path) {
  if (auto it = conditions_.find(name); it != conditions_.end()) return it->second;
  Call call{.name = "Condition", .mark = mark, .path = path};
  std::optional<YAML::Node> definition = Get(Get(root_, "Conditions").value_or(YAML::Node()), name);
  if (!definition) return Error(call, "no condition named '" + name + "'");
  if (!evaluating_.insert("Condition:" + name).second) {
    return Error(call, "condition '" + name + "' depends on itself");
  }
  std::optional<bool> value = EvalCondition(*definition, "/Conditions/" + PointerToken(name), true);
  evaluating_.erase("Condition:" + name);
  conditions_[name] = value;
  return value;
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
