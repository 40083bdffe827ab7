#include "store/service_store.h"

#include "base/ids.h"

namespace kiln::store {
namespace {

constexpr char kDeploymentColumns[] =
    "id, service, revision, status, rollout_state, reason, desired_count, failed_tasks, "
    "created_ms, updated_ms";

DeploymentRow ReadDeployment(const Statement& s) {
  return {.id = s.Text(0),
          .service = s.Text(1),
          .revision = s.Int(2),
          .status = s.Text(3),
          .rollout_state = s.Text(4),
          .reason = s.Text(5),
          .desired_count = s.Int(6),
          .failed_tasks = s.Int(7),
          .created_ms = s.Int(8),
          .updated_ms = s.Int(9)};
}

TaskRow ReadTask(const Statement& s) {
  return {.id = s.Text(0),
          .service = s.Text(1),
          .revision = s.Int(2),
          .pid = s.Int(3),
          .pid_token = s.Text(4),
          .port = s.Int(5),
          .state = s.Text(6),
          .health = s.Text(7),
          .started_ms = s.Int(8),
          .stopped_ms = s.Int(9)};
}

}  // namespace

base::Result<int64_t> ServiceStore::AddRevision(const std::string& service,
                                                const std::string& definition) {
  int64_t number = 0;
  auto st = db_.Transaction([&]() -> base::Status {
    auto q =
        db_.Prepare("SELECT COALESCE(MAX(number), 0) FROM service_revisions WHERE service = ?");
    if (!q.ok()) return q.status();
    q->Bind(1, service);
    if (auto row = q->Step(); !row.ok()) return row.status();
    number = q->Int(0) + 1;
    auto ins = db_.Prepare("INSERT INTO service_revisions VALUES (?, ?, ?, ?)");
    if (!ins.ok()) return ins.status();
    ins->Bind(1, service).Bind(2, number).Bind(3, definition);
    return ins->Bind(4, base::NowMillis()).Run();
  });
  if (!st.ok()) return st;
  return number;
}

base::Result<std::optional<RevisionRow>> ServiceStore::GetRevision(const std::string& service,
                                                                   int64_t number) {
  auto q = db_.Prepare(
      "SELECT service, number, task_definition, created_ms FROM service_revisions WHERE "
      "service = ? AND number = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, service).Bind(2, number);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<RevisionRow>();
  return std::optional<RevisionRow>(RevisionRow{q->Text(0), q->Int(1), q->Text(2), q->Int(3)});
}

base::Status ServiceStore::PutDeployment(const DeploymentRow& r) {
  auto q = db_.Prepare("INSERT OR REPLACE INTO service_deployments VALUES (?,?,?,?,?,?,?,?,?,?)");
  if (!q.ok()) return q.status();
  q->Bind(1, r.id).Bind(2, r.service).Bind(3, r.revision).Bind(4, r.status);
  q->Bind(5, r.rollout_state).Bind(6, r.reason).Bind(7, r.desired_count).Bind(8, r.failed_tasks);
  return q->Bind(9, r.created_ms).Bind(10, r.updated_ms).Run();
}

base::Result<std::vector<DeploymentRow>> ServiceStore::Deployments(const std::string& service,
                                                                   int limit) {
  auto q = db_.Prepare(std::string("SELECT ") + kDeploymentColumns +
                       " FROM service_deployments WHERE service = ? ORDER BY created_ms DESC, "
                       "rowid DESC LIMIT ?");
  if (!q.ok()) return q.status();
  q->Bind(1, service).Bind(2, int64_t{limit});
  return Collect<DeploymentRow>(*q, ReadDeployment);
}

base::Result<std::optional<DeploymentRow>> ServiceStore::LastCompleted(const std::string& service,
                                                                       int64_t except) {
  auto q = db_.Prepare(std::string("SELECT ") + kDeploymentColumns +
                       " FROM service_deployments WHERE service = ? AND rollout_state = "
                       "'COMPLETED' AND revision != ? ORDER BY updated_ms DESC, rowid DESC "
                       "LIMIT 1");
  if (!q.ok()) return q.status();
  q->Bind(1, service).Bind(2, except);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<DeploymentRow>();
  return std::optional<DeploymentRow>(ReadDeployment(*q));
}

base::Status ServiceStore::PutTask(const TaskRow& r) {
  auto q = db_.Prepare("INSERT OR REPLACE INTO service_tasks VALUES (?,?,?,?,?,?,?,?,?,?)");
  if (!q.ok()) return q.status();
  q->Bind(1, r.id).Bind(2, r.service).Bind(3, r.revision).Bind(4, r.pid).Bind(5, r.pid_token);
  q->Bind(6, r.port).Bind(7, r.state).Bind(8, r.health).Bind(9, r.started_ms);
  return q->Bind(10, r.stopped_ms).Run();
}

base::Result<std::vector<TaskRow>> ServiceStore::LiveTasks(const std::string& service) {
  auto q = db_.Prepare(
      "SELECT id, service, revision, pid, pid_token, port, state, health, started_ms, "
      "stopped_ms FROM service_tasks WHERE service = ? AND state != 'STOPPED' ORDER BY "
      "started_ms, rowid");
  if (!q.ok()) return q.status();
  q->Bind(1, service);
  return Collect<TaskRow>(*q, ReadTask);
}

base::Result<std::vector<TaskRow>> ServiceStore::RecentTasks(const std::string& service,
                                                             int limit) {
  auto q = db_.Prepare(
      "SELECT id, service, revision, pid, pid_token, port, state, health, started_ms, "
      "stopped_ms FROM service_tasks WHERE service = ? ORDER BY started_ms DESC, rowid DESC "
      "LIMIT ?");
  if (!q.ok()) return q.status();
  q->Bind(1, service).Bind(2, int64_t(limit));
  return Collect<TaskRow>(*q, ReadTask);
}

base::Status ServiceStore::SetDesiredCount(const std::string& service, const DesiredCount& c) {
  auto q = db_.Prepare("INSERT OR REPLACE INTO service_settings VALUES (?, ?, ?)");
  if (!q.ok()) return q.status();
  return q->Bind(1, service).Bind(2, c.desired).Bind(3, c.config_desired).Run();
}

base::Result<std::optional<ServiceStore::DesiredCount>> ServiceStore::GetDesiredCount(
    const std::string& service) {
  auto q = db_.Prepare(
      "SELECT desired_count, config_desired_count FROM service_settings WHERE service = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, service);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<DesiredCount>();
  return std::optional<DesiredCount>(DesiredCount{q->Int(0), q->Int(1)});
}

base::Status ServiceStore::AddEvent(const std::string& service, int64_t at_ms,
                                    const std::string& message) {
  return db_.Transaction([&]() -> base::Status {
    auto q = db_.Prepare("INSERT INTO service_events (service, at_ms, message) VALUES (?, ?, ?)");
    if (!q.ok()) return q.status();
    if (auto st = q->Bind(1, service).Bind(2, at_ms).Bind(3, message).Run(); !st.ok()) return st;
    auto trim = db_.Prepare(
        "DELETE FROM service_events WHERE service = ?1 AND seq <= (SELECT seq FROM "
        "service_events WHERE service = ?1 ORDER BY seq DESC LIMIT 1 OFFSET 500)");
    if (!trim.ok()) return trim.status();
    return trim->Bind(1, service).Run();
  });
}

base::Result<std::vector<EventRow>> ServiceStore::Events(const std::string& service, int limit) {
  auto q = db_.Prepare(
      "SELECT seq, service, at_ms, message FROM service_events WHERE service = ? ORDER BY seq "
      "DESC LIMIT ?");
  if (!q.ok()) return q.status();
  q->Bind(1, service).Bind(2, int64_t{limit});
  return Collect<EventRow>(*q, [](const Statement& s) {
    return EventRow{s.Int(0), s.Text(1), s.Int(2), s.Text(3)};
  });
}

}  // namespace kiln::store
