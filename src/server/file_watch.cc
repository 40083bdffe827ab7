#include "server/file_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

namespace kiln::server {
namespace {
constexpr uint32_t kChanges =
    IN_MODIFY | IN_CLOSE_WRITE | IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB | IN_MASK_ADD;
}  // namespace

FileWatch::FileWatch(boost::asio::io_context& loop) : fd_(loop), buf_(16 * 1024) {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd >= 0) {
    boost::system::error_code ec;
    fd_.assign(fd, ec);
    if (ec) ::close(fd);
  }
}

FileWatch::~FileWatch() {
  *alive_ = false;
  boost::system::error_code ec;
  fd_.close(ec);
}

uint64_t FileWatch::Once(const std::filesystem::path& path, std::function<void()> fn) {
  if (!fd_.is_open()) return 0;
  int wd = ::inotify_add_watch(fd_.native_handle(), path.c_str(), kChanges);
  if (wd < 0) return 0;
  bool first = waiters_.empty();
  uint64_t token = next_token_++;
  waiters_[wd].push_back({token, std::move(fn)});
  watch_of_[token] = wd;
  if (first) Read();
  return token;
}

void FileWatch::Cancel(uint64_t token) {
  auto it = watch_of_.find(token);
  if (it == watch_of_.end()) return;
  int wd = it->second;
  watch_of_.erase(it);
  auto& list = waiters_[wd];
  std::erase_if(list, [token](const Waiter& w) { return w.token == token; });
  if (list.empty()) {
    waiters_.erase(wd);
    ::inotify_rm_watch(fd_.native_handle(), wd);
  }
}

// One read pending while anyone waits.
void FileWatch::Read() {
  fd_.async_read_some(
      boost::asio::buffer(buf_), [this, alive = alive_](boost::system::error_code ec, size_t n) {
        if (!*alive || ec) return;
        std::vector<int> changed;
        for (size_t off = 0; off + sizeof(inotify_event) <= n;) {
          const auto* ev = reinterpret_cast<const inotify_event*>(buf_.data() + off);
          changed.push_back(ev->wd);
          off += sizeof(inotify_event) + ev->len;
        }
        for (int wd : changed) Fire(wd);
        if (!waiters_.empty()) Read();
      });
}

void FileWatch::Fire(int wd) {
  auto it = waiters_.find(wd);
  if (it == waiters_.end()) return;
  std::vector<Waiter> list = std::move(it->second);
  waiters_.erase(it);
  ::inotify_rm_watch(fd_.native_handle(), wd);
  for (auto& w : list) watch_of_.erase(w.token);
  for (auto& w : list) w.fn();
}

}  // namespace kiln::server
