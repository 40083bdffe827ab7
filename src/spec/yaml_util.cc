// The small yaml_util.h helpers (positions, kind names, booleans) and LoadChecked.
#include "spec/yaml_util.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "spec/yaml_text.h"

namespace kiln::spec {

Diagnostic DiagnosticAt(const std::string& file, const YAML::Mark& mark, std::string message) {
  bool known = mark.line >= 0 && mark.column >= 0;
  return Diagnostic{.file = file,
                    .line = known ? mark.line + 1 : 0,
                    .column = known ? mark.column + 1 : 0,
                    .message = std::move(message)};
}

std::string_view KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Scalar:
      return "a string";
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::optional<bool> ParseYamlBool(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  if (lower == "yes" || lower == "true") return true;
  if (lower == "no" || lower == "false") return false;
  return std::nullopt;
}

GuardedYaml LoadChecked(std::string_view text, const std::string& file, std::string_view what,
                        size_t max_bytes, int max_depth, size_t max_nodes) {
  GuardedYaml out;
  if (std::optional<Diagnostic> error = CheckRawText(text, file, what, max_bytes, max_depth)) {
    out.diagnostics.push_back(std::move(*error));
    return out;
  }
  LoadedYaml yaml = LoadSingleDocument(text, file);
  if (yaml.error) {
    out.diagnostics.push_back(std::move(*yaml.error));
    return out;
  }
  out.diagnostics = CheckTree(yaml.root, text, max_depth, max_nodes, file);
  out.root = yaml.root;
  return out;
}

namespace yaml_text {

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

}  // namespace yaml_text
}  // namespace kiln::spec
