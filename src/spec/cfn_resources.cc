// What CfnEvaluator knows of a template's resources without AWS: which exist, their names
// and local ARNs.
#include <algorithm>
#include <cctype>

#include "spec/cfn_eval.h"
#include "spec/yaml_util.h"

namespace kiln::spec {
namespace {

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

}  // namespace

std::optional<bool> CfnEvaluator::ResourceExists(const YAML::Node& resource,
                                                 const std::string& path) {
  std::optional<YAML::Node> condition = YamlEntry(resource, "Condition");
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
  std::optional<YAML::Node> resources = YamlEntry(root_, "Resources");
  if (!resources || !resources->IsMap()) return out;
  for (const auto& entry : *resources) {
    std::optional<YAML::Node> resource_type = YamlEntry(entry.second, "Type");
    if (resource_type && resource_type->IsScalar() && resource_type->Scalar() == type) {
      out.push_back(CfnResource{.logical_id = entry.first.Scalar(),
                                .node = entry.second,
                                .line = entry.first.Mark().line + 1});
    }
  }
  return out;
}

// What Kiln can know of a resource's attributes without AWS: its name and a local ARN.
// Anything else (a nested stack's Outputs.X, a repository's CloneUrlHttp...) is supplied by
// the caller as "GetAtt:Resource.Attribute".
CfnEvaluator::Result CfnEvaluator::ResolveGetAtt(const std::string& resource,
                                                 const std::string& attribute, const Call& call) {
  std::string key = "GetAtt:" + resource + "." + attribute;
  if (auto it = inputs_.values.find(key); it != inputs_.values.end()) {
    return TreeValue::Scalar(it->second, call.mark);
  }
  std::optional<YAML::Node> node =
      YamlEntry(YamlEntry(root_, "Resources").value_or(YAML::Node()), resource);
  if (!node) return Error(call, "no resource named '" + resource + "'");
  std::string hint = "; supply it with --parameter '" + key + "=VALUE'";
  if (attribute != "Name" && attribute != "Arn") {
    return Error(call, resource + "." + attribute + " cannot be evaluated without AWS" + hint);
  }
  std::optional<std::string> name = ResourceName(resource);
  if (!name) return Error(call, "resource '" + resource + "' has no Name to evaluate" + hint);
  if (attribute == "Name") return TreeValue::Scalar(*name, call.mark);
  std::optional<YAML::Node> type = YamlEntry(*node, "Type");
  return TreeValue::Scalar(
      LocalArn(type && type->IsScalar() ? type->Scalar() : "AWS::Unknown::Resource", *name),
      call.mark);
}

// The resource's name property (Name, BucketName...) when it evaluates to a string. Failures
// are not reported: the caller falls back or reports in its own terms.
std::optional<std::string> CfnEvaluator::ResourceName(const std::string& logical_id) {
  std::optional<YAML::Node> resource =
      YamlEntry(YamlEntry(root_, "Resources").value_or(YAML::Node()), logical_id);
  std::optional<YAML::Node> type = resource ? YamlEntry(*resource, "Type") : std::nullopt;
  if (!type || !type->IsScalar()) return std::nullopt;
  std::optional<YAML::Node> name = YamlEntry(
      YamlEntry(*resource, "Properties").value_or(YAML::Node()), NameProperty(type->Scalar()));
  if (!name || !evaluating_.insert("Resource:" + logical_id).second) return std::nullopt;
  size_t reported = diagnostics_.size();
  Result value = EvalNode(*name, "/Resources/" + PointerToken(logical_id), true);
  diagnostics_.resize(reported);
  evaluating_.erase("Resource:" + logical_id);
  const TreeValue* v = value ? std::get_if<TreeValue>(&*value) : nullptr;
  if (!v || !v->IsScalar()) return std::nullopt;
  return v->text;
}

}  // namespace kiln::spec
