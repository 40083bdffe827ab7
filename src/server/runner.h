// Runs what the server accepted: queued pipeline executions and queued builds, oldest first,
// within the concurrency limits (globally and per project). Executions run on the pipeline
// engine's one loop; each build on its own thread (the build engine blocks). The queue is the
// store, so it survives a restart.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "codebuild/engine.h"
#include "pipeline/engine.h"
#include "server/event_hub.h"
#include "server/metrics.h"
#include "spec/kiln_config.h"
#include "spec/pipeline.h"
#include "store/store.h"

namespace kiln::server {

struct RunnerOptions {
  std::filesystem::path state_dir;
  const spec::KilnConfig* config = nullptr;  // outlives the runner
  int max_executions = 16;                   // executions running at once, all pipelines
  int max_builds = 8;                        // builds started through the API/webhooks at once
  int max_builds_per_project = 4;
  pipeline::Deployer* deployer = nullptr;
  // The definition an execution was queued with (name, stored version).
  std::function<std::optional<spec::Pipeline>(const std::string&, int64_t)> find_pipeline;
};

class Runner {
 public:
  Runner(RunnerOptions options, EventHub& events, Metrics& metrics);
  ~Runner();
  // Starts the dispatcher thread.
  void Start();
  // Looks at the queue now (new work was committed).
  void Wake();
  // Stops starting work; waits up to grace_ms for what runs; then stops it (executions are
  // abandoned, builds stopped), records why, and waits for the threads.
  void Shutdown(int64_t grace_ms);
  size_t running_executions() const;
  size_t running_builds() const;
  size_t queued() const { return queued_; }
  // Retries a stage of a Failed/Stopped execution (the engine re-checks and a refusal becomes
  // an event).
  void Retry(const store::ExecutionRow& row, const std::string& stage, const std::string& mode);
  // The execution's stop request or an approval changed in the store.
  void Notify(const std::string& execution_id);
  // A stage's transition changed in the store: executions waiting at a gate look now.
  void GatesChanged();
  // Cancels a running build started by the runner. kNotFound if it is not running here.
  base::Status StopBuild(const std::string& build_id);

 private:
  void Dispatch();
  void StartQueuedExecutions(store::Store& store);
  void StartQueuedBuilds(store::Store& store);
  // Behind a catch boundary (catch_boundary.h): whatever a stored row holds, the work ends
  // Failed/FAILED with a reason and the daemon goes on.
  void StartExecution(const store::ExecutionRow& row);
  std::optional<spec::Pipeline> PipelineOf(const store::ExecutionRow& row, std::string* why);
  void ExecutionEnded(const store::ExecutionRow& row, const base::Status& status);
  void Recorded(const base::Status& written, const std::string& what);
  void FailExecution(const store::ExecutionRow& row, const std::string& reason);
  void RunBuildRow(const store::BuildRow& row, int cancel_read);
  std::string PrepareAndRunBuild(const store::BuildRow& row, int cancel_read, store::Store* store,
                                 codebuild::BuildRecord* record);
  void RecordBuildEnd(const store::BuildRow& row, store::Store* store,
                      const codebuild::BuildRecord& record, const std::string& error);
  void Finished(const std::string& key);  // key: threads_' key of the work
  // Store connections are reused across builds (opening one costs a migration check).
  std::unique_ptr<store::Store> TakeStore();
  void ReturnStore(std::unique_ptr<store::Store> store);

  RunnerOptions options_;
  EventHub& events_;
  Metrics& metrics_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool wake_pending_ = false;
  bool stopping_ = false;
  std::thread dispatcher_;
  std::unique_ptr<pipeline::Engine> engine_;    // made by Start
  std::map<std::string, std::thread> threads_;  // by "build <id>"
  std::set<std::string> executions_, builds_;   // running
  std::map<std::string, int> builds_by_project_;
  std::map<std::string, int> build_cancel_;  // build id -> write end of its cancel pipe
  std::vector<std::thread> finished_;        // to join
  std::atomic<size_t> queued_{0};
  std::vector<std::unique_ptr<store::Store>> idle_stores_;  // guarded by mu_
};

}  // namespace kiln::server
