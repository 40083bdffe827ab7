// Kiln's state in SQLite (<state-dir>/kiln.db): pipeline definitions (versioned), executions,
// stage and action executions, artifacts, builds, the stage locks of SUPERSEDED mode and the
// stages' inbound transitions.
// Typed methods only; the SQL stays in src/store. Numbered migrations run at Open.
//
// Thread-compatible: one Store per thread (each opens its own connection); several processes
// may share the file (WAL, BEGIN IMMEDIATE for writes, busy timeout).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/sqlite.h"

namespace kiln::store {

struct ExecutionRow {
  std::string id;
  int64_t seq = 0;  // order of creation, per database
  std::string pipeline;
  int64_t pipeline_version = 0;
  std::string status;        // InProgress | Stopping | Stopped | Succeeded | ...
  std::string summary;       // why it ended as it did
  std::string trigger_type;  // StartPipelineExecution | Webhook | ...
  std::string trigger_detail;
  std::string execution_mode;  // SUPERSEDED | QUEUED | PARALLEL
  int64_t start_ms = 0, end_ms = 0;
  std::string variables_json;         // {"pipeline": {...}, "namespaces": {"Ns": {...}}}
  std::string source_revisions_json;  // [{actionName, revisionId, revisionSummary}]
  int64_t owner_pid = 0;              // the process running it
  std::string owner_token;            // that process's identity (pid start time), for liveness
  std::string stop_request;           // "" | "wait" | "abandon"
  std::string waiting_stage;          // the stage it waits in front of, if any
};

struct StageRow {
  std::string execution_id, stage;
  int position = 0;
  std::string status;  // InProgress | Succeeded | Failed | Stopped | Cancelled ...
  int64_t start_ms = 0, end_ms = 0;
  int attempt = 1;
};

struct ActionRow {
  std::string execution_id, stage, action;
  int run_order = 1;
  std::string status;  // InProgress | Succeeded | Failed | Abandoned
  std::string summary;
  std::string external_id;  // e.g. the build id
  std::string output_variables_json = "{}";
  int64_t start_ms = 0, end_ms = 0;
  int attempt = 1;
  std::string approval;  // Manual: "" waiting | Approved | Rejected
  std::string approval_summary;
  std::string token;  // Manual: a UUID made when it starts waiting (not a secret: AWS shows it)
};

struct ArtifactRow {
  std::string execution_id, name, sha256;
  int64_t size = 0;
};

struct BuildRow {
  std::string id, project;
  int64_t number = 0;
  std::string status, execution_id, record_json, log_path;
  int64_t start_ms = 0, end_ms = 0;
};

// A webhook delivery as received (exactly once by its id).
struct DeliveryRow {
  std::string id, connection, event;
  int64_t received_ms = 0;
  std::string outcome;  // started | ignored | duplicate-commit | ping ...
  std::string detail;
};

// A stage's inbound transition (DisableStageTransition / EnableStageTransition).
struct TransitionRow {
  std::string pipeline, stage;
  bool disabled = false;
  std::string reason;  // why it was disabled (empty once enabled)
  int64_t changed_ms = 0;
};

// An execution the server accepted and will run: inserted with status Queued.
struct QueuedExecution {
  ExecutionRow row;        // id, pipeline, version, trigger, mode, start_ms
  std::string start_json;  // the start options (variables, revision)
  std::string revision;    // de-duplication key with the pipeline; empty: none
};

struct IntakeResult {
  bool duplicate = false;               // the delivery id was seen before: nothing done
  std::vector<std::string> executions;  // ids of executions created
  std::vector<std::string> builds;      // ids of builds queued
  std::vector<std::string> already;     // "pipeline@revision" already started before
};

class Store {
 public:
  static base::Result<std::unique_ptr<Store>> Open(const std::string& path);

  // Pipelines: a new version only when the definition text changed.
  base::Result<int64_t> SavePipeline(const std::string& name, const std::string& definition);
  struct PipelineVersion {
    int64_t version = 0;
    std::string definition;
  };
  base::Result<std::optional<PipelineVersion>> GetPipeline(const std::string& name,
                                                           int64_t version = 0);
  base::Result<std::vector<std::string>> ListPipelines();

