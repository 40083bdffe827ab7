#include "codebuild/environment.h"

#include <nlohmann/json.hpp>

#include "base/json_text.h"

namespace kiln::codebuild {
namespace {

base::Status Missing(const std::string& what) {
  return base::Status(base::ErrorKind::kFailed, "CLIENT_ERROR: " + what);
}

// Replaces an existing name in place (keeping order) or appends it.
void Set(VarList* vars, std::map<std::string, size_t>* index, const std::string& name,
         const std::string& value) {
  auto [it, inserted] = index->try_emplace(name, vars->size());
  if (inserted) {
    vars->emplace_back(name, value);
  } else {
    (*vars)[it->second].second = value;
  }
}

// Replaces $NAME and ${NAME} with values from vars: secret ids may name a variable
// (e.g. "$SECRET_NAME:TOKEN").
std::string ExpandRefs(const std::string& text, const VarList& vars) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    bool braced = text[i + 1] == '{';
    size_t start = i + (braced ? 2 : 1), end = start;
    while (end < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) {
      ++end;
    }
    if (end == start || (braced && (end == text.size() || text[end] != '}'))) {
      out += text[i];
      continue;
    }
    std::string name = text.substr(start, end - start);
    for (const auto& [k, v] : vars) {
      if (k == name) out += v;
    }
    i = braced ? end : end - 1;
  }
  return out;
}

}  // namespace

base::Result<std::string> ResolveSecretRef(const std::string& ref,
                                           const std::map<std::string, std::string>& secrets) {
  std::vector<std::string> parts;
  size_t pos = 0;
  for (;;) {
    size_t colon = ref.find(':', pos);
    parts.push_back(ref.substr(pos, colon - pos));
    if (colon == std::string::npos) break;
    pos = colon + 1;
  }
  // arn:aws:secretsmanager:<region>:<account>:secret:<name> is one id of seven fields.
  size_t id_fields = (parts.size() >= 7 && parts[0] == "arn") ? 7 : 1;
  std::string id;
  for (size_t i = 0; i < id_fields && i < parts.size(); ++i) id += (i ? ":" : "") + parts[i];
  auto it = secrets.find(id);
  if (it == secrets.end()) return Missing("secret '" + id + "' is not in the secrets file");
  std::string json_key = parts.size() > id_fields ? parts[id_fields] : "";
  if (json_key.empty()) return it->second;
  auto doc = nlohmann::json::parse(it->second, nullptr, false);
  if (!doc.is_object() || !doc.contains(json_key)) {
    return Missing("secret '" + id + "' has no JSON key '" + json_key + "'");
  }
  const auto& v = doc[json_key];
  return v.is_string() ? v.get<std::string>() : base::JsonText(v);
}

base::Result<ComposedEnv> ComposeEnvironment(const EnvInputs& in) {
  ComposedEnv out;
  out.mask = in.mask;
  std::map<std::string, size_t> index;
  for (const auto& [k, v] : in.inherited) Set(&out.vars, &index, k, v);
  VarList user;  // buildspec < project < overrides, then checked for reserved names
  if (in.buildspec) {
    for (const auto& kv : in.buildspec->variables) user.push_back(kv);
    for (const auto& [name, param] : in.buildspec->parameter_store) {
      auto it = in.parameters.find(param);
      if (it == in.parameters.end()) {
        return Missing("parameter '" + param + "' (for " + name +
                       ") is not in the parameters file");
      }
      user.emplace_back(name, it->second);
      out.mask.push_back(it->second);
    }
    for (const auto& [name, ref] : in.buildspec->secrets_manager) {
      auto value = ResolveSecretRef(ExpandRefs(ref, user), in.secrets);
      if (!value.ok()) {
        return base::Status(value.status().kind(),
                            value.status().message() + " (for " + name + ")");
      }
      user.emplace_back(name, *value);
      out.mask.push_back(*value);
    }
  }
  for (const auto& kv : in.project) user.push_back(kv);
  for (const auto& kv : in.overrides) user.push_back(kv);
  for (const auto& [k, v] : user) {
    if (k.starts_with("CODEBUILD_")) {
      out.warnings.push_back("variable " + k +
                             " ignored: names starting with CODEBUILD_ are "
                             "reserved");
      continue;
    }
    Set(&out.vars, &index, k, v);
  }
  for (const auto& [k, v] : in.builtin) Set(&out.vars, &index, k, v);
  return out;
}

std::vector<std::string> ToEnvStrings(const VarList& vars) {
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

void ResolveConfigStores(const spec::KilnConfig& config,
                         std::map<std::string, std::string>* parameters,
                         std::map<std::string, std::string>* secrets) {
  for (const auto& [name, ref] : config.parameters) {
    auto v = spec::ResolveValue(ref, config);
    if (v.ok) (*parameters)[name] = v.value;
  }
  for (const auto& [name, ref] : config.secrets) {
    auto v = spec::ResolveValue(ref, config);
    if (v.ok) (*secrets)[name] = v.value;
  }
}

base::Status AppendTypedVariables(const nlohmann::json& vars,
                                  const std::map<std::string, std::string>& parameters,
                                  const std::map<std::string, std::string>& secrets, VarList* out,
                                  std::vector<std::string>* mask) {
  for (const auto& v : vars) {
    if (!v.is_object()) return base::InvalidInput("a variable is not a {name, value, type} object");
    // Checked before value() reads them: a number where a string belongs would throw.
    for (const char* key : {"name", "value", "type"}) {
      if (v.contains(key) && !v.find(key)->is_string()) {
        return base::InvalidInput(std::string("a variable's ") + key + " is not a string");
      }
    }
    std::string name = v.value("name", ""), value = v.value("value", "");
    std::string type = v.value("type", "PLAINTEXT");
    if (type == "PARAMETER_STORE") {
      auto it = parameters.find(value);
      if (it == parameters.end()) return base::NotFound("parameter '" + value + "' not found");
      value = it->second;
      mask->push_back(value);  // CodeBuild: parameter-store values are hidden in every output
    } else if (type == "SECRETS_MANAGER") {
      auto s = ResolveSecretRef(value, secrets);
      if (!s.ok()) return s.status();
      value = *s;
      mask->push_back(value);
    }
    out->emplace_back(name, value);
  }
  return base::Status::Ok();
}

}  // namespace kiln::codebuild
