#include "pipeline/engine_loop.h"

#include <sys/inotify.h>

#include <exception>

#include "base/ids.h"

namespace kiln::pipeline {

// Another process's writes (a stop, an approval, a released stage) are seen as changes of the
// store's files; a burst of them is read once, this long after the first.
constexpr int64_t kStoreChangeDelayMs = 10;

EngineLoop::EngineLoop(const EngineOptions& options) : options_(options) {}

EngineLoop::~EngineLoop() {
  WaitIdle();
  loop_.Stop();
  for (auto& [key, t] : threads_) {
    if (t.joinable()) t.join();
  }
}

base::Status EngineLoop::Start() {
  auto store = store::Store::Open((options_.state_dir / "kiln.db").string());
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  if (!loop_.Start()) return base::IoError("eventfd", errno);
  loop_.Post([this] { WatchStore(); });
  return base::Status::Ok();
}

void EngineLoop::WatchStore() {
  inotify_.Reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify_.valid()) return;  // then only this process's events move executions
  if (::inotify_add_watch(inotify_.get(), options_.state_dir.c_str(),
                          IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
    inotify_.Reset();
    return;
  }
  loop_.Watch(inotify_.get(), [this] {
    alignas(inotify_event) char buf[4096];
    bool store_file = false;
    for (;;) {
      ssize_t n = ::read(inotify_.get(), buf, sizeof buf);
      if (n <= 0) break;
      for (ssize_t off = 0; off < n;) {
        auto* ev = reinterpret_cast<inotify_event*>(buf + off);
        std::string_view name = ev->len ? std::string_view(ev->name) : std::string_view();
        if (name.starts_with("kiln.db")) store_file = true;
        off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      }
    }
    if (!store_file || store_change_pending_ || runs_.empty()) return;
    store_change_pending_ = true;
    loop_.At(base::MonotonicMillis() + kStoreChangeDelayMs, [this] { StoreChanged(); });
  });
}

void EngineLoop::StoreChanged() {
  store_change_pending_ = false;
  std::vector<std::string> ids;
  for (const auto& [id, e] : runs_) ids.push_back(id);
  for (const auto& id : ids) {
    if (Entry* e = Find(id)) e->run->ReadControl();
    AfterEvent(id);
  }
}

EngineLoop::Entry* EngineLoop::Find(const std::string& id) {
  auto it = runs_.find(id);
  return it == runs_.end() ? nullptr : &it->second;
}

void EngineLoop::Launch(const spec::Pipeline& pipeline, const std::string& id,
                        EngineLoop::EnterFn enter, ExecutionObserver* observer,
                        std::unique_ptr<ExecutionObserver> owned, Engine::Done done) {
  {
    std::lock_guard lock(mu_);
    ++count_;
  }
  auto shared_owned = std::make_shared<std::unique_ptr<ExecutionObserver>>(std::move(owned));
  loop_.Post([this, pipeline, id, enter = std::move(enter), observer, shared_owned,
              done = std::move(done)]() mutable {
    Enter(pipeline, id, enter, observer, std::move(*shared_owned), std::move(done));
  });
}

void EngineLoop::Enter(const spec::Pipeline& pipeline, const std::string& id, const EnterFn& enter,
                       ExecutionObserver* observer, std::unique_ptr<ExecutionObserver> owned,
                       Engine::Done done) {
  if (runs_.contains(id)) {
    return Ended(done,
                 base::Status(base::ErrorKind::kFailed, "execution " + id + " is running already"));
  }
  ExecutionObserver* told = owned ? owned.get() : observer;
  auto run = std::make_unique<ExecutionRun>(*this, options_, pipeline, id, told);
  base::Status entered;
  try {
    entered = enter(*run);
  } catch (const std::exception& e) {
    entered =
        base::Status(base::ErrorKind::kInternal, std::string("it could not start: ") + e.what());
  }
  if (!entered.ok()) return Ended(done, entered);
  Entry& entry = runs_[id];
  entry.owned = std::move(owned);
  entry.run = std::move(run);
  entry.done = std::move(done);
  entry.run->Advance();
  AfterEvent(id);
}

void EngineLoop::Ended(Engine::Done& done, const base::Status& status) {
  if (done) done(status);
  {
    std::lock_guard lock(mu_);
    --count_;
  }
  idle_.notify_all();
}

// An execution that has ended, with no action thread left, leaves the loop.
void EngineLoop::AfterEvent(const std::string& id) {
  Entry* e = Find(id);
  if (!e || !e->run->ended() || e->threads > 0) return;
  if (e->timer) loop_.CancelTimer(e->timer);
  Engine::Done done = std::move(e->done);
  runs_.erase(id);  // the run (and its observer) go before done: its folder is removed
  Ended(done, base::Status::Ok());
}

void EngineLoop::Notify(const std::string& id) {
  loop_.Post([this, id] {
    if (Entry* e = Find(id)) e->run->ReadControl();
    AfterEvent(id);
  });
}

void EngineLoop::NotifyGates() {
  loop_.Post([this] { GatesChanged(); });
}

size_t EngineLoop::running() const {
  std::lock_guard lock(mu_);
  return count_;
}

void EngineLoop::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return count_ == 0; });
}

