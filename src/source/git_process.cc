#include "source/git_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <optional>

#include "base/fd.h"
#include "base/ids.h"
#include "exec/process.h"

namespace kiln::source {
namespace {

struct Pipe {
  base::UniqueFd read;
  base::UniqueFd write;
};

// Both ends CLOEXEC and numbered >= 10: a child's dup2 onto 1, 2 or 3 then always clears
// CLOEXEC (dup2 of an fd onto itself would keep it, and the child would lose the pipe).
base::Result<Pipe> MakePipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return base::IoError("pipe", errno);
  Pipe pipe{base::UniqueFd(p[0]), base::UniqueFd(p[1])};
  for (base::UniqueFd* end : {&pipe.read, &pipe.write}) {
    int fd = ::fcntl(end->get(), F_DUPFD_CLOEXEC, 10);
    if (fd < 0) return base::IoError("fcntl", errno);
    end->Reset(fd);
  }
  return pipe;
}

// The children of one run. Each leads its own process group (so git's ssh helper dies with
// it). Whatever has not been reaped when this goes out of scope is killed and reaped.
class Children {
 public:
  Children() = default;
  Children(const Children&) = delete;
  Children& operator=(const Children&) = delete;
  ~Children() { KillAll(); }

  void Add(pid_t pid) { pids_.push_back(pid); }

  // Kills and reaps the children not reaped yet. A reaped child's pid may be reused, so it
  // is never signalled.
  void KillAll() {
    for (size_t i = statuses_.size(); i < pids_.size(); ++i) ::kill(-pids_[i], SIGKILL);
    for (size_t i = statuses_.size(); i < pids_.size(); ++i) exec::WaitFor(pids_[i], -1);
    pids_.resize(statuses_.size());
  }

  // Wait statuses in order of Add, or nullopt if the deadline passed first.
  std::optional<std::vector<int>> WaitAll(int64_t deadline) {
    while (statuses_.size() < pids_.size()) {
      int64_t left = std::max<int64_t>(deadline - base::MonotonicMillis(), 0);
      auto status = exec::WaitFor(pids_[statuses_.size()], left);
      if (!status) return std::nullopt;
      statuses_.push_back(*status);
    }
    return statuses_;
  }

 private:
  std::vector<pid_t> pids_;
  std::vector<int> statuses_;  // of pids_[0..size)
};

struct Sink {
  base::UniqueFd fd;
  std::string* into;
  size_t max;
};

// Appends what one readable fd holds; false at end of file or on an error.
bool ReadSome(Sink& sink) {
  char buf[65536];
  ssize_t n = ::read(sink.fd.get(), buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  size_t room = sink.max - std::min(sink.max, sink.into->size());
  sink.into->append(buf, std::min(static_cast<size_t>(n), room));
  return true;
}

// Reads every sink to end of file. False if the deadline passed first.
bool Drain(std::vector<Sink>& sinks, int64_t deadline) {
  std::vector<pollfd> fds;
  for (const Sink& s : sinks) fds.push_back({.fd = s.fd.get(), .events = POLLIN, .revents = 0});
  auto open = [&] {
    return std::any_of(fds.begin(), fds.end(), [](auto& p) { return p.fd >= 0; });
  };
  while (open()) {
    int64_t left = deadline - base::MonotonicMillis();
    if (left <= 0) return false;
    int rc = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(left, INT_MAX)));
    if (rc < 0 && errno != EINTR) return false;
    for (size_t i = 0; rc > 0 && i < fds.size(); ++i) {
      if (fds[i].fd >= 0 && fds[i].revents != 0 && !ReadSome(sinks[i])) fds[i].fd = -1;
    }
  }
  return true;
}

base::Status TimedOut(const std::vector<std::string>& argv, const ProcessLimits& limits) {
  return {base::ErrorKind::kFailed,
          argv[0] + " timed out after " + std::to_string(limits.timeout_ms) + " ms"};
}

