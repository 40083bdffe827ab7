// The pipeline execution engine: runs one execution of a CodePipeline-shaped pipeline in this
// process, with CodePipeline's model: stages in order, actions by runOrder (equal runOrder in
// parallel), artifacts passed by name, `#{...}` variables, statuses as CodePipeline names them,
// stop (wait or abandon), retry of a failed stage in the same execution, and the execution
// modes SUPERSEDED (stage locks; waiting executions superseded between stages), QUEUED and
// PARALLEL, coordinated across processes through the store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "spec/kiln_config.h"
#include "spec/pipeline.h"
#include "store/store.h"

namespace kiln::pipeline {

// Receives progress for live output. Called from action threads: implementations must be
// thread-safe.
class ExecutionObserver {
 public:
  virtual ~ExecutionObserver() = default;
  virtual void OnExecution(const std::string& execution_id, const std::string& status,
                           const std::string& summary) = 0;
  virtual void OnStage(const std::string& stage, const std::string& status) = 0;
  virtual void OnAction(const std::string& stage, const std::string& action,
                        const std::string& status, const std::string& summary) = 0;
  // A CodeBuild action's build started (status IN_PROGRESS) or ended.
  virtual void OnBuild(const std::string& /*stage*/, const std::string& /*action*/,
                       const std::string& /*build_id*/, const std::string& /*status*/) {}
  // The execution now waits in front of stage (its inbound transition is disabled, or another
  // execution holds it); an empty stage: it waits in front of none any more.
  virtual void OnWaiting(const std::string& /*stage*/) {}
};

// Rolls a service out for the Deploy `ECS` action; the server provides it (the process
// provider lives in `kiln serve`). Called on an action thread; blocks until the deployment
// reaches a steady state, fails, or is cancelled. Implementations must be thread-safe.
class Deployer {
 public:
  struct Request {
    std::string cluster, service;
    std::filesystem::path artifact_dir;   // the action's input artifact, unpacked
    std::string file_name;                // imagedefinitions.json (FileName)
    int64_t timeout_ms = 60 * 60 * 1000;  // DeploymentTimeout (CodePipeline: minutes)
    std::string execution_id;
    int cancel_fd = -1;  // readable => stop waiting (the execution was abandoned)
  };
  struct Outcome {
    bool succeeded = false;
    std::string summary;        // the reason, on failure; what was deployed, on success
    std::string deployment_id;  // the action's external execution id
  };
  virtual ~Deployer() = default;
  virtual Outcome Deploy(const Request& request) = 0;
};

struct EngineOptions {
  std::filesystem::path state_dir;
  const spec::KilnConfig* config = nullptr;  // connections, projects, secrets; may be null
  ExecutionObserver* observer = nullptr;     // for Run and Retry
  Deployer* deployer = nullptr;              // null: ECS actions fail ("needs kiln serve")
  int console_fd = -1;                       // build logs, each line prefixed by its action
  int64_t approval_timeout_ms = 7LL * 24 * 3600 * 1000;  // CodePipeline: 7 days
  // How often an execution waiting for a stage or its turn held by another process checks
  // that this process is alive (its own release is an event; a killed process writes none).
  int64_t liveness_check_ms = 2000;
};

struct StartOptions {
  std::map<std::string, std::string> variables;  // pipeline variable overrides
  std::string revision;                          // commit for the source actions
  std::string trigger_type = "StartPipelineExecution";
  std::string trigger_detail;
};

std::string StartOptionsToJson(const StartOptions& start);
// kInvalidInput naming the field if text is not what StartOptionsToJson writes ("" is the
// defaults).
base::Result<StartOptions> StartOptionsFromJson(const std::string& text);

class EngineLoop;

// Runs executions on one event loop of its own: the plan (ExecutionPlan) says what may run
// next, action runners report their ends as events, and stop requests and approvals reach a
// running execution at once (Notify, or a change of the store's file by another process). No
// thread per execution; a thread per running Source, CodeBuild or ECS action, which blocks on
// its work.
class Engine {
 public:
  using Done = std::function<void(base::Status)>;

  explicit Engine(EngineOptions options);
  ~Engine();  // waits for the executions it runs to end (stop them first)
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Creates an execution of pipeline (stored as `version`) and runs it to the end. Returns its
  // id; the outcome is in the store. kInvalidInput for an undeclared variable override.
  base::Result<std::string> Run(const spec::Pipeline& pipeline, int64_t version,
                                const StartOptions& start);

  // The server's two steps: Queue validates the start and makes the row to store (status
  // Queued; nothing is written here); StartQueued claims a stored Queued execution and runs it.
  // done gets the outcome of running it (not ok: it could not run, the status says why); it is
  // called on the engine's loop. observer (may be null) is owned by the execution.
  static base::Result<store::QueuedExecution> Queue(const spec::Pipeline& pipeline, int64_t version,
                                                    const StartOptions& start,
                                                    const std::string& dedupe_revision);
  void StartQueued(const spec::Pipeline& pipeline, const std::string& execution_id,
                   std::unique_ptr<ExecutionObserver> observer, Done done);

  // Retries stage `stage` of a Failed or Stopped execution (FAILED_ACTIONS re-runs the actions
  // that did not succeed; ALL_ACTIONS all of them), then runs the stages after it.
  base::Status Retry(const spec::Pipeline& pipeline, const std::string& execution_id,
                     const std::string& stage, const std::string& mode);
  void StartRetry(const spec::Pipeline& pipeline, const std::string& execution_id,
                  const std::string& stage, const std::string& mode,
                  std::unique_ptr<ExecutionObserver> observer, Done done);

  // The execution's stop request or one of its approvals changed in the store: it looks now.
  void Notify(const std::string& execution_id);
  // Something the gates in front of stages depend on changed (a stage's transition was
  // enabled or disabled): the executions waiting at a gate look again now. Any thread.
  void GatesChanged();
  // How many executions run here.
  size_t running() const;

 private:
  EngineOptions options_;
  std::unique_ptr<EngineLoop> loop_;
  base::Status start_status_;  // why the loop could not start, if it could not
};

}  // namespace kiln::pipeline
