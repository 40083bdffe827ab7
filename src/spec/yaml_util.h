// Helpers over yaml-cpp for reading user files safely: 1-based positions, guards against deep
// nesting and alias bombs, and syntax errors turned into Diagnostics.
//
// Nothing here throws: yaml-cpp exceptions are caught and reported as Diagnostics.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "spec/diagnostic.h"

namespace kiln::spec {

// A Diagnostic for `file` at a yaml-cpp mark (0-based; -1 when unknown) shown 1-based.
Diagnostic DiagnosticAt(const std::string& file, const YAML::Mark& mark, std::string message);

// "a mapping", "a sequence", "a string" or "null", for messages.
std::string_view KindName(const YAML::Node& node);

// YAML 1.1 booleans as CodeBuild reads them: yes/no/true/false in any case.
std::optional<bool> ParseYamlBool(std::string_view text);

// Refuses text that yaml-cpp could recurse on too deeply: flow collections (`[[[[`) and block
// nesting (indentation, `- - -`) deeper than max_depth. A cheap scan of the text done before
// yaml-cpp sees it; it follows quotes, comments and block scalars, so it measures real files
// exactly, and can only overcount contrived ones (a plain scalar whose continuation lines keep
// indenting deeper).
// Checks done on the raw text before yaml-cpp sees it: its size, NUL bytes (a binary file) and
// nesting depth. `what` names the file in messages ("buildspec", "kiln.yml").
std::optional<Diagnostic> CheckRawText(std::string_view text, const std::string& file,
                                       std::string_view what, size_t max_bytes, int max_depth);

std::optional<Diagnostic> ScanNestingDepth(std::string_view text, int max_depth,
                                           const std::string& file);

// Loads the single YAML document in text. Null when the text holds no document. A syntax error,
// or a second non-empty document, comes back as the Diagnostic.
struct LoadedYaml {
  YAML::Node root;
  std::optional<Diagnostic> error;
};
LoadedYaml LoadSingleDocument(std::string_view text, const std::string& file);

// CheckRawText, LoadSingleDocument and CheckTree in turn: the guarded way every user file is
// read. diagnostics is empty when root may be read.
struct GuardedYaml {
  YAML::Node root;
  Diagnostics diagnostics;
};
GuardedYaml LoadChecked(std::string_view text, const std::string& file, std::string_view what,
                        size_t max_bytes, int max_depth, size_t max_nodes);

// Measures the loaded tree as a reader would see it, with every alias expanded: refuses more
// than max_nodes nodes (a "billion laughs" bomb), depth beyond max_depth, and alias cycles,
// without expanding anything. Also reports what yaml-cpp lets through: duplicate keys, and a
// bare word in a mapping without its ':' (yaml-cpp reads it as a key with a null value).
// Empty when the tree is fine.
Diagnostics CheckTree(const YAML::Node& root, std::string_view text, int max_depth,
                      size_t max_nodes, const std::string& file);

}  // namespace kiln::spec