  // Executions.
  base::Status InsertExecution(ExecutionRow* row);  // sets row->seq
  base::Result<std::optional<ExecutionRow>> GetExecution(const std::string& id);
  // Newest first; pipeline empty = all.
  base::Result<std::vector<ExecutionRow>> ListExecutions(const std::string& pipeline,
                                                         int limit = 100);
  // Executions not yet ended (InProgress, Stopping), oldest first; pipeline empty = all.
  base::Result<std::vector<ExecutionRow>> ActiveExecutions(const std::string& pipeline);
  base::Status SetExecutionStatus(const std::string& id, const std::string& status,
                                  const std::string& summary, int64_t end_ms);
  base::Status SetExecutionVariables(const std::string& id, const std::string& variables_json,
                                     const std::string& source_revisions_json);
  base::Status SetOwner(const std::string& id, int64_t pid, const std::string& token);
  base::Status SetStopRequest(const std::string& id, const std::string& mode);
  base::Status SetWaitingStage(const std::string& id, const std::string& stage);

  // Stage and action executions (insert or replace by key).
  base::Status PutStage(const StageRow& row);
  base::Status PutAction(const ActionRow& row);
  base::Result<std::vector<StageRow>> Stages(const std::string& execution_id);
  base::Result<std::vector<ActionRow>> Actions(const std::string& execution_id);
  // Records the external id (e.g. the build id) of a running action.
  base::Status SetActionExternalId(const std::string& execution_id, const std::string& stage,
                                   const std::string& action, const std::string& external_id);
  // Records a manual approval's result: kFailed unless that action is waiting for one;
  // kInvalidInput if a token is given and is not the waiting approval's (CodePipeline:
  // InvalidApprovalTokenException). An empty token is not checked.
  base::Status DecideApproval(const std::string& execution_id, const std::string& stage,
                              const std::string& action, const std::string& result,
                              const std::string& summary, const std::string& token);

  // Artifacts produced by an execution, by name.
  base::Status PutArtifact(const ArtifactRow& row);
  base::Result<std::vector<ArtifactRow>> Artifacts(const std::string& execution_id);

  // The server's intake, in one transaction: records the delivery (unless delivery.id is
  // empty) and queues the executions whose (pipeline, revision) was not started before, and
  // the builds (rows with status QUEUED). A delivery id seen before changes nothing.
  base::Result<IntakeResult> Accept(const DeliveryRow& delivery,
                                    const std::vector<QueuedExecution>& executions,
                                    const std::vector<BuildRow>& builds);
  // Executions with status Queued, oldest first.
  base::Result<std::vector<ExecutionRow>> QueuedExecutions();
  base::Result<std::string> StartJson(const std::string& execution_id);
  // Queued -> InProgress, owned by (pid, token); false if it was not Queued any more.
  base::Result<bool> ClaimQueued(const std::string& id, int64_t pid, const std::string& token);
  // Builds with status QUEUED, oldest first; and the builds of a project, newest first.
  base::Result<std::vector<BuildRow>> QueuedBuilds();
  base::Result<std::vector<BuildRow>> ListBuilds(const std::string& project, int limit = 100);
  // Marks FAILED, with reason as the record's statusReason, the builds left IN_PROGRESS outside
  // any running execution (the server calls this at start-up, after reconciling dead
  // executions: its previous life's builds are dead).
  base::Result<int> FailUnfinishedBuilds(int64_t end_ms, const std::string& reason);
  // Marks FAILED / Failed, with the reason, the builds and executions whose status is none of
  // the known words (a row written by hand or by another program): nothing would end them.
  base::Result<int> FailUnknownStatuses(int64_t end_ms);

  // Builds (CodeBuild records).
  base::Status PutBuild(const BuildRow& row);
  base::Result<std::optional<BuildRow>> GetBuild(const std::string& id);

  // SUPERSEDED mode: one execution per stage at a time. TryLockStage takes the lock if it is
  // free or already ours; the caller releases it when the execution leaves the stage.
  base::Result<bool> TryLockStage(const std::string& pipeline, const std::string& stage,
                                  const std::string& execution_id);
  base::Status UnlockStage(const std::string& pipeline, const std::string& stage,
                           const std::string& execution_id);
  // Releases every stage lock held by an execution (it ended or died).
  base::Status UnlockAll(const std::string& execution_id);
  // Which execution holds the stage, if any.
  base::Result<std::string> StageHolder(const std::string& pipeline, const std::string& stage);

  // Stage transitions (stage_transitions.cc). A stage without a row has its inbound
  // transition enabled. SetTransition records the change now (changed_ms); an enabled
  // transition keeps no reason.
  base::Status SetTransition(const std::string& pipeline, const std::string& stage, bool enabled,
                             const std::string& reason);
  // The pipeline's recorded transitions, by stage name.
  base::Result<std::vector<TransitionRow>> Transitions(const std::string& pipeline);
  base::Result<bool> TransitionEnabled(const std::string& pipeline, const std::string& stage);

  Database& db() { return *db_; }

 private:
  explicit Store(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  base::Status Migrate();
  std::unique_ptr<Database> db_;
};

}  // namespace kiln::store