void EngineLoop::RunAction(const std::string& id, size_t stage, size_t action, ActionJob job) {
  uint64_t key = next_thread_++;
  if (Entry* e = Find(id)) ++e->threads;
  threads_[key] = std::thread([this, key, id, stage, action, job = std::move(job)] {
    ActionOutcome out;
    try {
      out = RunBlockingAction(job, [&](const codebuild::BuildRecord& r) {
        loop_.Post([this, id, stage, action, r] {
          if (Entry* e = Find(id)) e->run->BuildStarted(stage, action, r);
        });
      });
    } catch (const std::exception& e) {
      out = {.status = ActionStatus::kFailed,
             .summary = std::string("the action failed: ") + e.what()};
    }
    loop_.Post([this, key, id, stage, action, out = std::move(out)]() mutable {
      ActionEnded(key, id, stage, action, std::move(out));
    });
  });
}

void EngineLoop::ActionEnded(uint64_t thread, const std::string& id, size_t stage, size_t action,
                             ActionOutcome outcome) {
  if (auto it = threads_.find(thread); it != threads_.end()) {
    it->second.join();  // it has posted this, its last act
    threads_.erase(it);
  }
  Entry* e = Find(id);
  if (!e) return;
  --e->threads;
  e->run->ActionDone(stage, action, std::move(outcome));
  AfterEvent(id);
}

void EngineLoop::BuildStarted(const std::string& id, size_t stage, size_t action,
                              const codebuild::BuildRecord& record) {
  if (Entry* e = Find(id)) e->run->BuildStarted(stage, action, record);
}

// Coalesced: the executions waiting at a gate look again once, after the current event.
void EngineLoop::GatesChanged() {
  if (gates_pending_) return;
  gates_pending_ = true;
  loop_.Post([this] {
    gates_pending_ = false;
    std::vector<std::string> ids;
    for (const auto& [id, e] : runs_) {
      if (e.run->WaitsAtGate()) ids.push_back(id);
    }
    for (const auto& id : ids) {
      if (Entry* e = Find(id)) e->run->Advance();
      AfterEvent(id);
    }
  });
}

void EngineLoop::WakeAt(const std::string& id, int64_t at_ms) {
  Entry* e = Find(id);
  if (!e || (e->timer && e->timer_at <= at_ms)) return;
  if (e->timer) loop_.CancelTimer(e->timer);
  e->timer_at = at_ms;
  e->timer = loop_.At(at_ms, [this, id] {
    if (Entry* found = Find(id)) {
      found->timer = 0;
      found->run->Advance();
    }
    AfterEvent(id);
  });
}

}  // namespace kiln::pipeline
