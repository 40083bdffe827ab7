// The engine's loop: the executions it runs, the threads of their running actions, timers, and
// the notifications that make an execution look again (Notify, a gate released here, the
// store's file changed by another process). Internal to the engine.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/event_loop.h"
#include "base/fd.h"
#include "pipeline/execution_run.h"

namespace kiln::pipeline {

class EngineLoop : public RunHost {
 public:
  explicit EngineLoop(const EngineOptions& options);
  ~EngineLoop() override;

  // Opens the store and starts the loop's thread.
  base::Status Start();
  // Runs enter (Create, ClaimQueued or Resume) on the loop, then the execution; done gets
  // enter's refusal, or Ok once the execution has ended.
  using EnterFn = std::function<base::Status(ExecutionRun&)>;
  void Launch(const spec::Pipeline& pipeline, const std::string& id, EnterFn enter,
              ExecutionObserver* observer, std::unique_ptr<ExecutionObserver> owned,
              Engine::Done done);
  void Notify(const std::string& id);
  // Any thread: GatesChanged on the loop.
  void NotifyGates();
  size_t running() const;
  // Waits until no execution runs here.
  void WaitIdle();

  store::Store& store() override { return *store_; }
  void RunAction(const std::string& id, size_t stage, size_t action, ActionJob job) override;
  void BuildStarted(const std::string& id, size_t stage, size_t action,
                    const codebuild::BuildRecord& record) override;
  void GatesChanged() override;
  void WakeAt(const std::string& id, int64_t at_ms) override;

 private:
  struct Entry {
    std::unique_ptr<ExecutionObserver> owned;
    std::unique_ptr<ExecutionRun> run;
    Engine::Done done;
    int threads = 0;  // its actions running on threads
    uint64_t timer = 0;
    int64_t timer_at = 0;
  };
  Entry* Find(const std::string& id);
  void Enter(const spec::Pipeline& pipeline, const std::string& id, const EnterFn& enter,
             ExecutionObserver* observer, std::unique_ptr<ExecutionObserver> owned,
             Engine::Done done);
  void ActionEnded(uint64_t thread, const std::string& id, size_t stage, size_t action,
                   ActionOutcome outcome);
  void AfterEvent(const std::string& id);
  void Ended(Engine::Done& done, const base::Status& status);
  void WatchStore();
  void StoreChanged();

  const EngineOptions& options_;
  base::EventLoop loop_;
  std::unique_ptr<store::Store> store_;
  // Loop thread only:
  std::map<std::string, Entry> runs_;
  std::map<uint64_t, std::thread> threads_;
  uint64_t next_thread_ = 1;
  bool gates_pending_ = false;
  bool store_change_pending_ = false;
  base::UniqueFd inotify_;
  // Any thread:
  mutable std::mutex mu_;
  std::condition_variable idle_;
  size_t count_ = 0;  // launched and not yet done
};

}  // namespace kiln::pipeline
