#include "deploy/container_logs.h"

#include <fcntl.h>
#include <unistd.h>

#include <mutex>

#include "base/fd.h"

namespace kiln::deploy {

struct TaskOutput::Follower {
  std::mutex mu;
  std::optional<exec::LogStream> stream;  // set once open; Abort through it
  bool aborted = false;
  std::thread thread;
};

namespace {

// Appends whole lines (and a last partial one at the end) with the prefix.
class LineWriter {
 public:
  LineWriter(int fd, std::string prefix) : fd_(fd), prefix_(std::move(prefix)) {}
  void Add(std::string_view data) {
    if (prefix_.empty()) return Write(data);
    std::string out;
    for (char c : data) {
      if (at_line_start_) out += prefix_;
      out.push_back(c);
      at_line_start_ = c == '\n';
    }
    Write(out);
  }

 private:
  void Write(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n <= 0) return;  // a full disk loses log lines, never the task
      bytes.remove_prefix(size_t(n));
    }
  }
  int fd_;
  std::string prefix_;
  bool at_line_start_ = true;
};

void Follow(const exec::DockerClient& client, TaskOutput::Container container,
            const std::filesystem::path& path, std::string prefix, int64_t since, std::mutex* mu,
            std::optional<exec::LogStream>* slot, const bool* aborted) {
  base::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return;
  auto stream = client.OpenLogs(container.id, {.follow = true, .since = since});
  if (!stream.ok()) return;
  exec::LogStream* reader = nullptr;
  {
    std::lock_guard lock(*mu);
    if (*aborted) return;
    *slot = std::move(*stream);
    reader = &**slot;
  }
  LineWriter writer(fd.get(), std::move(prefix));
  (void)reader->ReadAll([&](const exec::FramePiece& piece) { writer.Add(piece.data); });
}

}  // namespace

TaskOutput::TaskOutput(const exec::DockerClient& client, std::filesystem::path log_path,
                       std::vector<Container> containers, int64_t since) {
  bool prefixed = containers.size() > 1;
  for (Container& c : containers) {
    auto f = std::make_unique<Follower>();
    std::string prefix = prefixed ? "[" + c.name + "] " : "";
    f->thread = std::thread(Follow, client, std::move(c), log_path, std::move(prefix), since,
                            &f->mu, &f->stream, &f->aborted);
    followers_.push_back(std::move(f));
  }
}

TaskOutput::~TaskOutput() {
  for (auto& f : followers_) {
    std::lock_guard lock(f->mu);
    f->aborted = true;
    if (f->stream) f->stream->Abort();
  }
  for (auto& f : followers_) {
    if (f->thread.joinable()) f->thread.join();
  }
}

}  // namespace kiln::deploy
