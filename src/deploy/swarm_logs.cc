#include "deploy/swarm_logs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "base/fd.h"
#include "exec/swarm_wire.h"

namespace kiln::deploy {
namespace {

constexpr int64_t kFirstPauseMs = 1'000, kLongestPauseMs = 10'000;
constexpr size_t kMaxLine = 1 << 20;  // a longer partial line is dropped
constexpr size_t kMaxOpenLogs = 64;   // then every file is closed and reopened as needed

void WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n <= 0) return;  // a full disk loses log lines, never the service
    bytes.remove_prefix(size_t(n));
  }
}

}  // namespace

// Splits the demultiplexed stream into lines (per stdout and stderr) and appends each to its
// task's file. Lines it cannot read are skipped.
class SwarmTaskOutput::Writer {
 public:
  explicit Writer(const std::filesystem::path& dir) : dir_(dir) {}
  int64_t last_ns() const { return last_ns_; }
  bool wrote() const { return wrote_; }

  void Add(const exec::FramePiece& piece) {
    std::string& partial = partial_[piece.stream == exec::StreamKind::kStderr];
    std::string_view data = piece.data;
    while (!data.empty()) {
      size_t newline = data.find('\n');
      size_t take = newline == std::string_view::npos ? data.size() : newline + 1;
      partial.append(data.substr(0, take));
      data.remove_prefix(take);
      if (partial.back() == '\n') {
        Line(partial);
        partial.clear();
      } else if (partial.size() > kMaxLine) {
        partial.clear();
      }
    }
  }

 private:
  void Line(std::string_view line) {
    auto parsed = exec::ParseServiceLogLine(line);
    if (!parsed.ok()) return;
    last_ns_ = std::max(last_ns_, parsed->time_ns);
    int fd = FileOf(parsed->task_id);
    if (fd < 0) return;
    WriteAll(fd, parsed->text);
    if (!parsed->text.ends_with('\n')) WriteAll(fd, "\n");
    wrote_ = true;
  }
  int FileOf(const std::string& task) {
    auto it = files_.find(task);
    if (it != files_.end()) return it->second.get();
    if (files_.size() >= kMaxOpenLogs) files_.clear();
    std::filesystem::path path = dir_ / (task + ".log");
    base::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (!fd.valid()) return -1;
    return files_.emplace(task, std::move(fd)).first->second.get();
  }

  std::filesystem::path dir_;
  std::string partial_[2];
  std::map<std::string, base::UniqueFd> files_;
  int64_t last_ns_ = 0;
  bool wrote_ = false;
};

SwarmTaskOutput::SwarmTaskOutput(exec::SwarmClient client, std::string service,
                                 std::filesystem::path tasks_dir, int64_t since_ns)
    : client_(std::move(client)),
      service_(std::move(service)),
      tasks_dir_(std::move(tasks_dir)),
      since_ns_(since_ns),
      thread_([this] { Run(); }) {}

SwarmTaskOutput::~SwarmTaskOutput() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (stream_) stream_->Abort();
  }
  cv_.notify_all();
  thread_.join();
}

bool SwarmTaskOutput::Wait(int64_t ms) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
  return !stopping_;
}

void SwarmTaskOutput::Run() {
  std::error_code ec;
  std::filesystem::create_directories(tasks_dir_, ec);
  int64_t pause = kFirstPauseMs;
  do {
    auto stream = client_.OpenServiceLogs(
        service_, {.follow = true, .since_ns = since_ns_, .timestamps = true, .details = true});
    if (stream.ok()) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        stream_ = std::move(*stream);
      }
      Writer writer(tasks_dir_);
      (void)stream_->ReadAll([&](const exec::FramePiece& piece) { writer.Add(piece); });
      std::lock_guard lock(mu_);
      stream_.reset();
      if (writer.last_ns() > 0) since_ns_ = writer.last_ns() + 1;
      pause = writer.wrote() ? kFirstPauseMs : std::min(pause * 2, kLongestPauseMs);
    } else {
      pause = std::min(pause * 2, kLongestPauseMs);
    }
  } while (Wait(pause));
}

int64_t NewestLogNs(const std::filesystem::path& tasks_dir) {
  int64_t newest = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(tasks_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    struct stat st {};
    if (it->path().extension() != ".log" || ::stat(it->path().c_str(), &st) != 0) continue;
    newest = std::max(newest, int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec);
  }
  return newest;
}

}  // namespace kiln::deploy
