#include "exec/busybox_image.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <sstream>

#include "base/files.h"
#include "exec/process.h"

namespace kiln::exec {

namespace {

// nobody (Debian's 65534) for the run-as tests.
constexpr char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\nkiln:x:1000:1000:kiln:/home/kiln:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n";
constexpr char kGroup[] = "root:x:0:\nkiln:x:1000:\nnogroup:x:65534:\n";
constexpr size_t kMaxBusybox = 16 << 20;

// A tar being written into memory.
class TarWriter {
 public:
  TarWriter() : archive_(archive_write_new(), archive_write_free) {
    archive_write_set_format_pax_restricted(archive_.get());
    archive_write_open(archive_.get(), &out_, nullptr, &Append, nullptr);
  }
  base::Status File(const std::string& path, std::string_view data, int mode, int uid = 0) {
    return Add(path, AE_IFREG, mode, uid, "", data);
  }
  base::Status Dir(const std::string& path, int mode, int uid = 0) {
    return Add(path, AE_IFDIR, mode, uid, "", {});
  }
  base::Status Symlink(const std::string& path, const std::string& target) {
    return Add(path, AE_IFLNK, 0777, 0, target, {});
  }
  base::Result<std::string> Finish() {
    if (archive_write_close(archive_.get()) != ARCHIVE_OK) return Error("close");
    return std::move(out_);
  }

 private:
  static la_ssize_t Append(struct archive*, void* out, const void* data, size_t size) {
    static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
    return static_cast<la_ssize_t>(size);
  }
  base::Status Error(const std::string& what) {
    const char* m = archive_error_string(archive_.get());
    return base::Internal("rootfs tar: " + what + ": " + (m ? m : "unknown error"));
  }
  base::Status Add(const std::string& path, unsigned type, int mode, int uid,
                   const std::string& link, std::string_view data) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                               archive_entry_free);
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), mode);
    archive_entry_set_uid(e.get(), uid);
    archive_entry_set_gid(e.get(), uid);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
    if (!link.empty()) archive_entry_set_symlink(e.get(), link.c_str());
    if (archive_write_header(archive_.get(), e.get()) != ARCHIVE_OK) return Error(path);
    if (!data.empty() && archive_write_data(archive_.get(), data.data(), data.size()) !=
                             static_cast<la_ssize_t>(data.size())) {
      return Error(path);
    }
    return base::Status::Ok();
  }

  std::string out_;
  std::unique_ptr<struct archive, int (*)(struct archive*)> archive_;
};

// The applet names busybox links to itself, without "busybox".
base::Result<std::vector<std::string>> Applets(const std::string& busybox) {
  auto listed = Capture({busybox, "--list"}, "");
  if (!listed.ok()) return listed.status();
  if (listed->exit_code != 0)
    return base::Status(base::ErrorKind::kFailed, busybox + " --list failed");
  std::vector<std::string> names;
  std::istringstream in(listed->out);
  for (std::string name; std::getline(in, name);) {
    bool plain = !name.empty() && name.find('/') == std::string::npos && name != "busybox";
    if (plain) names.push_back(name);
  }
  return names;
}

base::Status AddTree(TarWriter& tar, const std::string& binary,
                     const std::vector<std::string>& applets) {
  for (const char* dir : {"bin", "etc", "root"}) {
    if (auto st = tar.Dir(dir, 0755); !st.ok()) return st;
  }
  if (auto st = tar.Dir("tmp", 01777); !st.ok()) return st;
  if (auto st = tar.Dir("home", 0755); !st.ok()) return st;
  if (auto st = tar.Dir("home/kiln", 0755, 1000); !st.ok()) return st;
  if (auto st = tar.File("bin/busybox", binary, 0755); !st.ok()) return st;
  for (const std::string& applet : applets) {
    if (auto st = tar.Symlink("bin/" + applet, "busybox"); !st.ok()) return st;
  }
  if (auto st = tar.File("etc/passwd", kPasswd, 0644); !st.ok()) return st;
  return tar.File("etc/group", kGroup, 0644);
}

}  // namespace

base::Result<std::string> BusyboxRootfsTar(const std::string& busybox) {
  if (::access(busybox.c_str(), X_OK) != 0) {
    return base::NotFound(busybox + " not found (install busybox-static)");
  }
  auto binary = base::ReadFile(busybox, kMaxBusybox);
  if (!binary.ok()) return binary.status();
  auto applets = Applets(busybox);
  if (!applets.ok()) return applets.status();
  TarWriter tar;
  if (auto st = AddTree(tar, *binary, *applets); !st.ok()) return st;
  return tar.Finish();
}

base::Result<std::string> ImportBusyboxImage(const DockerClient& client, const std::string& repo,
                                             const std::string& tag, const std::string& busybox) {
  auto tar = BusyboxRootfsTar(busybox);
  if (!tar.ok()) return tar.status();
  return client.ImportImage(std::move(*tar), repo, tag, {"CMD [\"/bin/sh\"]", "ENV PATH=/bin"});
}

}  // namespace kiln::exec
