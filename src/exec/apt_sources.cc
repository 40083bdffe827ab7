#include "exec/apt_sources.h"

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <vector>

#include "base/files.h"

namespace kiln::exec {
namespace {

constexpr size_t kMaxSourcesFile = 1 << 20;

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// A suite of the main archive: no "-security"/"-updates"/"-backports" suffix.
bool MainSuite(const std::string& suite) {
  return !suite.empty() && suite.find('-') == std::string::npos &&
         suite.find('/') == std::string::npos;
}

bool Usable(const std::string& uri) {
  return uri.starts_with("http://") || uri.starts_with("https://") || uri.starts_with("file:/");
}

std::string TrimSlash(std::string uri) {
  while (uri.size() > 1 && uri.back() == '/') uri.pop_back();
  return uri;
}

// `deb [arch=amd64 signed-by=...] URI SUITE COMPONENTS...`
std::optional<std::string> OneLineEntry(std::string line) {
  line = line.substr(0, line.find('#'));
  auto open = line.find('[');
  if (open != std::string::npos) {
    auto close = line.find(']', open);
    if (close == std::string::npos) return std::nullopt;
    line.erase(open, close - open + 1);
  }
  auto w = Words(line);
  if (w.size() < 3 || w[0] != "deb" || !Usable(w[1]) || !MainSuite(w[2])) return std::nullopt;
  return TrimSlash(w[1]);
}

struct Stanza {
  std::vector<std::string> types, uris, suites;
  bool enabled = true;
};

std::optional<std::string> StanzaMirror(const Stanza& s) {
  bool deb = std::find(s.types.begin(), s.types.end(), "deb") != s.types.end();
  bool main = std::any_of(s.suites.begin(), s.suites.end(), MainSuite);
  if (!s.enabled || !deb || !main) return std::nullopt;
  for (const auto& uri : s.uris) {
    if (Usable(uri)) return TrimSlash(uri);
  }
  return std::nullopt;
}

// Applies one `Field: value` line of a deb822 stanza (continuation lines are not needed for
// the fields read here).
void ApplyField(const std::string& line, Stanza* s) {
  auto colon = line.find(':');
  if (colon == std::string::npos || line[0] == ' ' || line[0] == '\t') return;
  std::string field = line.substr(0, colon);
  std::transform(field.begin(), field.end(), field.begin(), ::tolower);
  auto values = Words(std::string_view(line).substr(colon + 1));
  if (field == "types") s->types = values;
  if (field == "uris") s->uris = values;
  if (field == "suites") s->suites = values;
  if (field == "enabled") s->enabled = values.empty() || values[0] != "no";
}

std::optional<std::string> Deb822Mirror(std::string_view text) {
  std::istringstream in{std::string(text)};
  Stanza stanza;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) {
      if (auto m = StanzaMirror(stanza)) return m;
      stanza = {};
    } else if (line[0] != '#') {
      ApplyField(line, &stanza);
    }
  }
  return StanzaMirror(stanza);
}

}  // namespace

std::optional<std::string> DebianMirrorIn(std::string_view text, bool deb822) {
  if (deb822) return Deb822Mirror(text);
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (auto m = OneLineEntry(line)) return m;
  }
  return std::nullopt;
}

std::optional<std::string> DetectDebianMirror(const std::string& apt_dir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files = {fs::path(apt_dir) / "sources.list"};
  std::vector<fs::path> parts;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(apt_dir) / "sources.list.d", ec)) {
    auto ext = e.path().extension();
    if (ext == ".sources" || ext == ".list") parts.push_back(e.path());
  }
  std::sort(parts.begin(), parts.end());
  files.insert(files.end(), parts.begin(), parts.end());
  for (const auto& f : files) {
    auto text = base::ReadFile(f, kMaxSourcesFile);
    if (!text.ok()) continue;  // absent or unreadable: apt would skip it too
    if (auto m = DebianMirrorIn(*text, f.extension() == ".sources")) return m;
  }
  return std::nullopt;
}

}  // namespace kiln::exec
