#include "codebuild/artifacts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <unordered_map>

#include "base/fd.h"
#include "base/glob.h"

namespace kiln::codebuild {
namespace fs = std::filesystem;
using base::ErrorKind;
using base::InvalidInput;
using base::Result;
using base::Status;

namespace {

// CodeBuild: a files glob that matches nothing fails UPLOAD_ARTIFACTS with this message.
constexpr std::string_view kNoMatch = "CLIENT_ERROR: no matching artifact paths found";
// RELIABILITY B-D13: a build producing millions of files gets a clear error, not a stall.
constexpr size_t kMaxFiles = 1'000'000;

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// Splits on '/', dropping empty and "." components.
std::vector<std::string> Components(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t slash = s.find('/');
    std::string_view part = s.substr(0, slash);
    if (!part.empty() && part != ".") out.emplace_back(part);
    if (slash == std::string_view::npos) break;
    s.remove_prefix(slash + 1);
  }
  return out;
}

// A pattern, base directory or artifact path must stay relative and below its root.
Status CheckRelative(std::string_view what, std::string_view path) {
  if (path.empty()) return InvalidInput(std::string(what) + " is empty");
  if (path.find('\0') != std::string_view::npos) {
    return InvalidInput(std::string(what) + " " + Quote(path) + " contains a NUL byte");
  }
  if (path.front() == '/') {
    return InvalidInput(std::string(what) + " " + Quote(path) +
                        " is absolute; paths must be relative to the source directory");
  }
  for (const std::string& part : Components(path)) {
    if (part == "..") {
      return InvalidInput(std::string(what) + " " + Quote(path) +
                          " uses '..'; paths must stay inside the source directory");
    }
  }
  return Status::Ok();
}

// Both paths canonical: true when path is root or below it.
bool Within(const fs::path& root, const fs::path& path) {
  auto [ri, pi] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  return ri == root.end();
}

std::string JoinRel(const std::string& dir, const std::string& rel) {
  return dir.empty() ? rel : dir + "/" + rel;
}

Status NoMatch(std::string_view what, std::string_view pattern) {
  return Status(ErrorKind::kFailed,
                std::string(kNoMatch) + " for " + std::string(what) + " " + Quote(pattern));
}

Status Escapes(const std::string& display) {
  return InvalidInput(Quote(display) + " leads outside the source directory (symlink)");
}

// Collects the files of one ArtifactSpec; one instance per ResolveArtifactFiles call.
class Resolver {
 public:
  Resolver(const spec::ArtifactSpec& spec, fs::path src, const ResolveOptions& options)
      : spec_(spec), src_(std::move(src)), options_(options) {}

  Result<std::vector<ArtifactFile>> Run();

 private:
  Result<std::vector<std::string>> BaseDirectories() const;
  Status CheckBaseDirectory(const std::string& dir) const;
  Status AddPattern(const std::string& base, const std::string& pattern, bool* matched);
  bool Excluded(const std::string& rel) const;
  Status AddFile(const std::string& base, const std::string& rel);
  Status Claim(const std::string& relative, const std::string& display, fs::path real);

