// Evaluates CloudFormation intrinsic functions in a loaded template, locally: what a stack
// would compute when every value it needs is known (parameters, pseudo parameters, names of
// the template's own resources, exports and attributes the caller supplies).
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "spec/diagnostic.h"
#include "spec/pipeline_tree.h"

namespace kiln::spec {

// What CfnEvaluator resolves, beyond the template itself. `values` holds:
//   NAME            a template parameter (also overrides a pseudo parameter, e.g. AWS::Region)
//   Export:NAME     what Fn::ImportValue NAME returns (another stack's export)
//   GetAtt:RES.ATTR what Fn::GetAtt RES.ATTR returns (e.g. a nested stack's output)
struct CfnInputs {
  const std::map<std::string, std::string>& values;
  std::string stack_name;  // AWS::StackName
};

// The value of `key` in a YAML mapping; nullopt when absent or when `map` is not a mapping.
// (yaml-cpp's const operator[] returns a node that throws when a missing key is inspected.)
std::optional<YAML::Node> YamlEntry(const YAML::Node& map, std::string_view key);

struct CfnResource {
  std::string logical_id;
  YAML::Node node;  // the resource's mapping: Type, Properties, Condition...
  int line = 0;     // where its logical id is written
};

// Pseudo parameters without a stack: AWS::Region and AWS::AccountId.
inline constexpr std::string_view kLocalRegion = "local";
inline constexpr std::string_view kLocalAccountId = "000000000000";

// Not thread-safe; one per template. `root` must outlive the evaluator.
class CfnEvaluator {
 public:
  CfnEvaluator(const YAML::Node& root, const std::string& file, CfnInputs inputs);

  // The node at JSON pointer `path` with its intrinsic functions evaluated. When it cannot
  // be, `ok` is false and diagnostics() says why, naming the function, `path` and the line.
  // `value` is empty (and `ok` true) for AWS::NoValue: the property is left out.
  struct Evaluated {
    bool ok = false;
    std::optional<TreeValue> value;
  };
  Evaluated Eval(const YAML::Node& node, const std::string& path);

  // Whether a resource with a `Condition` attribute exists (true when it has none).
  std::optional<bool> ResourceExists(const YAML::Node& resource, const std::string& path);

  // The template's resources of `type`, in file order.
  std::vector<CfnResource> Resources(std::string_view type) const;

  const Diagnostics& diagnostics() const { return diagnostics_; }
  // Things the user should know, e.g. a parameter resolved from its Default.
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  struct NoValue {};
  using Value = std::variant<TreeValue, NoValue>;
  using Result = std::optional<Value>;  // nullopt: an error, already reported
  struct Call {
    std::string name;  // Ref, Fn::Sub, ...
    YAML::Mark mark;
    const std::string& path;
  };
  using Handler = Result (CfnEvaluator::*)(const YAML::Node& arg, bool arg_tagged,
                                           const Call& call);

  Result EvalNode(const YAML::Node& node, const std::string& path, bool use_tag);
  Result EvalMap(const YAML::Node& node, const std::string& path);
  Result EvalList(const YAML::Node& node, const std::string& path);
  Result EvalCall(const std::string& name, const YAML::Node& arg, bool arg_tagged,
                  const YAML::Mark& mark, const std::string& path);
  std::optional<TreeValue> EvalArg(const YAML::Node& arg, bool arg_tagged, const Call& call);
  std::optional<std::string> EvalString(const YAML::Node& arg, bool arg_tagged, const Call& call,
                                        std::string_view what);
  std::optional<std::vector<YAML::Node>> ArgList(const YAML::Node& arg, size_t min, size_t max,
                                                 const Call& call);

  Result Ref(const YAML::Node& arg, bool arg_tagged, const Call& call);
  Result GetAtt(const YAML::Node& arg, bool arg_tagged, const Call& call);
  Result Sub(const YAML::Node& arg, bool arg_tagged, const Call& call);
  Result Join(const YAML::Node& arg, bool arg_tagged, const Call& call);
  Result Select(const YAML::Node& arg, bool arg_tagged, const Call& call);
  Result Split(const YAML::Node& arg, bool arg_tagged, const Call& call);
  Result ImportValue(const YAML::Node& arg, bool arg_tagged, const Call& call);
  Result If(const YAML::Node& arg, bool arg_tagged, const Call& call);
  Result FindInMap(const YAML::Node& arg, bool arg_tagged, const Call& call);
  Result Base64(const YAML::Node& arg, bool arg_tagged, const Call& call);
  Result ConditionValue(const YAML::Node& arg, bool arg_tagged, const Call& call);
  Result Unsupported(const YAML::Node& arg, bool arg_tagged, const Call& call);

  Result ResolveRef(const std::string& name, const Call& call);
  Result PseudoParameter(const std::string& name, const Call& call);
  Result Parameter(const std::string& name, const YAML::Node& declaration, const Call& call);
  Result ResolveGetAtt(const std::string& resource, const std::string& attribute, const Call& call);
  std::optional<std::string> ResourceName(const std::string& logical_id);
  Result Substitute(const std::string& text, const std::map<std::string, TreeValue>& vars,
                    const Call& call);
  Result SubstituteVariable(const std::string& name, const std::map<std::string, TreeValue>& vars,
                            const Call& call);

  std::optional<bool> EvalCondition(const YAML::Node& node, const std::string& path, bool use_tag);
  std::optional<bool> NamedCondition(const std::string& name, const YAML::Mark& mark,
                                     const std::string& path);
  std::optional<bool> ConditionCall(const std::string& name, const YAML::Node& arg,
                                    const Call& call);

  std::nullopt_t Error(const Call& call, const std::string& message);
  void Note(const std::string& note);

  const YAML::Node& root_;
  const std::string& file_;
  CfnInputs inputs_;
  Diagnostics diagnostics_;
  std::vector<std::string> notes_;
  std::map<std::string, std::optional<bool>> conditions_;  // evaluated conditions
  std::set<std::string> evaluating_;                       // conditions/resources in progress
};

}  // namespace kiln::spec
