// CfnEvaluator's conditions and the intrinsic functions beyond Ref, Fn::GetAtt and Fn::Sub
// (whose resolution lives in cfn_eval.cc).
#include <algorithm>
#include <charconv>
#include <span>

#include "spec/cfn_eval.h"

namespace kiln::spec {
namespace {

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

// The node at `keys` below `map`. Recursive rather than a loop: assigning to a YAML::Node
// variable would overwrite the template node it refers to instead of rebinding it.
std::optional<YAML::Node> EntryAt(const std::optional<YAML::Node>& map,
                                  std::span<const std::string> keys) {
  if (!map || keys.empty()) return map;
  return EntryAt(YamlEntry(*map, keys.front()), keys.subspan(1));
}

}  // namespace

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
  std::optional<YAML::Node> node = EntryAt(YamlEntry(root_, "Mappings"), keys);
  if (!node) {
    return Error(call, "no Mappings entry " + keys[0] + " / " + keys[1] + " / " + keys[2]);
  }
  std::string path = "/Mappings/" + PointerToken(keys[0]) + "/" + PointerToken(keys[1]) + "/" +
                     PointerToken(keys[2]);
  // CloudFormation allows no functions inside Mappings; one that looks itself up would loop.
  if (!evaluating_.insert(path).second) return Error(call, path + " refers to itself");
  Result value = EvalNode(*node, path, true);
  evaluating_.erase(path);
  return value;
}

CfnEvaluator::Result CfnEvaluator::Base64(const YAML::Node& arg, bool arg_tagged,
                                          const Call& call) {
  std::optional<std::string> text = EvalString(arg, arg_tagged, call, "the value");
  if (!text) return std::nullopt;
  return TreeValue::Scalar(EncodeBase64(*text), call.mark);
}

CfnEvaluator::Result CfnEvaluator::ConditionValue(const YAML::Node& arg, bool, const Call& call) {
  std::optional<bool> holds = ConditionCall(call.name, arg, call);
  if (!holds) return std::nullopt;
  return TreeValue::Scalar(*holds ? "true" : "false", call.mark, true);
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
  std::optional<YAML::Node> definition =
      YamlEntry(YamlEntry(root_, "Conditions").value_or(YAML::Node()), name);
  if (!definition) return Error(call, "no condition named '" + name + "'");
  if (!evaluating_.insert("Condition:" + name).second) {
    return Error(call, "condition '" + name + "' depends on itself");
  }
  std::optional<bool> value = EvalCondition(*definition, "/Conditions/" + PointerToken(name), true);
  evaluating_.erase("Condition:" + name);
  conditions_[name] = value;
  return value;
}

}  // namespace kiln::spec
