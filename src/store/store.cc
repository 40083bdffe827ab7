#include "store/store.h"

#include <chrono>
#include <thread>

#include "base/ids.h"

namespace kiln::store {
namespace {

// Numbered migrations: index + 1 is the schema version they bring the database to.
constexpr const char* kMigrations[] = {
    R"SQL(
CREATE TABLE pipelines (
  name TEXT NOT NULL, version INTEGER NOT NULL, definition TEXT NOT NULL,
  created_ms INTEGER NOT NULL, PRIMARY KEY (name, version));
CREATE TABLE executions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, pipeline TEXT NOT NULL,
  pipeline_version INTEGER NOT NULL, status TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '',
  trigger_type TEXT NOT NULL DEFAULT '', trigger_detail TEXT NOT NULL DEFAULT '',
  execution_mode TEXT NOT NULL DEFAULT 'SUPERSEDED',
  start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL DEFAULT 0,
  variables_json TEXT NOT NULL DEFAULT '{}', source_revisions_json TEXT NOT NULL DEFAULT '[]',
  owner_pid INTEGER NOT NULL DEFAULT 0, owner_token TEXT NOT NULL DEFAULT '',
  stop_request TEXT NOT NULL DEFAULT '', waiting_stage TEXT NOT NULL DEFAULT '');
CREATE INDEX executions_by_pipeline ON executions (pipeline, seq);
CREATE TABLE stage_executions (
  execution_id TEXT NOT NULL, stage TEXT NOT NULL, position INTEGER NOT NULL,
  status TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL DEFAULT 0,
  attempt INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (execution_id, stage));
CREATE TABLE action_executions (
  execution_id TEXT NOT NULL, stage TEXT NOT NULL, action TEXT NOT NULL,
  run_order INTEGER NOT NULL, status TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '',
  external_id TEXT NOT NULL DEFAULT '', output_variables_json TEXT NOT NULL DEFAULT '{}',
  start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL DEFAULT 0,
  attempt INTEGER NOT NULL DEFAULT 1, approval TEXT NOT NULL DEFAULT '',
  approval_summary TEXT NOT NULL DEFAULT '', PRIMARY KEY (execution_id, stage, action));
CREATE TABLE artifacts (
  execution_id TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
  PRIMARY KEY (execution_id, name));
CREATE TABLE builds (
  id TEXT PRIMARY KEY, project TEXT NOT NULL, number INTEGER NOT NULL, status TEXT NOT NULL,
  execution_id TEXT NOT NULL DEFAULT '', record_json TEXT NOT NULL, log_path TEXT NOT NULL,
  start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE stage_locks (
  pipeline TEXT NOT NULL, stage TEXT NOT NULL, execution_id TEXT NOT NULL,
  PRIMARY KEY (pipeline, stage));
)SQL",
    // 2: the server's durable intake: webhook deliveries (exactly once by delivery id), the
    // (pipeline, commit) pairs already started, and what a queued execution was asked for.
    R"SQL(
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY, connection TEXT NOT NULL, event TEXT NOT NULL,
  received_ms INTEGER NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');
CREATE TABLE trigger_starts (
  pipeline TEXT NOT NULL, revision TEXT NOT NULL, execution_id TEXT NOT NULL,
  PRIMARY KEY (pipeline, revision));
ALTER TABLE executions ADD COLUMN start_json TEXT NOT NULL DEFAULT '';
)SQL",
    // 3: services (src/deploy): revisions, deployments, tasks, scaled desired counts, events.
    R"SQL(
CREATE TABLE service_revisions (
  service TEXT NOT NULL, number INTEGER NOT NULL, task_definition TEXT NOT NULL,
  created_ms INTEGER NOT NULL, PRIMARY KEY (service, number));
CREATE TABLE service_deployments (
  id TEXT PRIMARY KEY, service TEXT NOT NULL, revision INTEGER NOT NULL, status TEXT NOT NULL,
  rollout_state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
  desired_count INTEGER NOT NULL, failed_tasks INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE INDEX service_deployments_by_service ON service_deployments (service, created_ms);
CREATE TABLE service_tasks (
  id TEXT PRIMARY KEY, service TEXT NOT NULL, revision INTEGER NOT NULL, pid INTEGER NOT NULL,
  pid_token TEXT NOT NULL, port INTEGER NOT NULL, state TEXT NOT NULL, health TEXT NOT NULL,
  started_ms INTEGER NOT NULL, stopped_ms INTEGER NOT NULL DEFAULT 0);
CREATE INDEX service_tasks_by_service ON service_tasks (service, state);
CREATE TABLE service_settings (
  service TEXT PRIMARY KEY, desired_count INTEGER NOT NULL,
  config_desired_count INTEGER NOT NULL);
CREATE TABLE service_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, service TEXT NOT NULL, at_ms INTEGER NOT NULL,
  message TEXT NOT NULL);
CREATE INDEX service_events_by_service ON service_events (service, seq);
)SQL",
    // 4: a Manual approval's token, made when it starts waiting (PutApprovalResult's token).
    R"SQL(
