// A build log as a server-sent-event stream (GET /api/v1/builds/{id}/log with Accept:
// text/event-stream): the bytes from an offset (Last-Event-ID), then what the build appends,
// until it ends. Pull model: the next chunk is read from the file only when the client has
// taken the previous one, so a slow client costs one small buffer and never slows the build,
// the loop or other clients. Each event carries whole lines: `id: <byte offset after it>`,
// one `data:` line per log line; `event: end` with the build status closes the stream.
//
// Loop-affine.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "base/fd.h"
#include "server/context.h"
#include "server/http_server.h"

namespace kiln::server {

class LogTail : public std::enable_shared_from_this<LogTail> {
 public:
  LogTail(ServerContext& ctx, std::shared_ptr<EventStream> stream, std::string build_id,
          uint64_t offset);
  void Start();

 private:
  void Pump();
  void WaitForMore();
  bool Open();
  std::string BuildStatus();

  ServerContext& ctx_;
  std::shared_ptr<EventStream> stream_;
  std::string build_id_;
  uint64_t offset_;
  base::UniqueFd fd_;
  boost::asio::steady_timer timer_;
  std::string chunk_;
  bool waiting_ = false;
};

// Formats log bytes (whole lines) as one SSE event ending at byte offset `end`.
std::string FormatLogEvent(std::string_view lines, uint64_t end);

}  // namespace kiln::server
