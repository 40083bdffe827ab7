// CheckTree: node count, depth and alias cycles with aliases expanded; duplicate keys, bare words.
#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "spec/yaml_text.h"
#include "spec/yaml_util.h"

namespace kiln::spec {
namespace {

using yaml_text::SplitLines;

// See CheckTree in the header. An aliased node is one shared node in yaml-cpp, so the checker
// measures each distinct collection once and adds up what every use of it would expand to: the
// count is that of a walk visiting every alias, without the walk's cost.
class TreeChecker {
 public:
  TreeChecker(std::string_view text, int max_depth, size_t max_nodes, const std::string& file)
      : lines_(SplitLines(text)), max_depth_(max_depth), max_nodes_(max_nodes), file_(file) {}

  Diagnostics Run(const YAML::Node& root) {
    Measure(root, 1);
    return std::move(out_);
  }

 private:
  // What a subtree expands to: its node count and its height.
  struct Extent {
    size_t nodes = 1;
    int height = 1;
  };
  struct Measured {
    YAML::Node node;
    std::optional<Extent> extent;  // empty while the node is being measured
  };

  std::optional<Extent> Measure(const YAML::Node& node, int depth);
  std::optional<Extent> MeasureChildren(const YAML::Node& node, int depth);
  bool Add(Extent& total, const std::optional<Extent>& child, const YAML::Node& node);
  Measured* Find(const YAML::Node& node);
  void CheckKey(const YAML::Node& key, const YAML::Node& value,
                std::vector<std::pair<std::string, YAML::Mark>>& seen);
  bool HasColonAfter(const YAML::Mark& mark) const;
  std::nullopt_t TooDeep(const YAML::Node& node);
  void Report(const YAML::Mark& mark, std::string message);

  std::vector<std::string_view> lines_;
  int max_depth_;
  size_t max_nodes_;
  const std::string& file_;
  std::multimap<int, Measured> measured_;  // collections by source position
  Diagnostics out_;
};

std::optional<TreeChecker::Extent> TreeChecker::Measure(const YAML::Node& node, int depth) {
  if (depth > max_depth_) return TooDeep(node);
  if (!node.IsMap() && !node.IsSequence()) return Extent{};
  if (Measured* seen = Find(node)) {
    if (!seen->extent) {
      Report(node.Mark(), "an alias refers to a node that contains it");
      return std::nullopt;
    }
    if (depth + seen->extent->height - 1 > max_depth_) return TooDeep(node);
    return seen->extent;
  }
  auto it = measured_.emplace(node.Mark().pos, Measured{.node = node});
  std::optional<Extent> extent = MeasureChildren(node, depth);
  it->second.extent = extent;
  return extent;
}

std::optional<TreeChecker::Extent> TreeChecker::MeasureChildren(const YAML::Node& node, int depth) {
  Extent total;
  if (node.IsSequence()) {
    for (const YAML::Node& child : node) {
      if (!Add(total, Measure(child, depth + 1), node)) return std::nullopt;
    }
    return total;
  }
  std::vector<std::pair<std::string, YAML::Mark>> seen;
  for (const auto& entry : node) {
    if (!Add(total, Measure(entry.first, depth + 1), node) ||
        !Add(total, Measure(entry.second, depth + 1), node)) {
      return std::nullopt;
    }
    if (entry.first.IsScalar()) CheckKey(entry.first, entry.second, seen);
  }
  return total;
}

// Adds a child's extent to its parent's; false once a limit is hit.
bool TreeChecker::Add(Extent& total, const std::optional<Extent>& child, const YAML::Node& node) {
  if (!child) return false;
  total.height = std::max(total.height, child->height + 1);
  total.nodes += child->nodes;
  if (total.nodes <= max_nodes_) return true;
  Report(node.Mark(), "the YAML holds more than " + std::to_string(max_nodes_) +
                          " nodes (each use of an alias counts again)");
  return false;
}

TreeChecker::Measured* TreeChecker::Find(const YAML::Node& node) {
  auto [begin, end] = measured_.equal_range(node.Mark().pos);
  for (auto it = begin; it != end; ++it) {
    if (it->second.node.is(node)) return &it->second;
  }
  return nullptr;
}

void TreeChecker::CheckKey(const YAML::Node& key, const YAML::Node& value,
                           std::vector<std::pair<std::string, YAML::Mark>>& seen) {
  const std::string& name = key.Scalar();
  auto first =
      std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == name; });
  if (first != seen.end()) {
    Report(key.Mark(), "duplicate key '" + name + "' (first at line " +
                           std::to_string(first->second.line + 1) + ")");
  }
  seen.emplace_back(name, key.Mark());
  // yaml-cpp gives a bare word its own position as a null value's; "key:" has a ':' after it.
  const YAML::Mark &k = key.Mark(), &v = value.Mark();
  if (value.IsNull() && k.line == v.line && k.column == v.column && !HasColonAfter(k)) {
    Report(k, "'" + name + "' is not 'key: value' (missing ':'?)");
  }
}

bool TreeChecker::HasColonAfter(const YAML::Mark& mark) const {
  if (mark.line < 0 || size_t(mark.line) >= lines_.size()) return true;
  std::string_view line = lines_[mark.line];
  return line.find(':', std::min(size_t(std::max(mark.column, 0)), line.size())) !=
         std::string_view::npos;
}

std::nullopt_t TreeChecker::TooDeep(const YAML::Node& node) {
  Report(node.Mark(), "YAML nesting is deeper than " + std::to_string(max_depth_) + " levels");
  return std::nullopt;
}

void TreeChecker::Report(const YAML::Mark& mark, std::string message) {
  out_.push_back(DiagnosticAt(file_, mark, std::move(message)));
}

}  // namespace

Diagnostics CheckTree(const YAML::Node& root, std::string_view text, int max_depth,
                      size_t max_nodes, const std::string& file) {
  return TreeChecker(text, max_depth, max_nodes, file).Run(root);
}

}  // namespace kiln::spec
