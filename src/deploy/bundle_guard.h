// The rules every bundle entry must pass before it is written, whether it comes from an
// archive or a directory on disk (bundle_store.cc): a path that stays inside the bundle,
// symlinks whose targets stay inside it even through earlier links, no entry written through a
// symlink, and the size and entry-count limits (a decompression bomb stops at the limit).
//
// Links are resolved lexically against the links admitted so far, so the order of entries
// matters; to stay safe whatever comes later, a path that some link's resolution walked
// through as a folder can never become a link itself (that would redirect the earlier link).
// This refuses a few harmless layouts too (`a -> b/c` before `b -> d`); a bundle needing one
// can be repacked with the links in the other order.
//
// Not thread-safe; one guard per unpack.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "base/status.h"
#include "deploy/bundle_store.h"

namespace kiln::deploy {

struct BundleEntry {
  enum class Kind { kFile, kDir, kSymlink, kHardlink, kOther } kind = Kind::kFile;
  std::string name;   // as the archive or directory gives it
  std::string link;   // kSymlink: its target; kHardlink: the earlier entry it links to
  uint64_t size = 0;  // kFile (and a hard link's data): declared bytes
};

class BundleGuard {
 public:
  explicit BundleGuard(BundleLimits limits) : limits_(limits) {}

  // Checks the entry and records it. Returns its normalized path relative to the bundle root
  // ("" for the root itself). kInvalidInput naming the entry when a rule is broken.
  base::Result<std::string> Admit(const BundleEntry& entry);
  // Counts data written for `name` beyond what Admit was told (an entry without a declared
  // size); kInvalidInput once the total passes max_bytes.
  base::Status Charge(const std::string& name, uint64_t bytes);

 private:
  base::Status CheckCount(const std::string& name);
  base::Status CheckPath(const BundleEntry& entry, const std::string& path);
  base::Status AdmitSymlink(const BundleEntry& entry, const std::string& path);
  base::Status AdmitHardlink(const BundleEntry& entry);
  bool ResolvesInside(const std::string& link_path, const std::string& target);

  BundleLimits limits_;
  uint64_t bytes_ = 0;
  uint64_t entries_ = 0;
  std::unordered_map<std::string, std::string> links_;  // normalized path -> target
  std::unordered_set<std::string> written_;             // every admitted path
  // Paths used as folders: parents of admitted entries, and folders a link's resolution
  // walked through. None of them may become a link later.
  std::unordered_set<std::string> folders_;
};

// "1 GiB", "512 KiB", "1000 bytes": a limit as a person reads it.
std::string DescribeBytes(uint64_t bytes);

}  // namespace kiln::deploy
