#include "codebuild/cache.h"

#include <fcntl.h>
#include <stdio.h>   // renameat2
#include <unistd.h>  // syncfs

#include <cerrno>
#include <chrono>
#include <optional>
#include <system_error>

#include "base/fd.h"
#include "base/ids.h"
#include "codebuild/artifacts.h"

namespace kiln::codebuild {
namespace fs = std::filesystem;
using base::InvalidInput;
using base::Result;
using base::Status;

namespace {

// An encoded key must fit in one folder name (NAME_MAX is 255).
constexpr size_t kMaxEncodedKey = 240;
// Staging folders this old were left by a crash; younger ones may be a save in progress.
constexpr auto kStaleStaging = std::chrono::hours(24);

// Percent-encodes s into a single safe folder name: '/' and every byte outside [A-Za-z0-9_-.]
// are encoded, and so is a leading '.', so "..", "." or "a/../../b" can never name another
// folder. Empty is "%", which no non-empty name encodes to.
std::string EncodeName(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  if (s.empty()) return "%";
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || (c == '.' && i > 0);
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Inverse of EncodeName; nullopt for a folder name EncodeName never produces.
std::optional<std::string> DecodeName(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = HexValue(s[i + 1]);
    int lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

struct Mode {
  bool restore = true;
  bool save = true;
};

// CodeBuild: action "restore" only restores, "save" only saves, no action does both.
Result<Mode> ParseAction(const std::optional<std::string>& action) {
  if (!action) return Mode{};
  if (*action == "restore") return Mode{.restore = true, .save = false};
  if (*action == "save") return Mode{.restore = false, .save = true};
  return InvalidInput("cache action '" + *action + "' is not 'restore' or 'save'");
}

Result<std::string> KeyFolder(const std::string& key) {
  if (key.empty()) return InvalidInput("cache key is empty");
  std::string name = EncodeName(key);
  if (name.size() > kMaxEncodedKey) {
    return InvalidInput("cache key is too long (" + std::to_string(key.size()) + " bytes)");
  }
  return name;
}

struct Entry {
  fs::path path;
  std::string key;  // empty for the unkeyed cache
};

// The newest saved key starting with prefix (ties: the greater key, to stay deterministic).
std::optional<Entry> NewestWithPrefix(const fs::path& keys_dir, const std::string& prefix) {
  std::optional<Entry> best;
  fs::file_time_type best_time;
  std::error_code ec;
  for (fs::directory_iterator it(keys_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::optional<std::string> key = DecodeName(it->path().filename().native());
    if (!key || !key->starts_with(prefix)) continue;
    std::error_code time_ec;
    fs::file_time_type time = fs::last_write_time(it->path(), time_ec);
    if (time_ec) continue;  // removed meanwhile
    if (!best || time > best_time || (time == best_time && *key > best->key)) {
      best = Entry{.path = it->path(), .key = *key};
      best_time = time;
    }
  }
  return best;
}

// CodeBuild: the key must match exactly; fallback keys are then tried in order, each as a
// prefix of the saved keys.
Result<std::optional<Entry>> FindEntry(const fs::path& root, const spec::Cache& cache) {
  std::error_code ec;
  if (!cache.key) {
    if (fs::is_directory(root / "default", ec)) return std::optional(Entry{root / "default", ""});
    return std::optional<Entry>();
  }
  Result<std::string> folder = KeyFolder(*cache.key);
  if (!folder.ok()) return folder.status();
  if (fs::is_directory(root / "keys" / *folder, ec)) {
    return std::optional(Entry{root / "keys" / *folder, *cache.key});
  }
  for (const std::string& prefix : cache.fallback_keys) {
    if (prefix.empty()) continue;
    if (auto entry = NewestWithPrefix(root / "keys", prefix)) return entry;
  }
  return std::optional<Entry>();
}

// The files of a saved entry, as a list WriteArtifactFiles can restore.
Result<std::vector<ArtifactFile>> ListEntry(const fs::path& entry) {
  std::vector<ArtifactFile> files;
  std::error_code ec;
  const size_t skip = entry.native().size() + 1;
  for (fs::recursive_directory_iterator it(entry, ec), end; it != end; it.increment(ec)) {
    if (ec) break;
    std::error_code st_ec;
    if (!it->is_regular_file(st_ec) || it->is_symlink(st_ec)) continue;
    files.push_back({.source = it->path(), .relative = it->path().native().substr(skip)});
  }
  if (ec) return base::IoError(entry.string(), ec.value());
  return files;
}

// Removes staging folders a crashed save left behind. Best effort: a failure here only
// leaves garbage, never a wrong cache.
void SweepStaging(const fs::path& tmp) {
  std::error_code ec;
  auto cutoff = fs::file_time_type::clock::now() - kStaleStaging;
  for (fs::directory_iterator it(tmp, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code item_ec;
    if (fs::last_write_time(it->path(), item_ec) < cutoff && !item_ec) {
      fs::remove_all(it->path(), item_ec);
    }
  }
}

// Moves a complete staging folder into place, so readers see the old cache or the new one and
// never a half-written one. Keyed: the first save wins (immutable). Unkeyed: replaced.
Result<bool> Publish(const fs::path& stage, const fs::path& target, bool keyed) {
  if (::rename(stage.c_str(), target.c_str()) == 0) return true;
  if (errno != EEXIST && errno != ENOTEMPTY) return base::IoError(target.string(), errno);
  if (keyed) return false;  // another build saved this key first
  // Swap atomically, then delete the old cache (now at stage).
  if (::renameat2(AT_FDCWD, stage.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
    // No RENAME_EXCHANGE on this file system: move the old cache aside first. A crash between
    // the two renames loses the cache, which is safe, and never leaves half of one.
    fs::path old = stage;
    old += ".old";
    if (::rename(target.c_str(), old.c_str()) != 0) return base::IoError(target.string(), errno);
    if (::rename(stage.c_str(), target.c_str()) != 0) return base::IoError(target.string(), errno);
    std::error_code ec;
    fs::remove_all(old, ec);
    return true;
  }
  std::error_code ec;
  fs::remove_all(stage, ec);
  return true;
}

Status CheckPaths(const spec::Cache& cache) {
  for (const std::string& path : cache.paths) {
    // CodeBuild caches absolute paths such as /root/.m2 too; a local build must stay in its
    // workspace, so those are refused until builds run in containers.
    if (!path.empty() && path.front() == '/') {
      return InvalidInput("cache path '" + path +
                          "' is absolute; local caches only hold paths inside the source "
                          "directory");
    }
  }
  return Status::Ok();
}

// Copies files into a fresh staging folder under root/tmp, stamped with the save time (the
// "newest" order for fallback keys).
Result<fs::path> Stage(const fs::path& root, const std::vector<ArtifactFile>& files) {
  fs::path tmp = root / "tmp";
  std::error_code ec;
  fs::create_directories(tmp, ec);
  if (ec) return base::IoError(tmp.string(), ec.value());
  SweepStaging(tmp);
  fs::path stage = tmp / base::NewUuid();
  if (Status s = WriteArtifactFiles(files, stage); !s.ok()) {
    fs::remove_all(stage, ec);
    return s;
  }
  fs::last_write_time(stage, fs::file_time_type::clock::now(), ec);
  // Flush the staged files before the rename publishes them, so that after a power cut the
  // cache is whole or absent. One syncfs is far cheaper than an fsync per cached file.
  base::UniqueFd dir(::open(stage.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || ::syncfs(dir.get()) != 0) {
    int err = errno;
    fs::remove_all(stage, ec);
    return base::IoError(stage.string(), err);
  }
  return stage;
}

}  // namespace

LocalCache::LocalCache(fs::path cache_root, std::string project)
    : root_(cache_root / EncodeName(project)) {}

Result<CacheRestore> LocalCache::Restore(const spec::Cache& cache, const fs::path& src_dir) {
  Result<Mode> mode = ParseAction(cache.action);
  if (!mode.ok()) return mode.status();
  if (!cache.present || !mode->restore) return CacheRestore{};
  Result<std::optional<Entry>> entry = FindEntry(root_, cache);
  if (!entry.ok()) return entry.status();
  if (!entry->has_value()) return CacheRestore{};
  // An unkeyed cache replaced by a concurrent save can vanish mid-copy: that is an error for
  // this restore, which the caller reports as a warning.
  Result<std::vector<ArtifactFile>> files = ListEntry((*entry)->path);
  if (!files.ok()) return files.status();
  if (Status s = WriteArtifactFiles(*files, src_dir); !s.ok()) return s;
  return CacheRestore{.hit = true, .key = (*entry)->key, .files = files->size()};
}

Result<size_t> LocalCache::Save(const spec::Cache& cache, const fs::path& src_dir) {
  Result<Mode> mode = ParseAction(cache.action);
  if (!mode.ok()) return mode.status();
  if (!cache.present || !mode->save) return size_t{0};
  if (Status s = CheckPaths(cache); !s.ok()) return s;
  fs::path target = root_ / "default";
  if (cache.key) {
    Result<std::string> folder = KeyFolder(*cache.key);
    if (!folder.ok()) return folder.status();
    target = root_ / "keys" / *folder;
    std::error_code ec;
    if (fs::exists(target, ec)) return size_t{0};  // CodeBuild: a keyed cache is immutable
    fs::create_directories(target.parent_path(), ec);
    if (ec) return base::IoError(target.parent_path().string(), ec.value());
  }
  spec::ArtifactSpec paths{.files = cache.paths};
  Result<std::vector<ArtifactFile>> files =
      ResolveArtifactFiles(paths, src_dir, {.allow_no_match = true});
  if (!files.ok()) return files.status();
  // Nothing to save: do not pin an empty cache under an immutable key.
  if (files->empty()) return size_t{0};
  Result<fs::path> stage = Stage(root_, *files);
  if (!stage.ok()) return stage.status();
  Result<bool> published = Publish(*stage, target, cache.key.has_value());
  if (!published.ok() || !*published) {
    std::error_code ec;
    fs::remove_all(*stage, ec);
  }
  if (!published.ok()) return published.status();
  return *published ? files->size() : size_t{0};
}

}  // namespace kiln::codebuild