  const spec::ArtifactSpec& spec_;
  const fs::path src_;  // canonical
  const ResolveOptions options_;
  std::unordered_map<std::string, std::string> claimed_;  // artifact path -> source display
  std::vector<ArtifactFile> files_;
};

Result<std::vector<ArtifactFile>> Resolver::Run() {
  for (const std::string& pattern : spec_.files) {
    if (Status s = CheckRelative("artifact path", pattern); !s.ok()) return s;
  }
  Result<std::vector<std::string>> bases = BaseDirectories();
  if (!bases.ok()) return bases.status();
  for (const std::string& pattern : spec_.files) {
    bool matched = false;
    for (const std::string& base : *bases) {
      if (Status s = AddPattern(base, pattern, &matched); !s.ok()) return s;
    }
    if (!matched && !options_.allow_no_match) return NoMatch("pattern", pattern);
  }
  std::sort(files_.begin(), files_.end(),
            [](const ArtifactFile& a, const ArtifactFile& b) { return a.relative < b.relative; });
  return std::move(files_);
}

// The folders the patterns are relative to: src itself, or each base-directory match.
// CodeBuild: base-directory may be a glob ('my-build*'); the matched folders' own names are not
// part of the artifact paths.
Result<std::vector<std::string>> Resolver::BaseDirectories() const {
  if (!spec_.base_directory) return std::vector<std::string>{""};
  const std::string& pattern = *spec_.base_directory;
  if (Status s = CheckRelative("base-directory", pattern); !s.ok()) return s;
  std::vector<std::string> dirs;
  if (base::GlobHasWildcards(pattern)) {
    dirs = base::GlobDirectories(src_, pattern);
  } else {
    std::error_code ec;
    std::string literal = base::GlobLiteralPrefix(pattern);
    if (fs::is_directory(src_ / literal, ec)) dirs.push_back(literal);
  }
  if (dirs.empty() && !options_.allow_no_match) return NoMatch("base-directory", pattern);
  for (const std::string& dir : dirs) {
    if (Status s = CheckBaseDirectory(dir); !s.ok()) return s;
  }
  return dirs;
}

Status Resolver::CheckBaseDirectory(const std::string& dir) const {
  std::error_code ec;
  fs::path real = fs::canonical(src_ / dir, ec);
  if (ec) return base::IoError(dir, ec.value());
  return Within(src_, real) ? Status::Ok() : Escapes(dir);
}

Status Resolver::AddPattern(const std::string& base, const std::string& pattern, bool* matched) {
  fs::path root = base.empty() ? src_ : src_ / base;
  // GlobFiles follows symlinks on the literal prefix: refuse one leading out before walking it.
  std::string prefix = base::GlobLiteralPrefix(pattern);
  std::error_code ec;
  if (!prefix.empty() && fs::exists(root / prefix, ec)) {
    fs::path real = fs::canonical(root / prefix, ec);
    if (ec || !Within(src_, real)) return Escapes(JoinRel(base, prefix));
  }
  for (const std::string& rel : base::GlobFiles(root, pattern)) {
    *matched = true;
    if (Excluded(rel)) continue;
    if (Status s = AddFile(base, rel); !s.ok()) return s;
  }
  return Status::Ok();
}

// CodeBuild: exclude-paths are relative to base-directory; `*` stays in one folder, `**` does
// not. An exclude pattern matches files, not the folders above them.
bool Resolver::Excluded(const std::string& rel) const {
  return std::any_of(spec_.exclude_paths.begin(), spec_.exclude_paths.end(),
                     [&](const std::string& ex) { return base::GlobMatch(ex, rel); });
}

Status Resolver::AddFile(const std::string& base, const std::string& rel) {
  std::string display = JoinRel(base, rel);
  std::error_code ec;
  fs::path real = fs::canonical(src_ / display, ec);
  if (ec) {
    std::error_code link_ec;
    if (fs::is_symlink(src_ / display, link_ec)) {
      return InvalidInput(Quote(display) + " is a symlink that does not resolve (missing target " +
                          "or a loop)");
    }
    return base::IoError(display, ec.value());
  }
  if (!Within(src_, real)) return Escapes(display);
  fs::file_status st = fs::status(real, ec);
  if (fs::is_directory(st)) return Status::Ok();  // a symlink to a folder: not followed (D11)
  if (!fs::is_regular_file(st)) return InvalidInput(Quote(display) + " is not a regular file");
  std::string relative = spec_.discard_paths ? fs::path(rel).filename().string() : rel;
  return Claim(relative, display, std::move(real));
}

// Two sources for one artifact path would silently lose a file: refuse instead. The same
// source matched by two patterns is fine.
Status Resolver::Claim(const std::string& relative, const std::string& display, fs::path real) {
  auto [it, inserted] = claimed_.try_emplace(relative, display);
  if (!inserted) {
    if (it->second == display) return Status::Ok();
    return InvalidInput("artifact path " + Quote(relative) + " would come from both " +
                        Quote(it->second) + " and " + Quote(display));
  }
  if (files_.size() >= kMaxFiles) {
    return Status(ErrorKind::kFailed,
                  "CLIENT_ERROR: more than " + std::to_string(kMaxFiles) + " artifact files");
  }
  files_.push_back({.source = std::move(real), .relative = relative});
  return Status::Ok();
}

// Opens (creating if needed) the folder parts of relative below dir, one at a time and never
// through a symlink, so a link planted in the destination cannot redirect the write.
Result<base::UniqueFd> OpenParent(int root, const std::vector<std::string>& parts,
                                  const std::string& relative) {
  base::UniqueFd dir(::fcntl(root, F_DUPFD_CLOEXEC, 0));
  if (!dir.valid()) return base::IoError("dup", errno);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (::mkdirat(dir.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
      return base::IoError(relative, errno);
    }
    int fd = ::openat(dir.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
      return InvalidInput(Quote(relative) + ": " + Quote(parts[i]) +
                          " in the destination is a symlink or a file; not writing through it");
    }
    if (fd < 0) return base::IoError(relative, errno);
    dir.Reset(fd);
  }
  return dir;
}

Status CopyData(int in, int out, const std::string& what) {
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return base::IoError(what, errno);
    if (n == 0) return Status::Ok();
    if (!base::WriteAll(out, buf, static_cast<size_t>(n))) return base::IoError(what, errno);
  }
}

