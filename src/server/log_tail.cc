#include "server/log_tail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace kiln::server {
namespace {
constexpr size_t kChunk = 256 * 1024;
// How often a tail at the end of its files asks the feed again (new files, the end); writes
// wake it at once. Without a watch (inotify's limits), it also reads again this often.
constexpr int kFeedMs = 100;
}  // namespace

std::string FormatLogEvent(std::string_view lines, std::string_view id, std::string_view prefix) {
  std::string out;
  out.reserve(lines.size() + lines.size() / 16 + 32);
  if (!id.empty()) {
    out += "id: ";
    out += id;
    out += '\n';
  }
  for (;;) {
    const void* nl = std::memchr(lines.data(), '\n', lines.size());
    size_t n = nl ? static_cast<const char*>(nl) - lines.data() : lines.size();
    out += "data: ";
    out += prefix;
    std::string_view line = lines.substr(0, n);
    if (line.find('\r') == std::string_view::npos) {
      out += line;
    } else {
      std::copy_if(line.begin(), line.end(), std::back_inserter(out),
                   [](char c) { return c != '\r'; });
    }
    out += '\n';
    if (!nl) break;
    lines.remove_prefix(n + 1);
  }
  out += '\n';
  return out;
}

LogTail::LogTail(boost::asio::io_context& loop, FileWatch& files,
                 std::shared_ptr<EventStream> stream, LogFeed feed, bool offset_ids)
    : files_(files),
      stream_(std::move(stream)),
      feed_(std::move(feed)),
      offset_ids_(offset_ids),
      timer_(loop) {}

void LogTail::Start() {
  auto weak = weak_from_this();
  stream_->OnDrained([weak] {
    if (auto self = weak.lock()) self->Pump();
  });
  // The stream holds the tail alive through its callbacks; the timer holds it while waiting.
  stream_->OnClosed([self = shared_from_this()] { self->StopWaiting(); });
  Pump();
}

// The feed is asked only once everything known has been sent, and its answer (taken before
// the last reads) decides the end: bytes written before a writer finished are never lost.
void LogTail::Pump() {
  if (stream_->closed() || waiting_) return;
  if (SendNext()) return;  // OnDrained pumps again
  LogFeedState state = feed_();
  Adopt(std::move(state.files));
  if (SendNext()) return;
  if (!state.end) return WaitForMore();
  stream_->Send("event: end\ndata: " + *state.end + "\n\n");
  stream_->Close();
}

void LogTail::Adopt(std::vector<LogFile> files) {
  std::erase_if(sources_, [&](const Source& s) {
    return std::none_of(files.begin(), files.end(),
                        [&](const LogFile& f) { return f.key == s.file.key; });
  });
  for (LogFile& f : files) {
    auto it = std::find_if(sources_.begin(), sources_.end(),
                           [&](const Source& s) { return s.file.key == f.key; });
    if (it == sources_.end()) {
      sources_.push_back({.file = std::move(f)});
    } else {
      it->file.growing = f.growing;
    }
  }
}

bool LogTail::SendNext() {
  for (size_t i = 0; i < sources_.size(); ++i) {
    size_t at = (next_ + i) % sources_.size();
    if (sources_[at].done || !SendFrom(sources_[at])) continue;
    next_ = at + 1;
    return true;
  }
  return false;
}

// Sends the whole lines waiting in one file (a huge line in pieces; a last partial line once
// the file no longer grows). False when there was nothing to send.
bool LogTail::SendFrom(Source& s) {
  if (!s.fd.valid()) s.fd.Reset(::open(s.file.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!s.fd.valid()) {
    s.done = !s.file.growing;
    return false;
  }
  chunk_.resize(kChunk);
  ssize_t n = ::pread(s.fd.get(), chunk_.data(), kChunk, static_cast<off_t>(s.file.offset));
  std::string_view data(chunk_.data(), n > 0 ? static_cast<size_t>(n) : 0);
  size_t last_nl = data.rfind('\n');
  size_t take = last_nl != std::string_view::npos          ? last_nl + 1
                : data.size() == kChunk || !s.file.growing ? data.size()  // huge or last line
                                                           : 0;
  if (take == 0) {
    if (!s.file.growing) {
      s.done = true;
      s.fd.Reset();
    }
    return false;
  }
  s.file.offset += take;
  std::string_view lines = data.substr(0, take);
  if (lines.back() == '\n') lines.remove_suffix(1);
  std::string id = offset_ids_ ? std::to_string(s.file.offset) : "";
  stream_->Send(FormatLogEvent(lines, id, s.file.prefix));
  return true;
}

void LogTail::WaitForMore() {
  waiting_ = true;
  auto self = shared_from_this();
  for (const Source& s : sources_) {
    if (s.done || !s.file.growing) continue;
    if (uint64_t token = files_.Once(s.file.path, [self] { self->Woken(); })) {
      watches_.push_back(token);
    }
  }
  if (Grown()) return Woken();  // written between the last read and the watch
  timer_.expires_after(std::chrono::milliseconds(kFeedMs));
  timer_.async_wait([self](boost::system::error_code ec) {
    if (!ec) self->Woken();
  });
}

bool LogTail::Grown() {
  for (const Source& s : sources_) {
    struct stat st {};
    if (s.done || ::stat(s.file.path.c_str(), &st) != 0) continue;
    if (static_cast<uint64_t>(st.st_size) > s.file.offset) return true;
  }
  return false;
}

void LogTail::StopWaiting() {
  waiting_ = false;
  for (uint64_t token : watches_) files_.Cancel(token);
  watches_.clear();
  timer_.cancel();
}

void LogTail::Woken() {
  if (!waiting_) return;
  StopWaiting();
  Pump();
}

}  // namespace kiln::server
