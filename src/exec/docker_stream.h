// The two stream formats the Docker engine sends after its headers, decoded incrementally from
// bytes split anywhere. Pure: no I/O. Every byte is validated; buffers are capped, so a
// malformed or hostile answer becomes a Status, never a crash or an unbounded buffer.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kiln::exec {

// Which stream a multiplexed frame carries (pkg/stdcopy/stdcopy.go).
enum class StreamKind { kStdin = 0, kStdout = 1, kStderr = 2 };

// A piece of one frame's payload. A frame may be delivered in several pieces; pieces of one
// stream arrive in order, but stdout and stderr are not ordered against each other
// (DOCKER-ENGINE.md fact 4).
struct FramePiece {
  StreamKind stream = StreamKind::kStdout;
  std::string_view data;  // valid only during the callback
};
using FrameSink = std::function<void(const FramePiece&)>;

// Demultiplexes the `Tty:false` stream of attach, logs and exec: 8-byte headers
// [type, 0, 0, 0, size uint32 big-endian] each followed by size bytes. Payloads are passed on
// as they arrive (never buffered), so memory stays at one header plus a daemon error message.
// Not thread-safe; one instance per stream.
class FrameDemuxer {
 public:
  // Feeds the next bytes. Errors (kFailed): a header with an unknown type or non-zero padding
  // ("malformed frame"), or a complete type-3 frame: the daemon reports a failure in the
  // stream ("docker: daemon error in stream: ..."). After an error the demuxer stays failed.
  base::Status Feed(std::string_view bytes, const FrameSink& sink);
  // At the end of the stream: kFailed if it stopped inside a header or payload.
  base::Status Finish() const;

 private:
  base::Status FeedHeaderByte(char byte);
  base::Status FeedPayload(std::string_view* bytes, const FrameSink& sink);

  char header_[8] = {};
  size_t header_size_ = 0;  // header bytes seen of the current frame
  uint8_t type_ = 0;
  uint32_t remaining_ = 0;  // payload bytes still to come
  std::string daemon_error_;
  base::Status failed_;
};

// One line of a JSON-lines progress stream (pull, push, import, load, build).
struct ProgressEvent {
  std::string status;    // "Downloading", "Pull complete", an image id after an import
  std::string id;        // the layer, when the line is about one
  std::string progress;  // the engine's progress bar text
  int64_t current = 0;   // progressDetail
  int64_t total = 0;
  std::string stream;  // build output text
  nlohmann::json aux;  // a result object ({"ID": ...}, {"Tag","Digest","Size"}), or null
};
using ProgressSink = std::function<void(const ProgressEvent&)>;

// Splits a JSON-lines stream (objects separated by "\r\n" or "\n", split anywhere) and calls the
// sink once per object. An object carrying "errorDetail" or "error" is a failure reported after
// HTTP 200 (DOCKER-ENGINE.md fact 3): Feed returns kFailed with its message, and so does every
// later call. Also kFailed: a line that is not a JSON object, or one longer than kMaxLine.
class ProgressStreamParser {
 public:
  static constexpr size_t kMaxLine = 1 << 20;

  base::Status Feed(std::string_view bytes, const ProgressSink& sink);
  // At the end of the stream: handles a last line without a newline.
  base::Status Finish(const ProgressSink& sink);

 private:
  base::Status HandleLine(std::string_view line, const ProgressSink& sink);

  std::string partial_;
  base::Status failed_;
};

}  // namespace kiln::exec
