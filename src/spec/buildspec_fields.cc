// The buildspec Parser's field readers: mapping walks, unknown keys, strings, lists, commands.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

#include "spec/buildspec_parser.h"
#include "spec/yaml_util.h"

namespace kiln::spec::buildspec_yml {
namespace {

// "pre-build" for "pre_build", "Files" for "files": the same key spelled another way.
std::string Normalize(std::string_view key) {
  std::string out(key);
  for (char& c : out) c = c == '-' ? '_' : char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Suggestion(std::string_view key, KeyList known) {
  for (std::string_view k : known) {
    if (Normalize(k) == Normalize(key)) return " (did you mean '" + std::string(k) + "'?)";
  }
  if (key == "plaintext") return " (buildspec 0.2 renamed plaintext to variables)";
  if (key == "runtime-versions") return " (runtime-versions belongs in phases.install)";
  return "";
}

std::string UnknownKeyMessage(std::string_view parent, std::string_view key, KeyList known) {
  std::string what = parent.empty() ? "top-level key" : parent == "phases" ? "phase" : "key";
  std::string where = parent.empty() || parent == "phases" ? "" : " in " + std::string(parent);
  return "unknown " + what + " '" + std::string(key) + "'" + where + Suggestion(key, known) +
         "; expected one of: " + JoinList(known);
}

}  // namespace

bool Contains(KeyList list, std::string_view key) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

std::string JoinList(KeyList list) {
  std::string out;
  for (std::string_view item : list) out += (out.empty() ? "" : ", ") + std::string(item);
  return out;
}

std::string Join(std::string_view parent, std::string_view key) {
  return parent.empty() ? std::string(key) : std::string(parent) + "." + std::string(key);
}

int LineOf(const YAML::Node& node) { return node.Mark().line + 1; }

void Parser::ForEachEntry(const Field& map, const ReadFn& read) {
  for (const auto& entry : map.value) {
    if (!entry.first.IsScalar()) {
      Error(entry.first.Mark(), "keys in " + (map.path.empty() ? "the buildspec" : map.path) +
                                    " must be strings, not " + std::string(KindName(entry.first)));
      continue;
    }
    read(Field{
        .path = Join(map.path, entry.first.Scalar()), .key = entry.first, .value = entry.second});
  }
}

void Parser::ForEachField(const Field& map, KeyList known, const ReadFn& read) {
  ForEachEntry(map, [&](const Field& f) {
    if (Contains(known, f.name())) {
      read(f);
    } else {
      Error(f.key.Mark(), UnknownKeyMessage(map.path, f.name(), known));
    }
  });
}

// True for a mapping. Null is quietly false (an empty section); anything else is an error.
bool Parser::IsMapping(const Field& f) {
  if (f.value.IsMap()) return true;
  if (!f.value.IsNull()) {
    Error(f.Where(), f.path + " must be a mapping, not " + std::string(KindName(f.value)));
  }
  return false;
}

std::optional<std::string> Parser::ReadString(const Field& f) {
  if (f.value.IsScalar()) return f.value.Scalar();
  Error(f.Where(), f.path + " must be a string, not " + std::string(KindName(f.value)));
  return std::nullopt;
}

bool Parser::ReadBool(const Field& f) {
  std::optional<bool> value;
  if (f.value.IsScalar()) value = ParseYamlBool(f.value.Scalar());
  if (!value) Error(f.Where(), f.path + " must be yes, no, true or false");
  return value.value_or(false);
}

// A single string is accepted as a one-element list where CodeBuild's examples allow it
// (artifacts.files: images.json in CloudFormation templates); an empty `-` item is skipped.
std::vector<std::string> Parser::ReadStrings(const Field& f, bool allow_scalar) {
  std::vector<std::string> out;
  if (f.value.IsNull()) return out;
  if (f.value.IsScalar() && allow_scalar) return {f.value.Scalar()};
  if (!f.value.IsSequence()) {
    Error(f.Where(),
          f.path + " must be a sequence of strings, not " + std::string(KindName(f.value)));
    return out;
  }
  size_t index = 0;
  for (const YAML::Node& item : f.value) {
    ++index;
    if (item.IsScalar()) {
      out.push_back(item.Scalar());
    } else if (!item.IsNull()) {
      Error(item.Mark(), f.path + " item " + std::to_string(index) + " must be a string, not " +
                             std::string(KindName(item)));
    }
  }
  return out;
}

// An absent, null or empty list: CodeBuild needs at least one path here.
void Parser::RequireList(const Field& parent, std::string_view key,
                         const std::vector<std::string>& list) {
  if (list.empty()) {
    Error(parent.key.Mark(), Join(parent.path, key) + " is required and must list a path");
  }
}

OrderedMap Parser::ReadStringMap(const Field& f) {
  OrderedMap out;
  if (!IsMapping(f)) return out;
  ForEachEntry(f, [&](const Field& entry) {
    if (entry.value.IsNull()) {
      Error(entry.key.Mark(),
            entry.path + " has no value (write " + entry.name() + ": \"\" for an empty one)");
    } else if (std::optional<std::string> value = ReadString(entry)) {
      out.emplace_back(entry.name(), std::move(*value));
    }
  });
  return out;
}

// Each sequence item is one command, so a `|` block or a folded multi-line scalar is one.
std::vector<Command> Parser::ReadCommands(const Field& f) {
  std::vector<Command> out;
  if (f.value.IsNull()) return out;  // `commands:` with nothing: no commands
  if (!f.value.IsSequence()) {
    Error(f.Where(), f.path + " must be a sequence of strings (one '- ' item per command), not " +
                         std::string(KindName(f.value)));
    return out;
  }
  size_t index = 0;
  for (const YAML::Node& item : f.value) {
    ++index;
    if (item.IsScalar()) {
      out.push_back(Command{.text = item.Scalar(), .line = LineOf(item)});
    } else if (!item.IsNull()) {  // an empty `-` is no command
      ReportCommandItem(f, index, item);
    }
  }
  return out;
}

// `- echo foo: bar` is a mapping in YAML, a classic buildspec mistake: say how to fix it.
void Parser::ReportCommandItem(const Field& f, size_t index, const YAML::Node& item) {
  std::string message = f.path + " item " + std::to_string(index) + " must be a string, not " +
                        std::string(KindName(item));
  if (item.IsMap()) {
    auto first = item.begin();
    if (item.size() == 1 && first->first.IsScalar() && first->second.IsScalar()) {
      message += ": YAML reads `" + first->first.Scalar() + ": " + first->second.Scalar() +
                 "` as a key and a value because of the ': '";
    }
    message += "; quote the whole command";
  }
  Error(item.Mark(), std::move(message));
}

}  // namespace kiln::spec::buildspec_yml
