// The buildspec parser shared by buildspec.cc (top level), buildspec_fields.cc (field readers)
// and buildspec_sections.cc (section readers). Internal to src/spec; namespace buildspec_yml
// keeps its names to itself.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "spec/buildspec.h"
#include "spec/diagnostic.h"
#include "spec/yaml_util.h"

namespace kiln::spec::buildspec_yml {

using KeyList = std::span<const std::string_view>;

// The keys of phases:, in kAllPhases order.
inline constexpr std::string_view kPhaseNames[] = {"install", "pre_build", "build", "post_build"};

bool Contains(KeyList list, std::string_view key);
// "a, b, c", for messages.
std::string JoinList(KeyList list);
// The dotted path of key below parent ("phases.build" for "phases", "build").
std::string Join(std::string_view parent, std::string_view key);
// A node's 1-based line.
int LineOf(const YAML::Node& node);

// A mapping entry being read, with its dotted path for messages ("phases.build.commands").
struct Field {
  std::string path;
  YAML::Node key;
  YAML::Node value;

  const std::string& name() const { return key.Scalar(); }
  // A null value's mark is the next token's, so point at the key instead.
  YAML::Mark Where() const { return value.IsNull() ? key.Mark() : value.Mark(); }
};

// Turns a YAML tree into a Buildspec, reporting every problem it can find.
class Parser {
 public:
  Parser(const std::string& file, Diagnostics& out) : file_(file), out_(out) {}
  Buildspec Parse(const YAML::Node& root);

 private:
  using ReadFn = std::function<void(const Field&)>;

  void Error(const YAML::Mark& mark, std::string message) {
    out_.push_back(DiagnosticAt(file_, mark, std::move(message)));
  }
  // Field readers (buildspec_fields.cc).
  void ForEachEntry(const Field& map, const ReadFn& read);
  void ForEachField(const Field& map, KeyList known, const ReadFn& read);
  bool IsMapping(const Field& f);
  std::optional<std::string> ReadString(const Field& f);
  bool ReadBool(const Field& f);
  std::vector<std::string> ReadStrings(const Field& f, bool allow_scalar);
  void RequireList(const Field& parent, std::string_view key, const std::vector<std::string>& list);
  OrderedMap ReadStringMap(const Field& f);
  std::vector<Command> ReadCommands(const Field& f);
  void ReportCommandItem(const Field& f, size_t index, const YAML::Node& item);

  // The top level (buildspec.cc).
  void ReadVersion(const YAML::Node& root);
  void ReadTopLevel(const Field& f);

  // Sections (buildspec_sections.cc).
  void ReadEnv(const Field& f);
  void ReadLegacyEnv(const Field& f);
  void ReadProxy(const Field& f);
  void ReadBatch(const Field& f);
  void ReadPhase(const Field& f);
  OnFailure ReadOnFailure(const Field& f);
  void ReadArtifacts(const Field& f);
  ArtifactSpec ReadArtifactSpec(const Field& f, KeyList known);
  void ReadSecondaryArtifacts(const Field& f);
  void ReadReport(const Field& f);
  void ReadCache(const Field& f);

  const std::string& file_;
  Diagnostics& out_;
  Buildspec spec_;
  bool saw_phases_ = false;
};

}  // namespace kiln::spec::buildspec_yml
