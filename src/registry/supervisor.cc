// Supervisor and BuildRegistry (registry_process.h).
#include <chrono>
#include <string>

#include "base/ids.h"
#include "registry/http_probe.h"
#include "registry/registry_process.h"

namespace kiln::registry {
namespace {

constexpr int64_t kFirstBackoffMs = 1'000;
constexpr int64_t kMaxBackoffMs = 30'000;
constexpr int64_t kHealthyRunMs = 30'000;  // a run this long resets the backoff
constexpr int64_t kPollMs = 200;           // how soon Stop is noticed

}  // namespace

base::Result<std::unique_ptr<Supervisor>> Supervisor::Start(const Paths& paths, std::string listen,
                                                            LogFn log) {
  StopStaleRegistry(paths);  // one a killed kiln serve left would hold the address
  auto first = StartRegistry(paths, listen);
  if (!first.ok()) return first.status();
  return std::unique_ptr<Supervisor>(
      new Supervisor(paths, std::move(listen), std::move(log), std::move(*first)));
}

Supervisor::Supervisor(Paths paths, std::string listen, LogFn log, RegistryProcess first)
    : paths_(std::move(paths)),
      listen_(std::move(listen)),
      log_(std::move(log)),
      current_(std::move(first)) {
  pid_ = current_.pid;
  thread_ = std::thread([this] { Watch(); });
}

Supervisor::~Supervisor() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  StopRegistry(current_);
}

bool Supervisor::SleepUnlessStopping(int64_t ms) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
}

void Supervisor::Watch() {
  int64_t backoff = kFirstBackoffMs;
  int64_t started = base::MonotonicMillis();
  while (SleepUnlessStopping(0)) {
    std::optional<int> code = current_.pid > 0 ? ExitedWithin(current_.pid, kPollMs) : -1;
    if (!code) continue;
    if (current_.pid > 0) {
      StopRegistry(current_, 0);  // whatever it left in its group
      if (base::MonotonicMillis() - started >= kHealthyRunMs) backoff = kFirstBackoffMs;
      log_("registry on " + listen_ + " exited (code " + std::to_string(*code) +
           "); restarting in " + std::to_string(backoff / 1000) + " s");
    }
    current_ = {};
    pid_ = -1;
    if (!SleepUnlessStopping(backoff)) return;
    backoff = std::min(backoff * 2, kMaxBackoffMs);
    auto next = StartRegistry(paths_, listen_);
    if (!next.ok()) {
      log_("registry restart failed: " + next.status().message() + "; next try in " +
           std::to_string(backoff / 1000) + " s");
      continue;
    }
    current_ = std::move(*next);
    pid_ = current_.pid;
    started = base::MonotonicMillis();
    log_("registry on " + listen_ + " restarted (pid " + std::to_string(current_.pid) + ")");
  }
}

base::Result<std::unique_ptr<BuildRegistry>> BuildRegistry::Ensure(const Paths& paths,
                                                                   const std::string& listen) {
  // Anything answering HTTP there is taken to be kiln serve's registry: same state dir, so
  // the same htpasswd, and the password CurrentPassword gives works on it.
  if (HttpGetStatus(listen, "/v2/", 1'000).ok()) {
    return std::unique_ptr<BuildRegistry>(new BuildRegistry(RegistryProcess{}));
  }
  auto started = StartRegistry(paths, listen);
  if (!started.ok()) return started.status();
  return std::unique_ptr<BuildRegistry>(new BuildRegistry(std::move(*started)));
}

BuildRegistry::~BuildRegistry() { StopRegistry(process_); }

}  // namespace kiln::registry
