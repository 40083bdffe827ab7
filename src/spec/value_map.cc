#include "spec/value_map.h"

#include <yaml-cpp/yaml.h>

namespace kiln::spec {
namespace {

Diagnostic At(const std::string& file, const YAML::Mark& m, std::string message) {
  return {file, m.line + 1, m.column + 1, std::move(message)};
}

}  // namespace

ParsedValueMap ParseValueMap(std::string_view text, const std::string& file) {
  ParsedValueMap out;
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (root.IsNull()) return out;
    if (!root.IsMap()) {
      out.diagnostics.push_back(At(file, root.Mark(), "expected a mapping of name: value"));
      return out;
    }
    for (const auto& kv : root) {
      if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
        out.diagnostics.push_back(At(file, kv.first.Mark(), "each entry must be name: value"));
        continue;
      }
      out.values[kv.first.Scalar()] = kv.second.Scalar();
    }
  } catch (const YAML::Exception& e) {
    out.diagnostics.push_back(At(file, e.mark, e.msg));
  }
  return out;
}

}  // namespace kiln::spec
