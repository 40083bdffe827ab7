// Changes of files, from inotify, on the server's loop: a log tail that has sent everything a
// growing file holds waits here for the next write instead of looking again on a timer. One
// inotify descriptor for the server; a watch lives while someone waits on it.
//
// Loop-affine.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace kiln::server {

class FileWatch {
 public:
  explicit FileWatch(boost::asio::io_context& loop);
  ~FileWatch();

  // Calls fn once, on the loop, at the next change of path (written, closed after writing,
  // moved or removed); returns 0, calling nothing, when path cannot be watched (gone, or
  // inotify's limits): the caller then looks again on a timer.
  uint64_t Once(const std::filesystem::path& path, std::function<void()> fn);
  // The waiter will not be called (a no-op for one already called).
  void Cancel(uint64_t token);

 private:
  void Read();
  void Fire(int wd);
  struct Waiter {
    uint64_t token;
    std::function<void()> fn;
  };
  boost::asio::posix::stream_descriptor fd_;
  std::map<int, std::vector<Waiter>> waiters_;  // by watch descriptor
  std::map<uint64_t, int> watch_of_;            // token -> watch descriptor
  uint64_t next_token_ = 1;
  std::vector<char> buf_;
  // The pending read holds this; cleared by the destructor so a late completion does nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace kiln::server
