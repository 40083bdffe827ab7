// CheckRawText, ScanNestingDepth: size, NUL bytes and nesting depth, before yaml-cpp sees the text.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "spec/yaml_text.h"
#include "spec/yaml_util.h"

namespace kiln::spec {
namespace {

using yaml_text::SplitLines;

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

}  // namespace

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

}  // namespace kiln::spec
