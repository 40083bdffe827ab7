#include "server/catch_boundary.h"
#include "server/context.h"

namespace kiln::server {

StoreWorker::StoreWorker(std::filesystem::path db_path) : db_path_(std::move(db_path)) {
  thread_ = std::thread([this] { Loop(); });
}

StoreWorker::~StoreWorker() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void StoreWorker::Post(std::function<void(store::Store*)> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void StoreWorker::Loop() {
  auto store = store::Store::Open(db_path_.string());
  store::Store* s = store.ok() ? store->get() : nullptr;
  for (;;) {
    std::function<void(store::Store*)> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stop_ and drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    // A job answers its own request; if it throws, that request gets no answer (the client
    // sees the connection end) but the writer goes on with the next job.
    RunCatching("store writer job", [&] { job(s); });
  }
}

}  // namespace kiln::server
