#include "exec/docker_stream.h"

#include <algorithm>

namespace kiln::exec {

namespace {

constexpr uint8_t kDaemonErrorType = 3;
constexpr size_t kMaxDaemonError = 64 * 1024;

base::Status StreamError(std::string message) {
  return {base::ErrorKind::kFailed, "docker: " + std::move(message)};
}

std::string StringField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t IntField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// The failure a stream line reports, or "" when it reports none.
std::string ErrorOf(const nlohmann::json& j) {
  if (auto it = j.find("errorDetail"); it != j.end()) {
    std::string m = it->is_object() ? StringField(*it, "message") : "";
    if (!m.empty()) return m;
  }
  if (auto it = j.find("error"); it != j.end() && !it->is_null()) {
    std::string m = it->is_string() ? it->get<std::string>() : "";
    return m.empty() ? "unknown error" : m;
  }
  return j.contains("errorDetail") ? "unknown error" : "";
}

}  // namespace

base::Status FrameDemuxer::Feed(std::string_view bytes, const FrameSink& sink) {
  while (failed_.ok() && !bytes.empty()) {
    if (header_size_ < sizeof header_) {
      failed_ = FeedHeaderByte(bytes.front());
      bytes.remove_prefix(1);
    } else {
      failed_ = FeedPayload(&bytes, sink);
    }
  }
  return failed_;
}

base::Status FrameDemuxer::FeedHeaderByte(char byte) {
  header_[header_size_++] = byte;
  if (header_size_ < sizeof header_) return base::Status::Ok();
  auto u = [this](int i) { return static_cast<uint8_t>(header_[i]); };
  type_ = u(0);
  if (type_ > kDaemonErrorType || u(1) != 0 || u(2) != 0 || u(3) != 0) {
    return StreamError("malformed frame header (type " + std::to_string(type_) + ")");
  }
  remaining_ = (uint32_t{u(4)} << 24) | (uint32_t{u(5)} << 16) | (uint32_t{u(6)} << 8) | u(7);
  if (remaining_ == 0) header_size_ = 0;  // an empty frame: the next header follows
  return base::Status::Ok();
}

base::Status FrameDemuxer::FeedPayload(std::string_view* bytes, const FrameSink& sink) {
  size_t n = std::min<size_t>(remaining_, bytes->size());
  std::string_view piece = bytes->substr(0, n);
  bytes->remove_prefix(n);
  remaining_ -= static_cast<uint32_t>(n);
  if (type_ == kDaemonErrorType) {
    daemon_error_.append(piece.substr(0, kMaxDaemonError - daemon_error_.size()));
  } else {
    sink({.stream = static_cast<StreamKind>(type_), .data = piece});
  }
  if (remaining_ > 0) return base::Status::Ok();
  header_size_ = 0;
  if (type_ == kDaemonErrorType) return StreamError("daemon error in stream: " + daemon_error_);
  return base::Status::Ok();
}

base::Status FrameDemuxer::Finish() const {
  if (!failed_.ok()) return failed_;
  if (header_size_ != 0) return StreamError("stream ended inside a frame");
  return base::Status::Ok();
}

base::Status ProgressStreamParser::Feed(std::string_view bytes, const ProgressSink& sink) {
  while (failed_.ok() && !bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view part = bytes.substr(0, nl);
    if (partial_.size() + part.size() > kMaxLine) {
      failed_ = StreamError("progress line longer than 1 MiB");
      break;
    }
    partial_.append(part);
    if (nl == std::string_view::npos) break;
    bytes.remove_prefix(nl + 1);
    std::string line = std::move(partial_);
    partial_.clear();
    failed_ = HandleLine(line, sink);
  }
  return failed_;
}

base::Status ProgressStreamParser::Finish(const ProgressSink& sink) {
  if (!failed_.ok() || partial_.empty()) return failed_;
  std::string line = std::move(partial_);
  partial_.clear();
  failed_ = HandleLine(line, sink);
  return failed_;
}

base::Status ProgressStreamParser::HandleLine(std::string_view line, const ProgressSink& sink) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.empty()) return base::Status::Ok();
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object())
    return StreamError("malformed progress line: " + std::string(line.substr(0, 200)));
  if (std::string error = ErrorOf(j); !error.empty()) return StreamError(error);
  ProgressEvent event{.status = StringField(j, "status"),
                      .id = StringField(j, "id"),
                      .progress = StringField(j, "progress")};
  if (auto it = j.find("progressDetail"); it != j.end() && it->is_object()) {
    event.current = IntField(*it, "current");
    event.total = IntField(*it, "total");
  }
  event.stream = StringField(j, "stream");
  if (auto it = j.find("aux"); it != j.end()) event.aux = *it;
  sink(event);
  return base::Status::Ok();
}

}  // namespace kiln::exec
