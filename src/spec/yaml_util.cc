#include "spec/yaml_util.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

namespace kiln::spec {
namespace {

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

bool IsBlankOrEnd(std::string_view line, size_t pos) {
  return pos >= line.size() || line[pos] == ' ' || line[pos] == '\t';
}

// YAML comments start with '#' at a line's start or after whitespace ("a#b" is not one).
bool IsCommentStart(std::string_view line, size_t pos) {
  return line[pos] == '#' && (pos == 0 || line[pos - 1] == ' ' || line[pos - 1] == '\t');
}

// Follows YAML's lexical states closely enough to measure nesting: quoted scalars (which may span
// lines), comments, flow collections, block scalars (whose content is skipped) and block
// indentation, including several "- " indicators on one line.
class NestingScanner {
 public:
  explicit NestingScanner(int max_depth) : max_depth_(max_depth) {}

  // Scans one line; returns the 0-based column where nesting went past the limit.
  std::optional<size_t> ScanLine(std::string_view line);

 private:
  enum class At { kNode, kAfterNode, kFlow, kQuoted };

  std::optional<size_t> ScanRest(std::string_view line, size_t pos, At at);
  // One step in block context at the start of a node; updates pos and at.
  std::optional<size_t> StepNode(std::string_view line, size_t& pos, At& at);
  std::optional<size_t> StepFlow(std::string_view line, size_t& pos, At& at);
  size_t SkipQuoted(std::string_view line, size_t pos);
  bool StartsFlowToken(std::string_view line, size_t pos) const;
  bool PushBlock(size_t column);
  bool TooDeep() const { return block_levels_.size() + flow_depth_ > size_t(max_depth_); }