ALTER TABLE action_executions ADD COLUMN token TEXT NOT NULL DEFAULT '';
)SQL",
    // 5: stage transitions (DisableStageTransition): a stage's inbound transition, when it
    // was last changed; no row means enabled.
    R"SQL(
CREATE TABLE stage_transitions (
  pipeline TEXT NOT NULL, stage TEXT NOT NULL, disabled INTEGER NOT NULL,
  reason TEXT NOT NULL DEFAULT '', changed_ms INTEGER NOT NULL, PRIMARY KEY (pipeline, stage));
)SQL",
};

constexpr char kExecutionColumns[] =
    "id, seq, pipeline, pipeline_version, status, summary, trigger_type, trigger_detail, "
    "execution_mode, start_ms, end_ms, variables_json, source_revisions_json, owner_pid, "
    "owner_token, stop_request, waiting_stage";

ExecutionRow ReadExecution(const Statement& s) {
  return {.id = s.Text(0),
          .seq = s.Int(1),
          .pipeline = s.Text(2),
          .pipeline_version = s.Int(3),
          .status = s.Text(4),
          .summary = s.Text(5),
          .trigger_type = s.Text(6),
          .trigger_detail = s.Text(7),
          .execution_mode = s.Text(8),
          .start_ms = s.Int(9),
          .end_ms = s.Int(10),
          .variables_json = s.Text(11),
          .source_revisions_json = s.Text(12),
          .owner_pid = s.Int(13),
          .owner_token = s.Text(14),
          .stop_request = s.Text(15),
          .waiting_stage = s.Text(16)};
}

}  // namespace

base::Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  // Switching a new file to WAL and migrating it take locks that SQLite may refuse at once
  // (without its busy handler) while other processes open the same new file: retry briefly.
  base::Status last;
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(25 * attempt));
    auto db = Database::Open(path);
    if (!db.ok()) {
      last = db.status();
    } else {
      std::unique_ptr<Store> store(new Store(std::move(*db)));
      last = store->Migrate();
      if (last.ok()) return store;
    }
    if (last.message().find("locked") == std::string::npos &&
        last.message().find("busy") == std::string::npos) {
      break;
    }
  }
  return last;
}

base::Status Store::Migrate() {
  return db_->Transaction([&]() -> base::Status {
    auto v = db_->Prepare("PRAGMA user_version");
    if (!v.ok()) return v.status();
    auto row = v->Step();
    if (!row.ok()) return row.status();
    int64_t version = v->Int(0);
    constexpr int64_t kLatest = std::size(kMigrations);
    if (version > kLatest) {
      return base::Status(base::ErrorKind::kUnsupported,
                          "kiln.db has schema version " + std::to_string(version) +
                              ", newer than this kiln (" + std::to_string(kLatest) + ")");
    }
    for (int64_t i = version; i < kLatest; ++i) {
      if (auto st = db_->Exec(kMigrations[i]); !st.ok()) return st;
    }
    return db_->Exec("PRAGMA user_version = " + std::to_string(kLatest));
  });
}

