// LoadSingleDocument: one YAML document via yaml-cpp, its errors as Diagnostics at the line to fix.
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "spec/yaml_text.h"
#include "spec/yaml_util.h"

namespace kiln::spec {
namespace {

using yaml_text::SplitLines;

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

}  // namespace kiln::spec
