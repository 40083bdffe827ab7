#include "spec/pipeline_providers.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <span>
#include <string_view>

#include "spec/pipeline_tree.h"

namespace kiln::spec {
namespace {

using Names = std::span<const std::string_view>;

struct ProviderRule {
  std::string_view provider;
  Names categories;
  Names owners;
  int min_inputs, max_inputs, min_outputs, max_outputs;
  Names required;
  Names optional;
  void (*check)(const Action&, std::vector<std::string>&);  // provider-specific rules, or null
};

constexpr std::string_view kCategories[] = {"Source",   "Build",  "Test",   "Deploy",
                                            "Approval", "Invoke", "Compute"};
constexpr std::string_view kSource[] = {"Source"};
constexpr std::string_view kBuildOrTest[] = {"Build", "Test"};
constexpr std::string_view kDeploy[] = {"Deploy"};
constexpr std::string_view kApproval[] = {"Approval"};
constexpr std::string_view kAws[] = {"AWS"};
// Git is Kiln's own provider: "Custom" says so, "AWS" keeps it beside the others.
constexpr std::string_view kAwsOrCustom[] = {"AWS", "Custom"};

constexpr std::string_view kConnectionRequired[] = {"ConnectionArn", "FullRepositoryId",
                                                    "BranchName"};
constexpr std::string_view kConnectionOptional[] = {"OutputArtifactFormat", "DetectChanges"};
constexpr std::string_view kCodeCommitRequired[] = {"RepositoryName", "BranchName"};
constexpr std::string_view kCodeCommitOptional[] = {"PollForSourceChanges", "OutputArtifactFormat"};
constexpr std::string_view kGitRequired[] = {"BranchName"};
constexpr std::string_view kGitOptional[] = {"ConnectionName", "Url", "DetectChanges",
                                             "OutputArtifactFormat"};
constexpr std::string_view kCodeBuildRequired[] = {"ProjectName"};
constexpr std::string_view kCodeBuildOptional[] = {"PrimarySource", "BatchEnabled",
                                                   "CombineArtifacts", "EnvironmentVariables"};
constexpr std::string_view kEcsRequired[] = {"ClusterName", "ServiceName"};
constexpr std::string_view kEcsOptional[] = {"FileName", "DeploymentTimeout"};
constexpr std::string_view kManualOptional[] = {"NotificationArn", "ExternalEntityLink",
                                                "CustomData"};
constexpr std::string_view kBoolKeys[] = {"DetectChanges", "PollForSourceChanges", "BatchEnabled",
                                          "CombineArtifacts"};
constexpr std::string_view kArtifactFormats[] = {"CODE_ZIP", "CODEBUILD_CLONE_REF"};
constexpr std::string_view kEnvTypes[] = {"PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER"};

// AWS-owned providers CodePipeline has and Kiln does not (yet).
constexpr std::string_view kOtherAwsProviders[] = {"S3",
                                                   "ECR",
                                                   "CodeDeploy",
                                                   "CodeDeployToECS",
                                                   "CloudFormation",
                                                   "CloudFormationStackSet",
                                                   "CloudFormationStackInstances",
                                                   "ElasticBeanstalk",
                                                   "Lambda",
                                                   "StepFunctions",
                                                   "ServiceCatalog",
                                                   "OpsWorks",
                                                   "AppConfig",
                                                   "AlexaSkillsKit",
                                                   "DeviceFarm",
                                                   "ECRBuildAndPublish",
                                                   "EC2",
                                                   "EKS",
                                                   "InspectorScan",
                                                   "Commands",
                                                   "CodePipeline"};

bool Contains(Names list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

std::string Join(Names list, std::string_view separator = ", ") {
  std::string out;
  for (std::string_view item : list) {
    out += (out.empty() ? "" : std::string(separator)) + std::string(item);
  }
  return out;
}

void CheckGit(const Action& action, std::vector<std::string>& out) {
  bool name = action.Config("ConnectionName").has_value(), url = action.Config("Url").has_value();
  if (!name && !url) out.push_back("Git needs configuration ConnectionName or Url");
  if (name && url) out.push_back("Git takes ConnectionName or Url, not both");
}

void CheckConnection(const Action& action, std::vector<std::string>& out) {
  std::optional<std::string> repo = action.Config("FullRepositoryId");
  if (repo && std::count(repo->begin(), repo->end(), '/') != 1) {
    out.push_back("FullRepositoryId '" + *repo + "' is not of the form owner/repository");
  }
}

std::optional<std::string> CheckEnvEntry(const nlohmann::json& entry) {
  if (!entry.is_object()) return "each entry must be an object {name, value, type}";
  for (const auto& [key, value] : entry.items()) {
    if (key != "name" && key != "value" && key != "type") return "unknown field '" + key + "'";
  }
  if (!entry.contains("name") || !entry["name"].is_string() || entry["name"].empty()) {
    return "each entry needs a non-empty string 'name'";
  }
  std::string name = entry["name"];
  if (!entry.contains("value") || !entry["value"].is_string()) {
    return "'" + name + "' needs a string 'value'";
  }
  if (entry.contains("type") &&
      (!entry["type"].is_string() || !Contains(kEnvTypes, entry["type"].get<std::string>()))) {
    return "'" + name + "' has a type other than " + Join(kEnvTypes, ", ");
  }
  return std::nullopt;
}

// CodePipeline's CodeBuild action: EnvironmentVariables is a JSON array of {name, value, type}.
void CheckEnvironmentVariables(const std::string& text, std::vector<std::string>& out) {
  nlohmann::json env = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!env.is_array()) {
    out.push_back("EnvironmentVariables is not a JSON array of {name, value, type}");
    return;
  }
  for (const nlohmann::json& entry : env) {
    if (std::optional<std::string> problem = CheckEnvEntry(entry)) {
      out.push_back("EnvironmentVariables: " + *problem);
      return;
    }
  }
}

void CheckCodeBuild(const Action& action, std::vector<std::string>& out) {
  std::optional<std::string> primary = action.Config("PrimarySource");
  if (action.input_artifacts.size() > 1 && !primary) {
    out.push_back("CodeBuild needs PrimarySource when it has more than one input artifact");
  }
  if (primary && std::find(action.input_artifacts.begin(), action.input_artifacts.end(),
                           *primary) == action.input_artifacts.end()) {
    out.push_back("PrimarySource '" + *primary + "' is not one of the action's input artifacts");
  }
  if (std::optional<std::string> env = action.Config("EnvironmentVariables")) {
    CheckEnvironmentVariables(*env, out);
  }
  // CodeBuild: CombineArtifacts only applies to batch builds.
  if (action.Config("CombineArtifacts") == "true" && action.Config("BatchEnabled") != "true") {
    out.push_back("CombineArtifacts needs BatchEnabled true");
  }
}

void CheckEcs(const Action& action, std::vector<std::string>& out) {
  std::optional<std::string> timeout = action.Config("DeploymentTimeout");
  if (!timeout) return;
  std::optional<int> minutes = ParseWholeInt(*timeout);
  if (!minutes || *minutes < 1 || *minutes > 60) {
    out.push_back("DeploymentTimeout '" + *timeout + "' is not a number of minutes from 1 to 60");
  }
}

constexpr ProviderRule kRules[] = {
    {"CodeStarSourceConnection", kSource, kAws, 0, 0, 1, 1, kConnectionRequired,
     kConnectionOptional, CheckConnection},
    {"CodeCommit", kSource, kAws, 0, 0, 1, 1, kCodeCommitRequired, kCodeCommitOptional, nullptr},
    {"Git", kSource, kAwsOrCustom, 0, 0, 1, 1, kGitRequired, kGitOptional, CheckGit},
    {"CodeBuild", kBuildOrTest, kAws, 1, 5, 0, 5, kCodeBuildRequired, kCodeBuildOptional,
     CheckCodeBuild},
    {"ECS", kDeploy, kAws, 1, 1, 0, 0, kEcsRequired, kEcsOptional, CheckEcs},
    {"Manual", kApproval, kAws, 0, 0, 0, 0, {}, kManualOptional, nullptr},
};

const ProviderRule* FindRule(std::string_view provider) {
  for (const ProviderRule& rule : kRules) {
    if (rule.provider == provider) return &rule;
  }
  return nullptr;
}

std::string KilnProviders() {
  return "Kiln supports Source: CodeStarSourceConnection, CodeCommit, Git; Build/Test: "
         "CodeBuild; Deploy: ECS; Approval: Manual";
}

std::string CountRange(int min, int max) {
  return min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max);
}

void CheckCount(std::string_view what, size_t count, int min, int max, const ProviderRule& rule,
                std::vector<std::string>& out) {
  if (count >= size_t(min) && count <= size_t(max)) return;
  out.push_back(std::string(rule.provider) + " takes " + CountRange(min, max) + " " +
                std::string(what) + " artifact(s), not " + std::to_string(count));
}

void CheckConfiguration(const Action& action, const ProviderRule& rule,
                        std::vector<std::string>& out) {
  for (std::string_view key : rule.required) {
    if (!action.Config(key)) {
      out.push_back(std::string(rule.provider) + " needs configuration " + std::string(key));
    }
  }
  for (const auto& [key, value] : action.configuration) {
    if (!Contains(rule.required, key) && !Contains(rule.optional, key)) {
      std::string known = Join(rule.required);
      if (!rule.optional.empty()) known += (known.empty() ? "" : ", ") + Join(rule.optional);
      out.push_back("unknown configuration key '" + key + "' for " + std::string(rule.provider) +
                    "; expected one of: " + known);
    } else if (Contains(kBoolKeys, key) && value != "true" && value != "false") {
      out.push_back(key + " must be true or false, not '" + value + "'");
    } else if (key == "OutputArtifactFormat" && !Contains(kArtifactFormats, value)) {
      out.push_back("OutputArtifactFormat must be CODE_ZIP or CODEBUILD_CLONE_REF");
    }
  }
}

void CheckRule(const Action& action, const ProviderRule& rule, std::vector<std::string>& out) {
  const ActionTypeId& type = action.type;
  if (!Contains(rule.categories, type.category)) {
    out.push_back(type.provider + " is a " + Join(rule.categories, " or ") + " action, not " +
                  type.category);
  }
  if (!Contains(rule.owners, type.owner)) {
    out.push_back(type.provider + " has owner " + Join(rule.owners, " or ") + ", not " +
                  type.owner);
  }
  if (type.version != "1")
    out.push_back(type.provider + " has only version 1, not " + type.version);
  CheckCount("input", action.input_artifacts.size(), rule.min_inputs, rule.max_inputs, rule, out);
  CheckCount("output", action.output_artifacts.size(), rule.min_outputs, rule.max_outputs, rule,
             out);
  CheckConfiguration(action, rule, out);
  if (rule.check) rule.check(action, out);
}

std::string Unsupported(const ActionTypeId& type) {
  std::string message = "provider " + type.provider + " (" + type.owner + " " + type.category +
                        " action) is not supported by Kiln yet; " + KilnProviders();
  // GitHub version 1 (OAuth) is deprecated by AWS too: its replacement is a connection.
  if (type.provider == "GitHub") {
    message += " (for GitHub use CodeStarSourceConnection or Git with a Kiln connection)";
  }
  return message;
}

}  // namespace

std::vector<std::string> CheckProvider(const Action& action) {
  std::vector<std::string> out;
  const ActionTypeId& type = action.type;
  if (!Contains(kCategories, type.category)) {
    out.push_back("unknown action category '" + type.category +
                  "'; expected one of: " + Join(kCategories));
    return out;
  }
  if (const ProviderRule* rule = FindRule(type.provider)) {
    CheckRule(action, *rule, out);
  } else if (type.owner != "AWS" || Contains(kOtherAwsProviders, type.provider)) {
    out.push_back(Unsupported(type));
  } else {
    out.push_back("unknown provider '" + type.provider + "'; " + KilnProviders());
  }
  return out;
}

bool IsSourceAction(const Action& action) { return action.type.category == "Source"; }

bool UsesConnection(const Action& action) {
  return action.type.provider == "CodeStarSourceConnection" ||
         (action.type.provider == "Git" && action.Config("ConnectionName").has_value());
}

}  // namespace kiln::spec