  int max_depth_;
  std::vector<size_t> block_levels_;  // indentation columns of the open block collections
  size_t flow_depth_ = 0;
  char quote_ = 0;  // the open quote, or 0
  size_t line_indent_ = 0;
  std::optional<size_t> block_scalar_parent_;  // indentation of the line that opened | or >
};

std::optional<size_t> NestingScanner::ScanLine(std::string_view line) {
  if (quote_ != 0) return ScanRest(line, 0, At::kQuoted);
  if (flow_depth_ > 0) return ScanRest(line, 0, At::kFlow);
  size_t indent = line.find_first_not_of(' ');
  if (block_scalar_parent_) {
    if (indent == std::string_view::npos || indent > *block_scalar_parent_) return std::nullopt;
    block_scalar_parent_.reset();
  }
  if (indent == std::string_view::npos || line[indent] == '#') return std::nullopt;
  line_indent_ = indent;
  if (line.starts_with("---") || line.starts_with("...")) {
    block_levels_.clear();  // a document marker closes every block
    return ScanRest(line, 3, At::kNode);
  }
  while (!block_levels_.empty() && block_levels_.back() > indent) block_levels_.pop_back();
  if (!PushBlock(indent)) return indent;
  return ScanRest(line, indent, At::kNode);
}

std::optional<size_t> NestingScanner::ScanRest(std::string_view line, size_t pos, At at) {
  while (pos < line.size()) {
    std::optional<size_t> too_deep;
    switch (at) {
      case At::kQuoted:
        pos = SkipQuoted(line, pos);
        if (quote_ != 0) return std::nullopt;
        at = flow_depth_ > 0 ? At::kFlow : At::kAfterNode;
        break;
      case At::kFlow:
        too_deep = StepFlow(line, pos, at);
        break;
      case At::kNode:
        too_deep = StepNode(line, pos, at);
        break;
      case At::kAfterNode:
        // A plain scalar or a closed collection: only "key: value" opens another node here.
        if (IsCommentStart(line, pos)) return std::nullopt;
        if (line[pos] == ':' && IsBlankOrEnd(line, pos + 1)) at = At::kNode;
        ++pos;
        break;
    }
    if (too_deep) return too_deep;
  }
  return std::nullopt;
}

std::optional<size_t> NestingScanner::StepNode(std::string_view line, size_t& pos, At& at) {
  char c = line[pos];
  if (c == ' ' || c == '\t') {
    ++pos;
  } else if (c == '#' || c == '|' || c == '>') {
    // A comment ends the line; a block scalar's content lines are skipped until the indent drops.
    if (c != '#') block_scalar_parent_ = line_indent_;
    pos = line.size();
  } else if ((c == '-' || c == '?' || c == ':') && IsBlankOrEnd(line, pos + 1)) {
    // "- - x" nests a sequence in a sequence on one line.
    if (c != ':' && pos != line_indent_ && !PushBlock(pos)) return pos;
    ++pos;
  } else if (c == '[' || c == '{') {
    flow_depth_ = 1;
    at = At::kFlow;
    if (TooDeep()) return pos;
    ++pos;
  } else if (c == '\'' || c == '"') {
    quote_ = c;
    at = At::kQuoted;
    ++pos;
  } else if (c == '&' || c == '!') {
    while (pos < line.size() && !IsBlankOrEnd(line, pos)) ++pos;  // anchor or tag, then the node
  } else {
    at = At::kAfterNode;
  }
  return std::nullopt;
}

std::optional<size_t> NestingScanner::StepFlow(std::string_view line, size_t& pos, At& at) {
  char c = line[pos];
  if (IsCommentStart(line, pos)) {
    pos = line.size();
  } else if (c == '[' || c == '{') {
    ++flow_depth_;
    if (TooDeep()) return pos;
  } else if (c == ']' || c == '}') {
    if (flow_depth_ > 0 && --flow_depth_ == 0) at = At::kAfterNode;
  } else if ((c == '\'' || c == '"') && StartsFlowToken(line, pos)) {
    quote_ = c;
    at = At::kQuoted;
  }
  ++pos;
  return std::nullopt;
}

// Returns the position after the closing quote; clears quote_ when the quote closes on this line.
size_t NestingScanner::SkipQuoted(std::string_view line, size_t pos) {
  for (; pos < line.size(); ++pos) {
    char c = line[pos];
    if (quote_ == '"' && c == '\\') {
      ++pos;  // an escaped character
    } else if (c == quote_) {
      if (quote_ == '\'' && pos + 1 < line.size() && line[pos + 1] == '\'') {
        ++pos;  // '' is a quote inside a single-quoted scalar
        continue;
      }
      quote_ = 0;
      return pos + 1;
    }
  }
  return line.size();
}

// In a flow collection a quote opens a scalar only at a token's start ("[a'b]" is a plain a'b).
bool NestingScanner::StartsFlowToken(std::string_view line, size_t pos) const {
  while (pos > 0 && (line[pos - 1] == ' ' || line[pos - 1] == '\t')) --pos;
  if (pos == 0) return true;
  char prev = line[pos - 1];
  return prev == '[' || prev == '{' || prev == ',' || prev == ':';
}

bool NestingScanner::PushBlock(size_t column) {
  if (block_levels_.empty() || block_levels_.back() < column) block_levels_.push_back(column);
  return !TooDeep();
}

// yaml-cpp reports "illegal map value" at the ':' after a word that was meant to be a key on
// its own line, because it folds that word into the next key. Finds the word's line instead:
// the nearest line above that is neither blank, a comment, an item, nor holds a ':'.
std::optional<YAML::Mark> FindKeyWithoutColon(std::string_view text, int error_line) {
  std::vector<std::string_view> lines = SplitLines(text);
  for (int i = std::min<int>(error_line, lines.size()) - 1; i >= 0; --i) {
    std::string_view line = lines[i];
    size_t indent = line.find_first_not_of(' ');
    if (indent == std::string_view::npos || line[indent] == '#') continue;
    if (line.find(':') != std::string_view::npos) return std::nullopt;
    if (std::string_view("-?[{'\"|>&*!").find(line[indent]) != std::string_view::npos) {
      return std::nullopt;
    }
    YAML::Mark mark;
    mark.line = i;
    mark.column = int(indent);
    return mark;
  }
  return std::nullopt;
}

std::string SyntaxHint(const std::string& message) {
  if (message == YAML::ErrorMsg::END_OF_MAP || message == YAML::ErrorMsg::END_OF_SEQ) {
    return " (check this line's indentation, and that list items start with '- ')";
  }
  return "";
}

Diagnostic SyntaxError(std::string_view text, const YAML::ParserException& e,
                       const std::string& file) {
  if (e.msg == YAML::ErrorMsg::MAP_VALUE) {
    if (std::optional<YAML::Mark> word = FindKeyWithoutColon(text, e.mark.line)) {
      return DiagnosticAt(file, *word,
                          "invalid YAML: expected 'key: value' but this line has no ':'");
    }
  }
  return DiagnosticAt(file, e.mark, "invalid YAML: " + e.msg + SyntaxHint(e.msg));
}

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

std::optional<Diagnostic> CheckRawText(std::string_view text, const std::string& file,
                                       std::string_view what, size_t max_bytes, int max_depth) {
  if (text.size() > max_bytes) {
    return Diagnostic{.file = file,
                      .message = std::string(what) + " is " + std::to_string(text.size()) +
                                 " bytes; the limit is " + std::to_string(max_bytes)};
  }
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
    YAML::Mark mark;
    mark.line = int(std::count(text.begin(), text.begin() + nul, '\n'));
    mark.column = int(nul - (text.rfind('\n', nul) + 1));  // npos + 1 wraps to 0
    return DiagnosticAt(file, mark,
                        std::string(what) + " contains a NUL byte (is it a binary file?)");
  }
  return ScanNestingDepth(text, max_depth, file);
}

std::optional<Diagnostic> ScanNestingDepth(std::string_view text, int max_depth,
                                           const std::string& file) {
  NestingScanner scanner(max_depth);
  int line_number = 0;
  for (std::string_view line : SplitLines(text)) {
    if (std::optional<size_t> column = scanner.ScanLine(line)) {
      return Diagnostic{
          .file = file,
          .line = line_number + 1,
          .column = int(*column) + 1,
          .message = "YAML nesting is deeper than " + std::to_string(max_depth) + " levels"};
    }
    ++line_number;
  }
  return std::nullopt;
}

namespace {

// Notes where the first node of each document is, without building anything.
class DocumentCounter : public YAML::EventHandler {
 public:
  std::vector<std::optional<YAML::Mark>> contents;  // per document: its first non-null node

