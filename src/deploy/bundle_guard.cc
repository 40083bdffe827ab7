#include "deploy/bundle_guard.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::deploy {
namespace {

using Parts = std::vector<std::string>;

// Resolving a link follows at most this many links (Linux's own limit), so a loop ends.
constexpr int kMaxLinkHops = 40;

base::Status EntryError(const std::string& name, const std::string& why) {
  return base::InvalidInput("entry '" + name + "': " + why);
}

// Splits on '/', dropping empty and "." parts; ".." is kept for the caller to judge.
Parts Split(std::string_view path) {
  Parts parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view part = path.substr(start, end - start);
    if (!part.empty() && part != ".") parts.emplace_back(part);
    start = end + 1;
  }
  return parts;
}

std::string Join(const Parts& parts, size_t count) {
  std::string path;
  for (size_t i = 0; i < count; ++i) {
    if (i) path += '/';
    path += parts[i];
  }
  return path;
}

// The entry's path relative to the root, or nullopt if it is absolute or has "..".
std::optional<Parts> Normalize(std::string_view name) {
  if (name.starts_with('/')) return std::nullopt;
  Parts parts = Split(name);
  for (const auto& part : parts) {
    if (part == "..") return std::nullopt;
  }
  return parts;
}

}  // namespace

std::string DescribeBytes(uint64_t bytes) {
  struct Unit {
    uint64_t size;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}};
  for (const Unit& unit : kUnits) {
    if (bytes >= unit.size && bytes % unit.size == 0) {
      return std::to_string(bytes / unit.size) + " " + unit.name;
    }
  }
  return std::to_string(bytes) + " bytes";
}

base::Result<std::string> BundleGuard::Admit(const BundleEntry& entry) {
  if (auto st = CheckCount(entry.name); !st.ok()) return st;
  auto parts = Normalize(entry.name);
  if (!parts) return EntryError(entry.name, "path escapes the bundle (absolute or '..')");
  const std::string path = Join(*parts, parts->size());
  if (auto st = CheckPath(entry, path); !st.ok()) return st;
  switch (entry.kind) {
    case BundleEntry::Kind::kSymlink:
      if (auto st = AdmitSymlink(entry, path); !st.ok()) return st;
      break;
    case BundleEntry::Kind::kHardlink:
      if (auto st = AdmitHardlink(entry); !st.ok()) return st;
      break;
    case BundleEntry::Kind::kOther:
      return EntryError(entry.name, "not a file, folder or link");
    default:
      break;
  }
  if (auto st = Charge(entry.name, entry.size); !st.ok()) return st;
  for (size_t i = 1; i < parts->size(); ++i) folders_.insert(Join(*parts, i));
  if (entry.kind == BundleEntry::Kind::kDir) folders_.insert(path);
  written_.insert(path);
  return path;
}

base::Status BundleGuard::CheckCount(const std::string& name) {
  if (++entries_ <= limits_.max_entries) return base::Status::Ok();
  return EntryError(name, "more than " + std::to_string(limits_.max_entries) +
                              " entries (limit server.limits.bundle_entries)");
}

base::Status BundleGuard::Charge(const std::string& name, uint64_t bytes) {
  if (bytes <= limits_.max_bytes - bytes_) {  // bytes_ never passes max_bytes
    bytes_ += bytes;
    return base::Status::Ok();
  }
  return EntryError(name, "unpacked size exceeds " + DescribeBytes(limits_.max_bytes) +
                              " (limit server.limits.bundle_bytes)");
}

// No entry may be written through a symlink (its parent would be the link's target), nor
// replace one, and the root itself is only ever a folder.
base::Status BundleGuard::CheckPath(const BundleEntry& entry, const std::string& path) {
  if (path.empty() && entry.kind != BundleEntry::Kind::kDir) {
    return EntryError(entry.name, "names the bundle root");
  }
  const Parts parts = Split(path);
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string parent = Join(parts, i);
    if (links_.contains(parent))
      return EntryError(entry.name, "path goes through symlink '" + parent + "'");
  }
  if (links_.contains(path)) return EntryError(entry.name, "replaces an earlier symlink");
  return base::Status::Ok();
}

base::Status BundleGuard::AdmitSymlink(const BundleEntry& entry, const std::string& path) {
  if (written_.contains(path) || folders_.contains(path)) {
    return EntryError(entry.name, "symlink replaces a folder or an earlier entry");
  }
  if (!ResolvesInside(path, entry.link)) {
    return EntryError(entry.name, "symlink points outside the bundle");
  }
  links_.emplace(path, entry.link);
  return base::Status::Ok();
}

// A hard link must name an earlier file or folder entry: not a symlink (a hard link to one is
// a second symlink whose relative target would mean something else in its new place).
base::Status BundleGuard::AdmitHardlink(const BundleEntry& entry) {
  auto target = Normalize(entry.link);
  const std::string path = target ? Join(*target, target->size()) : "";
  if (!target || !written_.contains(path) || links_.contains(path) || folders_.contains(path)) {
    return EntryError(entry.name,
                      "hard link target '" + entry.link + "' is not an earlier file of the bundle");
  }
  return base::Status::Ok();
}

// Resolves `target` as the kernel would, one part at a time from the link's folder, expanding
// the links admitted so far; false if it ever climbs above the root, is absolute, or loops.
bool BundleGuard::ResolvesInside(const std::string& link_path, const std::string& target) {
  if (target.empty() || target.starts_with('/')) return false;
  Parts at = Split(link_path);
  at.pop_back();  // the folder holding the link
  Parts first = Split(target);
  std::deque<std::string> todo(first.begin(), first.end());
  std::vector<std::string> walked;
  int hops = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == "..") {
      if (at.empty()) return false;
      at.pop_back();
      continue;
    }
    at.push_back(std::move(part));
    const std::string path = Join(at, at.size());
    auto link = links_.find(path);
    if (link == links_.end()) {
      if (!todo.empty()) walked.push_back(path);
      continue;
    }
    if (++hops > kMaxLinkHops) return false;
    at.pop_back();
    Parts next = Split(link->second);
    todo.insert(todo.begin(), next.begin(), next.end());
  }
  folders_.insert(walked.begin(), walked.end());
  return true;
}

}  // namespace kiln::deploy
