#include "codebuild/log_sink.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <utility>

#include "base/fd.h"

namespace kiln::codebuild {
namespace {

constexpr size_t kMaxLine = 64 * 1024;  // longer lines are cut into pieces of this size
constexpr std::string_view kMask = "***";
constexpr size_t kWriteBatch = 256 * 1024;

}  // namespace

Masker::Masker(std::vector<std::string> secrets) {
  for (auto& s : secrets) {
    if (!s.empty()) secrets_.push_back(std::move(s));
  }
  // Longest first, so a secret that contains another is masked whole.
  std::sort(secrets_.begin(), secrets_.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
  secrets_.erase(std::unique(secrets_.begin(), secrets_.end()), secrets_.end());
  if (!secrets_.empty()) hold_ = secrets_.front().size() - 1;
}

void Masker::Feed(std::string_view in, std::string* out) {
  if (secrets_.empty()) {
    out->append(in);
    return;
  }
  pending_.append(in);
  // A match starting before `safe` lies wholly inside pending_, so those bytes are final.
  if (pending_.size() > hold_) Emit(pending_.size() - hold_, out);
}

void Masker::Finish(std::string* out) { Emit(pending_.size(), out); }

std::string MaskText(std::vector<std::string> secrets, std::string_view text) {
  Masker masker(std::move(secrets));
  std::string out;
  masker.Feed(text, &out);
  masker.Finish(&out);
  return out;
}

// Masks and moves out pending_[0, end), extending end past a secret that straddles it.
void Masker::Emit(size_t end, std::string* out) {
  size_t pos = 0;
  while (pos < end) {
    size_t best = std::string::npos, best_len = 0;
    for (const auto& s : secrets_) {
      size_t at = pending_.find(s, pos);
      if (at < best) {
        best = at;
        best_len = s.size();
      }
    }
    if (best == std::string::npos || best >= end) break;
    out->append(pending_, pos, best - pos);
    out->append(kMask);
    pos = best + best_len;
    end = std::max(end, pos);
  }
  if (pos < end) out->append(pending_, pos, end - pos);
  pending_.erase(0, end);
}

LogSink::LogSink(int log_fd, int console_fd, std::vector<std::string> secrets,
                 std::string console_prefix)
    : log_fd_(log_fd),
      console_fd_(console_fd),
      masker_(std::move(secrets)),
      console_prefix_(std::move(console_prefix)) {}

LogSink::~LogSink() { Flush(); }

const std::string& LogSink::Stamp() {
  using namespace std::chrono;
  auto now = system_clock::now().time_since_epoch();
  int64_t ms = duration_cast<milliseconds>(now).count();
  int64_t sec = ms / 1000;
  if (sec != stamp_second_) {
    stamp_second_ = sec;
    time_t t = static_cast<time_t>(sec);
    struct tm tm;
    localtime_r(&t, &tm);
    char buf[32];
    std::snprintf(buf, sizeof buf, "[%02d:%02d:%02d.000] ", tm.tm_hour, tm.tm_min, tm.tm_sec);
    stamp_ = buf;
  }
  int m = static_cast<int>(ms % 1000);
  stamp_[10] = static_cast<char>('0' + m / 100);
  stamp_[11] = static_cast<char>('0' + m / 10 % 10);
  stamp_[12] = static_cast<char>('0' + m % 10);
  return stamp_;
}

void LogSink::FormatLines(std::string_view masked) {
  const std::string& stamp = Stamp();
  while (!masked.empty()) {
    const char* nl = static_cast<const char*>(std::memchr(masked.data(), '\n', masked.size()));
    if (!nl) {
      partial_.append(masked);
      if (partial_.size() >= kMaxLine) {
        out_ += stamp;
        out_ += partial_;
        out_ += '\n';
        partial_.clear();
      }
      return;
    }
    size_t len = static_cast<size_t>(nl - masked.data());
    out_ += stamp;
    if (!partial_.empty()) {
      out_ += partial_;
      partial_.clear();
    }
    out_.append(masked.data(), len + 1);
    masked.remove_prefix(len + 1);
  }
}

void LogSink::OnOutput(std::string_view bytes) {
  if (masker_.empty()) {  // nothing to hide: no copy
    FormatLines(bytes);
  } else {
    masked_.clear();
    masker_.Feed(bytes, &masked_);
    FormatLines(masked_);
  }
  if (out_.size() >= kWriteBatch) Write();  // else at the next Sync (the shell waits)
}

void LogSink::Line(std::string_view text) {
  QueueLine(text);
  Write();
}

void LogSink::QueueLine(std::string_view text) {
  masked_.clear();
  masker_.Finish(&masked_);  // output before this line is final now
  FormatLines(masked_);
  if (!partial_.empty()) FormatLines("\n");
  masked_.clear();
  if (masker_.empty()) {
    masked_.append(text);
  } else {
    Masker line_masker = masker_;
    line_masker.Feed(text, &masked_);
    line_masker.Finish(&masked_);
  }
  masked_ += '\n';
  FormatLines(masked_);
}

void LogSink::Flush() {
  masked_.clear();
  masker_.Finish(&masked_);
  FormatLines(masked_);
  if (!partial_.empty()) FormatLines("\n");
  Write();
}

void LogSink::Write() {
  if (out_.empty()) return;
  base::WriteAll(log_fd_, out_.data(), out_.size());
  if (console_fd_ >= 0 && console_prefix_.empty()) {
    base::WriteAll(console_fd_, out_.data(), out_.size());
  } else if (console_fd_ >= 0) {
    prefixed_.clear();
    for (size_t pos = 0; pos < out_.size();) {
      size_t nl = out_.find('\n', pos);
      size_t end = nl == std::string::npos ? out_.size() : nl + 1;
      prefixed_ += console_prefix_;
      prefixed_.append(out_, pos, end - pos);
      pos = end;
    }
    base::WriteAll(console_fd_, prefixed_.data(), prefixed_.size());
  }
  bytes_written_ += out_.size();
  out_.clear();
}

}  // namespace kiln::codebuild