base::Result<int64_t> Store::SavePipeline(const std::string& name, const std::string& def) {
  int64_t version = 0;
  auto st = db_->Transaction([&]() -> base::Status {
    auto q = db_->Prepare(
        "SELECT version, definition FROM pipelines WHERE name = ? ORDER BY version DESC LIMIT 1");
    if (!q.ok()) return q.status();
    q->Bind(1, name);
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (*row && q->Text(1) == def) {
      version = q->Int(0);
      return base::Status::Ok();
    }
    version = *row ? q->Int(0) + 1 : 1;
    auto ins = db_->Prepare("INSERT INTO pipelines VALUES (?, ?, ?, ?)");
    if (!ins.ok()) return ins.status();
    return ins->Bind(1, name).Bind(2, version).Bind(3, def).Bind(4, base::NowMillis()).Run();
  });
  if (!st.ok()) return st;
  return version;
}

base::Result<std::optional<Store::PipelineVersion>> Store::GetPipeline(const std::string& name,
                                                                       int64_t version) {
  auto q =
      db_->Prepare(version > 0 ? "SELECT version, definition FROM pipelines WHERE name = ?1 AND "
                                 "version = ?2"
                               : "SELECT version, definition FROM pipelines WHERE name = ?1 "
                                 "ORDER BY version DESC LIMIT 1");
  if (!q.ok()) return q.status();
  q->Bind(1, name);
  if (version > 0) q->Bind(2, version);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<PipelineVersion>();
  return std::optional<PipelineVersion>(PipelineVersion{q->Int(0), q->Text(1)});
}

base::Result<std::vector<std::string>> Store::ListPipelines() {
  auto q = db_->Prepare("SELECT DISTINCT name FROM pipelines ORDER BY name");
  if (!q.ok()) return q.status();
  return Collect<std::string>(*q, [](const Statement& s) { return s.Text(0); });
}

