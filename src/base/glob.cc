#include "base/glob.h"

#include <algorithm>
#include <optional>
#include <span>
#include <system_error>

namespace kiln::base {
namespace fs = std::filesystem;

namespace {

constexpr size_t kNone = std::string_view::npos;

// Splits a '/'-separated path, dropping empty and "." components ("./a//b/" is "a/b").
std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    size_t slash = s.find('/');
    std::string_view part = s.substr(0, slash);
    if (!part.empty() && part != ".") out.push_back(part);
    if (slash == kNone) break;
    s.remove_prefix(slash + 1);
  }
  return out;
}

bool IsLiteral(std::string_view component) { return component.find_first_of("*?[\\") == kNone; }

// Matches c against the bracket class starting at p[i] == '['. Returns the index just past the
// closing ']' and sets *matched, or nullopt when the class is unterminated (then '[' is literal).
std::optional<size_t> MatchClass(std::string_view p, size_t i, char c, bool* matched) {
  size_t j = i + 1;
  bool negate = j < p.size() && (p[j] == '!' || p[j] == '^');
  if (negate) ++j;
  bool hit = false;
  for (bool first = true; j < p.size(); first = false) {
    if (p[j] == ']' && !first) {
      *matched = hit != negate;
      return j + 1;
    }
    char lo = p[j];
    if (lo == '\\' && j + 1 < p.size()) lo = p[++j];
    char hi = lo;
    if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
      hi = p[j + 2];
      j += 2;
    }
    hit = hit || (lo <= c && c <= hi);
    ++j;
  }
  return std::nullopt;
}

// Matches one non-'*' pattern element at p[i] against c; returns the index past the element,
// or nullopt when it does not match.
std::optional<size_t> MatchOne(std::string_view p, size_t i, char c) {
  if (p[i] == '?') return i + 1;
  if (p[i] == '[') {
    bool matched = false;
    if (auto next = MatchClass(p, i, c, &matched)) return matched ? next : std::nullopt;
  }
  if (p[i] == '\\' && i + 1 < p.size()) ++i;
  if (p[i] == c) return i + 1;
  return std::nullopt;
}

// Matches one path component. Backtracks only to the last '*', so the cost is at most
// O(|p| * |s|) rather than exponential in the number of stars.
bool MatchComponent(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0, star_p = kNone, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star_p = ++pi;
      star_s = si;
      continue;
    }
    if (pi < p.size()) {
      if (auto next = MatchOne(p, pi, s[si])) {
        pi = *next;
        ++si;
        continue;
      }
    }
    if (star_p == kNone) return false;
    pi = star_p;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

// The same last-star backtracking one level up: "**" is the star, components are the letters.
bool MatchComponents(std::span<const std::string_view> pat,
                     std::span<const std::string_view> path) {
  size_t pi = 0, si = 0, star_p = kNone, star_s = 0;
  while (si < path.size()) {
    if (pi < pat.size() && pat[pi] == "**") {
      star_p = ++pi;
      star_s = si;
      continue;
    }
    if (pi < pat.size() && MatchComponent(pat[pi], path[si])) {
      ++pi;
      ++si;
      continue;
    }
    if (star_p == kNone) return false;
    pi = star_p;
    si = ++star_s;
  }
  while (pi < pat.size() && pat[pi] == "**") ++pi;
  return pi == pat.size();
}

// True when some path below directory dir could still match pat; used to prune the walk.
bool CouldMatchBelow(std::span<const std::string_view> pat, std::string_view dir) {
  std::vector<std::string_view> parts = Split(dir);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i >= pat.size()) return false;
    if (pat[i] == "**") return true;
    if (!MatchComponent(pat[i], parts[i])) return false;
  }
  return parts.size() < pat.size();
}

// Length of "dir/" as the iterator spells its entries, to cut them down to relative paths.
size_t PrefixLength(const fs::path& dir) {
  const std::string& s = dir.native();
  return !s.empty() && s.back() == '/' ? s.size() : s.size() + 1;
}

std::string Join(std::span<const std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) {
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

// Walks dir (a real directory, or the pattern's literal prefix), collecting matching entries.
// select_all: the pattern named this directory, so every file below it is selected.
void Walk(const fs::path& dir, const std::string& rel_prefix, std::string_view pattern,
          bool select_all, std::vector<std::string>* out) {
  std::vector<std::string_view> pat = Split(pattern);
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  const size_t skip = PrefixLength(dir);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string rel = rel_prefix.empty() ? "" : rel_prefix + "/";
    rel += it->path().native().substr(skip);
    std::error_code st_ec;
    fs::file_status st = it->symlink_status(st_ec);
    if (st_ec) continue;  // vanished while walking
    if (fs::is_directory(st)) {
      if (!select_all && !CouldMatchBelow(pat, rel)) it.disable_recursion_pending();
      continue;
    }
    if (!fs::is_regular_file(st) && !fs::is_symlink(st)) continue;
    if (select_all || MatchComponents(pat, Split(rel))) out->push_back(std::move(rel));
  }
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view path) {
  std::vector<std::string_view> pat = Split(pattern);
  std::vector<std::string_view> parts = Split(path);
  return MatchComponents(pat, parts);
}

std::string GlobLiteralPrefix(std::string_view pattern) {
  std::vector<std::string_view> pat = Split(pattern);
  size_t n = 0;
  while (n < pat.size() && IsLiteral(pat[n])) ++n;
  return Join(std::span(pat).first(n));
}

bool GlobHasWildcards(std::string_view pattern) {
  for (std::string_view part : Split(pattern)) {
    if (!IsLiteral(part)) return true;
  }
  return false;
}

std::vector<std::string> GlobFiles(const fs::path& root, std::string_view pattern) {
  std::string prefix = GlobLiteralPrefix(pattern);
  fs::path start = prefix.empty() ? root : root / prefix;
  std::error_code ec;
  fs::file_status link_st = fs::symlink_status(start, ec);
  if (ec || !fs::exists(link_st)) return {};
  std::vector<std::string> out;
  bool named = !GlobHasWildcards(pattern);
  if (fs::is_directory(fs::status(start, ec))) {
    Walk(start, prefix, pattern, named, &out);
  } else if (named && !prefix.empty() &&
             (fs::is_regular_file(link_st) || fs::is_symlink(link_st))) {
    out.push_back(prefix);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> GlobDirectories(const fs::path& root, std::string_view pattern) {
  std::vector<std::string_view> pat = Split(pattern);
  std::vector<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  const size_t skip = PrefixLength(root);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string rel = it->path().native().substr(skip);
    std::error_code st_ec;
    bool real_dir = fs::is_directory(it->symlink_status(st_ec));
    if (!real_dir && !fs::is_directory(it->status(st_ec))) continue;  // a file, or dangling
    if (MatchComponents(pat, Split(rel))) out.push_back(rel);
    if (real_dir && !CouldMatchBelow(pat, rel)) it.disable_recursion_pending();
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace kiln::base
