#include "exec/static_binary.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "base/fd.h"

namespace kiln::exec {
namespace {

constexpr int kMaxProgramHeaders = 4096;

// Reads exactly size bytes at offset; false on a short file or an error (errno set).
bool ReadAt(int fd, void* out, size_t size, off_t offset) {
  ssize_t n = ::pread(fd, out, size, offset);
  if (n < 0) return false;
  if (static_cast<size_t>(n) != size) {
    errno = EINVAL;
    return false;
  }
  return true;
}

}  // namespace

base::Result<bool> IsStaticElf(const std::string& path) {
  base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return base::IoError("open " + path, errno);
  Elf64_Ehdr header;
  if (!ReadAt(fd.get(), &header, sizeof header, 0) ||
      std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64) {
    return base::InvalidInput(path + " is not a 64-bit ELF file");
  }
  if (header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum > kMaxProgramHeaders) {
    return base::InvalidInput(path + ": unexpected ELF program headers");
  }
  for (int i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr ph;
    off_t at = static_cast<off_t>(header.e_phoff + i * sizeof ph);
    if (!ReadAt(fd.get(), &ph, sizeof ph, at)) return base::InvalidInput(path + ": truncated ELF");
    if (ph.p_type == PT_INTERP) return false;
  }
  return header.e_type == ET_EXEC || header.e_type == ET_DYN;
}

std::string FindInPath(const std::string& name, const std::string& dirs) {
  std::istringstream in(dirs);
  for (std::string dir; std::getline(in, dir, ':');) {
    if (dir.empty()) continue;  // "" would mean the current directory: never for a tool
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string FindStaticDockerCli(const std::string& path_env) {
  for (const std::string& candidate :
       {std::string("/usr/local/bin/docker"), FindInPath("docker", path_env)}) {
    if (candidate.empty() || ::access(candidate.c_str(), X_OK) != 0) continue;
    auto is_static = IsStaticElf(candidate);
    if (is_static.ok() && *is_static) return candidate;
  }
  return "";
}

}  // namespace kiln::exec
