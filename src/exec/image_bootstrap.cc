#include "exec/image_bootstrap.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "exec/apt_sources.h"
#include "exec/busybox_image.h"
#include "exec/process.h"
#include "exec/scratch_dir.h"
#include "exec/static_binary.h"

extern "C" char** environ;

namespace kiln::exec {
namespace fs = std::filesystem;
namespace {

// The packages a CodeBuild-like build expects (AWS's standard image has far more).
constexpr char kStandardPackages[] =
    "--include=bash,git,curl,ca-certificates,python3,tar,gzip,unzip,jq,procps";
constexpr char kSbinPath[] = "/usr/sbin:/sbin";
// Appended to PATH for the tools: the standard directories, whatever the caller's PATH was.
constexpr char kToolPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool RepoChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
         c == '/' || c == ':';
}

// A repository prefix the engine accepts: lowercase components, optionally a registry
// host:port first ("127.0.0.1:5000/team").
bool ValidPrefix(const std::string& p) {
  if (p.empty() || p.size() > 128 || p.front() == '/' || p.back() == '/') return false;
  if (p.find("//") != std::string::npos || p.front() == '.' || p.front() == '-') return false;
  for (char c : p) {
    if (!RepoChar(c)) return false;
  }
  return true;
}

bool ValidSuite(const std::string& s) {
  if (s.empty() || s.size() > 32 || s.front() == '-') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool ValidMirror(const std::string& m) {
  bool scheme = m.starts_with("http://") || m.starts_with("https://") || m.starts_with("file:/");
  return scheme && m.size() <= 2048 && m.find_first_of(" \t\r\n") == std::string::npos;
}

base::Result<BootstrappedImage> Describe(const DockerClient& client, const std::string& ref) {
  auto info = client.InspectImage(ref);
  if (!info.ok()) return info.status();
  return BootstrappedImage{.ref = ref, .id = info->id, .size = info->size};
}

// This process's environment with the standard directories on PATH: debootstrap runs chroot,
// mknod and dpkg from sbin, which a non-login root shell may lack.
std::vector<std::string> ToolEnvironment() {
  std::vector<std::string> env;
  bool has_path = false;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    if (entry.starts_with("PATH=")) {
      entry += std::string(":") + kToolPath;
      has_path = true;
    }
    env.push_back(std::move(entry));
  }
  if (!has_path) env.push_back(std::string("PATH=") + kToolPath);
  return env;
}

// Runs a tool in the foreground (same process group, so ^C reaches it too), its output on ours.
base::Status RunTool(const std::vector<std::string>& argv) {
  auto pid = Spawn({.argv = argv,
                    .env = ToolEnvironment(),
                    .stdout_fd = STDOUT_FILENO,
                    .stderr_fd = STDERR_FILENO,
                    .new_process_group = false});
  if (!pid.ok()) return pid.status();
  auto status = WaitFor(*pid, -1);
  int code = status ? ExitCodeOf(*status) : -1;
  if (code == 0) return base::Status::Ok();
  return base::Status(base::ErrorKind::kFailed,
                      argv[0] + " failed (exit " + std::to_string(code) + ")");
}

// Image content is world-readable like any distribution's: Kiln's private umask (077) would
// make /usr unreadable to codebuild-user. Restored on scope exit.
class ImageUmask {
 public:
  ImageUmask() : old_(::umask(022)) {}
  ~ImageUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

base::Status AddDockerCli(const std::string& rootfs, const std::string& cli) {
  if (cli.empty()) return base::Status::Ok();
  std::error_code ec;
  fs::path target = fs::path(rootfs) / "usr/local/bin/docker";
  fs::create_directories(target.parent_path(), ec);
  if (!ec) fs::copy_file(cli, target, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::permissions(target, fs::perms(0755), ec);
  if (ec) return base::IoError("copy " + cli + " into the image", ec.value());
  return base::Status::Ok();
}

std::string MirrorOf(const BootstrapOptions& o) {
  if (!o.mirror.empty()) return o.mirror;
  return DetectDebianMirror().value_or(kDefaultDebianMirror);
}

base::Status BuildRootfs(const BootstrapOptions& o, const std::string& debootstrap,
                         const std::string& rootfs) {
  std::string mirror = MirrorOf(o);
  o.progress("debootstrap " + o.suite + " from " + mirror + " (a few minutes) ...");
  if (auto st =
          RunTool({debootstrap, "--variant=minbase", kStandardPackages, o.suite, rootfs, mirror});
      !st.ok()) {
    return st;
  }
  if (auto st = AddDockerCli(rootfs, o.docker_cli); !st.ok()) return st;
  o.progress("adding codebuild-user (uid 1000)");
  return RunTool({"chroot", rootfs, "useradd", "--create-home", "--uid", "1000", "--user-group",
                  "--shell", "/bin/bash", "codebuild-user"});
}

// The rootfs as a tar, without what the engine provides (/dev, /proc, /sys) or apt's
// downloads and lists (a build runs `apt-get update` first anyway).
base::Status PackRootfs(const std::string& rootfs, const std::string& tar) {
  return RunTool({"tar", "--numeric-owner", "--xattrs", "-C", rootfs, "-cf", tar,
                  "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*",
                  "--exclude=./var/cache/apt/archives/*.deb", "--exclude=./var/lib/apt/lists/*",
                  "."});
}

}  // namespace

std::string CheckBootstrapOptions(const BootstrapOptions& o) {
  if (!ValidPrefix(o.tag_prefix)) {
    return "--tag-prefix '" + o.tag_prefix +
           "': expected a lowercase repository prefix like kiln or 127.0.0.1:5000/team";
  }
  if (!ValidSuite(o.suite)) {
    return "--suite '" + o.suite + "': expected a Debian suite name like bookworm";
  }
  if (!o.mirror.empty() && !ValidMirror(o.mirror)) {
    return "--mirror '" + o.mirror + "': expected an http://, https:// or file:/ URL";
  }
  return "";
}

base::Result<BootstrappedImage> BootstrapBusybox(const DockerClient& client,
                                                 const BootstrapOptions& o) {
  const std::string repo = o.tag_prefix + "/busybox";
  o.progress("importing " + repo + ":1 from " + o.busybox +
             (o.docker_cli.empty() ? "" : " with " + o.docker_cli));
  auto id =
      ImportBusyboxImage(client, repo, "1", {.busybox = o.busybox, .docker_cli = o.docker_cli});
  if (!id.ok()) return id.status();
  return Describe(client, repo + ":1");
}

base::Result<std::string> StandardPrerequisites() {
  if (::geteuid() != 0) {
    return base::Status(base::ErrorKind::kFailed,
                        "kiln image bootstrap --standard must run as root (debootstrap chroots "
                        "and creates device files): run it with sudo");
  }
  const char* path = std::getenv("PATH");
  std::string dirs = std::string(path ? path : "") + ":" + kSbinPath;
  std::string debootstrap = FindInPath("debootstrap", dirs);
  if (debootstrap.empty()) {
    return base::Status(base::ErrorKind::kFailed,
                        "debootstrap is not installed (apt-get install debootstrap)");
  }
  return debootstrap;
}

base::Result<BootstrappedImage> BootstrapStandard(const DockerClient& client,
                                                  const BootstrapOptions& o,
                                                  const std::string& debootstrap) {
  auto scratch = ScratchDir::Create(o.work_parent, "kiln-image-");
  if (!scratch.ok()) return scratch.status();
  const std::string rootfs = scratch->path() + "/rootfs";
  const std::string tar = scratch->path() + "/rootfs.tar";
  {
    ImageUmask umask;
    if (::mkdir(rootfs.c_str(), 0755) != 0) return base::IoError("mkdir " + rootfs, errno);
    if (auto st = BuildRootfs(o, debootstrap, rootfs); !st.ok()) return st;
    o.progress("packing the rootfs");
    if (auto st = PackRootfs(rootfs, tar); !st.ok()) return st;
  }
  const std::string repo = o.tag_prefix + "/standard";
  o.progress("importing " + repo + ":1");
  auto id = client.ImportImageFile(tar, repo, "1", ImageChanges("bash"));
  if (!id.ok()) return id.status();
  return Describe(client, repo + ":1");
}

}  // namespace kiln::exec