// Copies source to name in dir as a new file: an existing entry is unlinked first so the write
// never goes through a symlink or into a file hard-linked from elsewhere.
Status CopyFileInto(const fs::path& source, int dir, const std::string& name,
                    const std::string& relative) {
  base::UniqueFd in(::open(source.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!in.valid()) return base::IoError(source.string(), errno);
  struct stat st;
  if (::fstat(in.get(), &st) != 0) return base::IoError(source.string(), errno);
  if (!S_ISREG(st.st_mode)) return InvalidInput(source.string() + " is not a regular file");
  if (::unlinkat(dir, name.c_str(), 0) != 0 && errno != ENOENT) {
    return base::IoError(relative, errno);
  }
  // The source's mode less the umask, as cp gives it: private under the state dir (Kiln's 077),
  // as the build made it elsewhere.
  base::UniqueFd out(::openat(
      dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 0777));
  if (!out.valid()) return base::IoError(relative, errno);
  return CopyData(in.get(), out.get(), relative);
}

Status WriteOne(int root, const ArtifactFile& file) {
  if (Status s = CheckRelative("artifact path", file.relative); !s.ok()) return s;
  std::vector<std::string> parts = Components(file.relative);
  if (parts.empty()) return InvalidInput("artifact path " + Quote(file.relative) + " is empty");
  Result<base::UniqueFd> dir = OpenParent(root, parts, file.relative);
  if (!dir.ok()) return dir.status();
  return CopyFileInto(file.source, dir->get(), parts.back(), file.relative);
}

}  // namespace

Result<std::vector<ArtifactFile>> ResolveArtifactFiles(const spec::ArtifactSpec& spec,
                                                       const fs::path& src_dir,
                                                       const ResolveOptions& options) {
  std::error_code ec;
  fs::path src = fs::canonical(src_dir, ec);
  if (ec) return base::IoError(src_dir.string(), ec.value());
  return Resolver(spec, std::move(src), options).Run();
}

Status WriteArtifactFiles(const std::vector<ArtifactFile>& files, const fs::path& out_dir) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return base::IoError(out_dir.string(), ec.value());
  base::UniqueFd root(::open(out_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return base::IoError(out_dir.string(), errno);
  for (const ArtifactFile& file : files) {
    if (Status s = WriteOne(root.get(), file); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace kiln::codebuild