// Collects output and exit statuses, killing everything at the deadline.
base::Result<std::vector<int>> Finish(Children& children, std::vector<Sink>& sinks,
                                      const std::vector<std::string>& argv,
                                      const ProcessLimits& limits, int64_t deadline) {
  std::optional<std::vector<int>> statuses;
  if (Drain(sinks, deadline)) statuses = children.WaitAll(deadline);
  if (!statuses) {
    children.KillAll();
    return TimedOut(argv, limits);
  }
  return *std::move(statuses);
}

exec::SpawnRequest Request(const std::vector<std::string>& argv,
                           const std::vector<std::string>& env, const std::string& cwd) {
  return {.argv = argv, .env = env, .cwd = cwd, .new_process_group = true};
}

base::Status SpawnChild(Children& children, const exec::SpawnRequest& request) {
  auto pid = exec::Spawn(request);
  if (!pid.ok()) return pid.status();
  children.Add(*pid);
  return base::Status::Ok();
}

// Reads stdout and stderr to end of file, then reaps the children. The write ends must be
// closed in this process already, or end of file never comes.
base::Result<std::vector<int>> Collect(Children& children, Pipe& out, Pipe& err,
                                       ProcessOutput& result, const std::vector<std::string>& argv,
                                       const ProcessLimits& limits, int64_t deadline) {
  std::vector<Sink> sinks;
  sinks.push_back({std::move(out.read), &result.out, limits.max_stdout});
  sinks.push_back({std::move(err.read), &result.err, limits.max_stderr});
  return Finish(children, sinks, argv, limits, deadline);
}

}  // namespace

base::Result<ProcessOutput> RunProcess(const std::vector<std::string>& argv,
                                       const std::vector<std::string>& env, const std::string& cwd,
                                       const ProcessLimits& limits) {
  int64_t deadline = base::MonotonicMillis() + limits.timeout_ms;
  auto out = MakePipe();
  if (!out.ok()) return out.status();
  auto err = MakePipe();
  if (!err.ok()) return err.status();
  exec::SpawnRequest request = Request(argv, env, cwd);
  request.stdout_fd = out->write.get();
  request.stderr_fd = err->write.get();
  Children children;
  if (auto s = SpawnChild(children, request); !s.ok()) return s;
  out->write.Reset();
  err->write.Reset();
  ProcessOutput result;
  auto statuses = Collect(children, *out, *err, result, argv, limits, deadline);
  if (!statuses.ok()) return statuses.status();
  result.exit_code = exec::ExitCodeOf(statuses->front());
  return result;
}

base::Result<ProcessOutput> RunPiped(const std::vector<std::string>& producer,
                                     const std::vector<std::string>& consumer,
                                     const std::vector<std::string>& env, const std::string& cwd,
                                     const ProcessLimits& limits) {
  int64_t deadline = base::MonotonicMillis() + limits.timeout_ms;
  auto data = MakePipe();
  if (!data.ok()) return data.status();
  auto out = MakePipe();
  if (!out.ok()) return out.status();
  auto err = MakePipe();
  if (!err.ok()) return err.status();
  exec::SpawnRequest first = Request(producer, env, cwd);
  first.stdout_fd = data->write.get();
  first.stderr_fd = err->write.get();
  exec::SpawnRequest second = Request(consumer, env, cwd);
  second.stdout_fd = out->write.get();
  second.stderr_fd = err->write.get();
  second.extra_fds = {{data->read.get(), 3}};
  Children children;
  if (auto s = SpawnChild(children, first); !s.ok()) return s;
  if (auto s = SpawnChild(children, second); !s.ok()) return s;
  // Only the children may hold these ends now, so each side sees EOF or EPIPE when the other
  // ends, and our reads end when both have exited.
  data->read.Reset();
  data->write.Reset();
  out->write.Reset();
  err->write.Reset();
  ProcessOutput result;
  auto statuses = Collect(children, *out, *err, result, producer, limits, deadline);
  if (!statuses.ok()) return statuses.status();
  int producer_code = exec::ExitCodeOf((*statuses)[0]);
  result.exit_code = producer_code != 0 ? producer_code : exec::ExitCodeOf((*statuses)[1]);
  return result;
}

}  // namespace kiln::source