base::Status Store::InsertExecution(ExecutionRow* r) {
  auto q = db_->Prepare(
      "INSERT INTO executions (id, pipeline, pipeline_version, status, summary, trigger_type, "
      "trigger_detail, execution_mode, start_ms, end_ms, variables_json, source_revisions_json, "
      "owner_pid, owner_token) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!q.ok()) return q.status();
  q->Bind(1, r->id).Bind(2, r->pipeline).Bind(3, r->pipeline_version).Bind(4, r->status);
  q->Bind(5, r->summary).Bind(6, r->trigger_type).Bind(7, r->trigger_detail);
  q->Bind(8, r->execution_mode).Bind(9, r->start_ms).Bind(10, r->end_ms);
  q->Bind(11, r->variables_json).Bind(12, r->source_revisions_json).Bind(13, r->owner_pid);
  q->Bind(14, r->owner_token);
  if (auto st = q->Run(); !st.ok()) return st;
  auto seq = db_->Prepare("SELECT seq FROM executions WHERE id = ?");
  if (!seq.ok()) return seq.status();
  seq->Bind(1, r->id);
  auto row = seq->Step();
  if (!row.ok()) return row.status();
  r->seq = seq->Int(0);
  return base::Status::Ok();
}

base::Result<std::optional<ExecutionRow>> Store::GetExecution(const std::string& id) {
  auto q =
      db_->Prepare(std::string("SELECT ") + kExecutionColumns + " FROM executions WHERE id = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<ExecutionRow>();
  return std::optional<ExecutionRow>(ReadExecution(*q));
}

base::Result<std::vector<ExecutionRow>> Store::ListExecutions(const std::string& pipeline,
                                                              int limit) {
  auto q = db_->Prepare(std::string("SELECT ") + kExecutionColumns +
                        " FROM executions WHERE ?1 = '' OR pipeline = ?1 ORDER BY seq DESC "
                        "LIMIT ?2");
  if (!q.ok()) return q.status();
  q->Bind(1, pipeline).Bind(2, int64_t{limit});
  return Collect<ExecutionRow>(*q, ReadExecution);
}

base::Result<std::vector<ExecutionRow>> Store::ActiveExecutions(const std::string& pipeline) {
  auto q = db_->Prepare(std::string("SELECT ") + kExecutionColumns +
                        " FROM executions WHERE (?1 = '' OR pipeline = ?1) AND status IN "
                        "('InProgress', 'Stopping') ORDER BY seq");
  if (!q.ok()) return q.status();
  q->Bind(1, pipeline);
  return Collect<ExecutionRow>(*q, ReadExecution);
}

base::Status Store::SetExecutionStatus(const std::string& id, const std::string& status,
                                       const std::string& summary, int64_t end_ms) {
  auto q = db_->Prepare("UPDATE executions SET status = ?, summary = ?, end_ms = ? WHERE id = ?");
  if (!q.ok()) return q.status();
  return q->Bind(1, status).Bind(2, summary).Bind(3, end_ms).Bind(4, id).Run();
}

base::Status Store::SetExecutionVariables(const std::string& id, const std::string& vars,
                                          const std::string& revisions) {
  auto q = db_->Prepare(
      "UPDATE executions SET variables_json = ?, source_revisions_json = ? WHERE id = ?");
  if (!q.ok()) return q.status();
  return q->Bind(1, vars).Bind(2, revisions).Bind(3, id).Run();
}

base::Status Store::SetOwner(const std::string& id, int64_t pid, const std::string& token) {
  auto q = db_->Prepare("UPDATE executions SET owner_pid = ?, owner_token = ? WHERE id = ?");
  if (!q.ok()) return q.status();
  return q->Bind(1, pid).Bind(2, token).Bind(3, id).Run();
}

base::Status Store::SetStopRequest(const std::string& id, const std::string& mode) {
  auto q = db_->Prepare("UPDATE executions SET stop_request = ? WHERE id = ?");
  if (!q.ok()) return q.status();
  return q->Bind(1, mode).Bind(2, id).Run();
}

base::Status Store::SetWaitingStage(const std::string& id, const std::string& stage) {
  auto q = db_->Prepare("UPDATE executions SET waiting_stage = ? WHERE id = ?");
  if (!q.ok()) return q.status();
  return q->Bind(1, stage).Bind(2, id).Run();
}

base::Status Store::PutStage(const StageRow& r) {
  auto q = db_->Prepare("INSERT OR REPLACE INTO stage_executions VALUES (?,?,?,?,?,?,?)");
  if (!q.ok()) return q.status();
  q->Bind(1, r.execution_id).Bind(2, r.stage).Bind(3, int64_t{r.position}).Bind(4, r.status);
  return q->Bind(5, r.start_ms).Bind(6, r.end_ms).Bind(7, int64_t{r.attempt}).Run();
}

base::Result<std::vector<StageRow>> Store::Stages(const std::string& execution_id) {
  auto q = db_->Prepare(
      "SELECT execution_id, stage, position, status, start_ms, end_ms, attempt FROM "
      "stage_executions WHERE execution_id = ? ORDER BY position");
  if (!q.ok()) return q.status();
  q->Bind(1, execution_id);
  return Collect<StageRow>(*q, [](const Statement& s) {
    return StageRow{s.Text(0), s.Text(1), static_cast<int>(s.Int(2)), s.Text(3),
                    s.Int(4),  s.Int(5),  static_cast<int>(s.Int(6))};
  });
}

base::Status Store::PutArtifact(const ArtifactRow& r) {
  auto q = db_->Prepare("INSERT OR REPLACE INTO artifacts VALUES (?,?,?,?)");
  if (!q.ok()) return q.status();
  return q->Bind(1, r.execution_id).Bind(2, r.name).Bind(3, r.sha256).Bind(4, r.size).Run();
}

base::Result<std::vector<ArtifactRow>> Store::Artifacts(const std::string& execution_id) {
  auto q = db_->Prepare(
      "SELECT execution_id, name, sha256, size FROM artifacts WHERE execution_id = ? "
      "ORDER BY name");
  if (!q.ok()) return q.status();
  q->Bind(1, execution_id);
  return Collect<ArtifactRow>(*q, [](const Statement& s) {
    return ArtifactRow{s.Text(0), s.Text(1), s.Text(2), s.Int(3)};
  });
}

base::Status Store::PutBuild(const BuildRow& r) {
  auto q = db_->Prepare("INSERT OR REPLACE INTO builds VALUES (?,?,?,?,?,?,?,?,?)");
  if (!q.ok()) return q.status();
  q->Bind(1, r.id).Bind(2, r.project).Bind(3, r.number).Bind(4, r.status).Bind(5, r.execution_id);
  return q->Bind(6, r.record_json).Bind(7, r.log_path).Bind(8, r.start_ms).Bind(9, r.end_ms).Run();
}

base::Result<std::optional<BuildRow>> Store::GetBuild(const std::string& id) {
  auto q = db_->Prepare(
      "SELECT id, project, number, status, execution_id, record_json, log_path, start_ms, "
      "end_ms FROM builds WHERE id = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<BuildRow>();
  return std::optional<BuildRow>(BuildRow{q->Text(0), q->Text(1), q->Int(2), q->Text(3), q->Text(4),
                                          q->Text(5), q->Text(6), q->Int(7), q->Int(8)});
}

base::Result<bool> Store::TryLockStage(const std::string& pipeline, const std::string& stage,
                                       const std::string& execution_id) {
  bool locked = false;
  auto st = db_->Transaction([&]() -> base::Status {
    auto q = db_->Prepare(
        "INSERT INTO stage_locks VALUES (?1, ?2, ?3) ON CONFLICT (pipeline, stage) DO UPDATE "
        "SET execution_id = execution_id WHERE execution_id = ?3");
    if (!q.ok()) return q.status();
    if (auto s = q->Bind(1, pipeline).Bind(2, stage).Bind(3, execution_id).Run(); !s.ok()) {
      return s;
    }
    locked = db_->Changes() > 0;
    return base::Status::Ok();
  });
  if (!st.ok()) return st;
  return locked;
}

base::Status Store::UnlockStage(const std::string& pipeline, const std::string& stage,
                                const std::string& execution_id) {
  auto q =
      db_->Prepare("DELETE FROM stage_locks WHERE pipeline = ? AND stage = ? AND execution_id = ?");
  if (!q.ok()) return q.status();
  return q->Bind(1, pipeline).Bind(2, stage).Bind(3, execution_id).Run();
}

base::Status Store::UnlockAll(const std::string& execution_id) {
  auto q = db_->Prepare("DELETE FROM stage_locks WHERE execution_id = ?");
  if (!q.ok()) return q.status();
  return q->Bind(1, execution_id).Run();
}

base::Result<std::string> Store::StageHolder(const std::string& pipeline,
                                             const std::string& stage) {
  auto q = db_->Prepare("SELECT execution_id FROM stage_locks WHERE pipeline = ? AND stage = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, pipeline).Bind(2, stage);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  return *row ? q->Text(0) : std::string();
}

}  // namespace kiln::store

namespace kiln::store {

base::Result<std::vector<ExecutionRow>> Store::QueuedExecutions() {
  auto q = db_->Prepare(std::string("SELECT ") + kExecutionColumns +
                        " FROM executions WHERE status = 'Queued' ORDER BY seq");
  if (!q.ok()) return q.status();
  return Collect<ExecutionRow>(*q, ReadExecution);
}

}  // namespace kiln::store
