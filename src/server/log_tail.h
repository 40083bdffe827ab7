// Log files as a server-sent-event stream: a build's log (GET /api/v1/builds/{id}/log) or
// every task log of a service (GET /api/v1/services/{name}/logs), each with Accept:
// text/event-stream. A LogFeed says which files to read and when nothing more will come; the
// tail sends what they hold from a starting offset, then what is appended, round robin across
// files so one chatty task does not hide the others. At the end of what the files hold, it
// waits for their next write (FileWatch), and asks the feed again now and then for new files
// and the end. Pull model: the next chunk is read only
// when the client has taken the previous one, so a slow client costs one small buffer and never
// slows the writer, the loop or other clients. Each event carries whole lines of one file: an
// optional `id: <byte offset after it>` (single-file feeds, for Last-Event-ID), one `data:`
// line per log line with the file's prefix; `event: end` with the feed's data closes the
// stream.
//
// Loop-affine.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "server/file_watch.h"
#include "server/http_server.h"

namespace kiln::server {

struct LogFile {
  std::string key;  // stable across polls: a build id, a task id
  std::filesystem::path path;
  std::string prefix;   // put before each line ("" for a build, "<task12> | " for a task)
  uint64_t offset = 0;  // where reading starts when the key is first seen
  bool growing = true;  // false: nothing more will be appended (a partial last line is sent)
};

struct LogFeedState {
  std::vector<LogFile> files;  // a key no longer listed is dropped
  // Set once nothing more will be written to any file: the `event: end` JSON data.
  std::optional<std::string> end;
};

// Asked on the loop whenever the tail has sent everything it knows of; it may list new files.
using LogFeed = std::function<LogFeedState()>;

class LogTail : public std::enable_shared_from_this<LogTail> {
 public:
  // offset_ids: events carry `id: <offset>` (meaningful for a single file only).
  LogTail(boost::asio::io_context& loop, FileWatch& files, std::shared_ptr<EventStream> stream,
          LogFeed feed, bool offset_ids);
  void Start();

 private:
  struct Source {
    LogFile file;
    base::UniqueFd fd;
    bool done = false;  // read to the end of a file that no longer grows (fd closed)
  };
  void Pump();
  void Adopt(std::vector<LogFile> files);
  bool SendNext();
  bool SendFrom(Source& source);
  void WaitForMore();
  bool Grown();  // a file holds more than was sent
  void Woken();  // a file changed, or the feed's timer: look again
  void StopWaiting();

  FileWatch& files_;
  std::vector<uint64_t> watches_;  // FileWatch tokens while waiting

  std::shared_ptr<EventStream> stream_;
  LogFeed feed_;
  bool offset_ids_;
  std::vector<Source> sources_;
  size_t next_ = 0;  // round robin
  boost::asio::steady_timer timer_;
  std::string chunk_;
  bool waiting_ = false;
};

// Formats log bytes (whole lines, without the last newline) as one SSE event: `id: <id>` if
// id is not empty, then `data: <prefix><line>` per line. Carriage returns are dropped so a
// line can never end the event or start a field of its own.
std::string FormatLogEvent(std::string_view lines, std::string_view id,
                           std::string_view prefix = "");

}  // namespace kiln::server