  void OnDocumentStart(const YAML::Mark&) override { contents.emplace_back(); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { Content(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Content(m);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Content(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Content(m);
  }
  void OnMapEnd() override {}

 private:
  void Content(const YAML::Mark& m) {
    if (!contents.empty() && !contents.back()) contents.back() = m;
  }
};

}  // namespace

LoadedYaml LoadSingleDocument(std::string_view text, const std::string& file) {
  LoadedYaml out;
  try {
    // Not YAML::LoadAll: on some malformed input (e.g. ",o+\xc0", found by fuzzing) yaml-cpp
    // 0.7 reports empty documents forever. Two documents are all we need to look at.
    std::stringstream in{std::string(text)};
    YAML::Parser parser(in);
    DocumentCounter counter;
    for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
    }
    // "---" at the very end makes an empty second document, which is harmless.
    if (counter.contents.size() > 1 && counter.contents[1]) {
      out.error = DiagnosticAt(file, *counter.contents[1],
                               "a second YAML document starts here; expected only one");
      return out;
    }
    out.root = YAML::Load(std::string(text));
  } catch (const YAML::DeepRecursion& e) {
    out.error = DiagnosticAt(file, e.mark, "invalid YAML: nesting is too deep");
  } catch (const YAML::ParserException& e) {
    out.error = SyntaxError(text, e, file);
  } catch (const YAML::Exception& e) {
    out.error = DiagnosticAt(file, e.mark, "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    out.error = Diagnostic{.file = file, .message = std::string("cannot read YAML: ") + e.what()};
  }
  return out;
}

Diagnostics CheckTree(const YAML::Node& root, std::string_view text, int max_depth,
                      size_t max_nodes, const std::string& file) {
  return TreeChecker(text, max_depth, max_nodes, file).Run(root);
}

}  // namespace kiln::spec

namespace kiln::spec {

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

}  // namespace kiln::spec
