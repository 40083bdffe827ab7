#include "server/log_tail.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

namespace kiln::server {
namespace {
constexpr size_t kChunk = 256 * 1024;
constexpr int kPollMs = 50;  // how often a tail at the end of a running build looks again
}  // namespace

std::string FormatLogEvent(std::string_view lines, uint64_t end) {
  std::string out;
  out.reserve(lines.size() + lines.size() / 16 + 32);
  out += "id: ";
  out += std::to_string(end);
  out += '\n';
  while (!lines.empty()) {
    const void* nl = std::memchr(lines.data(), '\n', lines.size());
    size_t n = nl ? static_cast<const char*>(nl) - lines.data() : lines.size();
    out += "data: ";
    out.append(lines.data(), n);
    out += '\n';
    lines.remove_prefix(nl ? n + 1 : n);
  }
  out += '\n';
  return out;
}

LogTail::LogTail(ServerContext& ctx, std::shared_ptr<EventStream> stream, std::string build_id,
                 uint64_t offset)
    : ctx_(ctx),
      stream_(std::move(stream)),
      build_id_(std::move(build_id)),
      offset_(offset),
      timer_(ctx.loop) {}

void LogTail::Start() {
  auto weak = weak_from_this();
  stream_->OnDrained([weak] {
    if (auto self = weak.lock()) self->Pump();
  });
  // The stream holds the tail alive through its callbacks; the timer holds it while waiting.
  stream_->OnClosed([self = shared_from_this()] { self->timer_.cancel(); });
  Pump();
}

bool LogTail::Open() {
  if (fd_.valid()) return true;
  auto row = ctx_.reads.GetBuild(build_id_);
  if (!row.ok() || !*row || (*row)->log_path.empty()) return false;
  fd_.Reset(::open((*row)->log_path.c_str(), O_RDONLY | O_CLOEXEC));
  return fd_.valid();
}

std::string LogTail::BuildStatus() {
  auto row = ctx_.reads.GetBuild(build_id_);
  return row.ok() && *row ? (*row)->status : "";
}

void LogTail::Pump() {
  if (stream_->closed() || waiting_) return;
  if (!Open()) {
    std::string status = BuildStatus();
    if (status != "QUEUED" && status != "IN_PROGRESS") {
      stream_->Send("event: end\ndata: {\"buildStatus\":\"" + status + "\"}\n\n");
      stream_->Close();
      return;
    }
    return WaitForMore();
  }
  chunk_.resize(kChunk);
  ssize_t n = ::pread(fd_.get(), chunk_.data(), kChunk, static_cast<off_t>(offset_));
  if (n < 0) {
    stream_->Close();
    return;
  }
  std::string_view data(chunk_.data(), static_cast<size_t>(n));
  size_t last_nl = data.rfind('\n');
  if (last_nl == std::string_view::npos && data.size() == kChunk)
    last_nl = kChunk - 1;  // a huge line
  if (last_nl != std::string_view::npos) {
    data = data.substr(0, last_nl + 1);
    offset_ += data.size();
    stream_->Send(FormatLogEvent(data.substr(0, data.size() - 1), offset_));
    return;  // OnDrained pumps again
  }
  // No whole line waiting: the build may still write, or it ended (flush a last partial line).
  std::string status = BuildStatus();
  if (status == "QUEUED" || status == "IN_PROGRESS") return WaitForMore();
  if (!data.empty()) {
    offset_ += data.size();
    stream_->Send(FormatLogEvent(data, offset_));
  }
  stream_->Send("event: end\ndata: {\"buildStatus\":\"" + status + "\"}\n\n");
  stream_->Close();
}

void LogTail::WaitForMore() {
  waiting_ = true;
  timer_.expires_after(std::chrono::milliseconds(kPollMs));
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    self->waiting_ = false;
    if (!ec) self->Pump();
  });
}

}  // namespace kiln::server
