// The server's durable intake: deliveries, queued executions and queued builds.
#include "store/store.h"

namespace kiln::store {
namespace {

BuildRow ReadBuild(const Statement& s) {
  return BuildRow{s.Text(0), s.Text(1), s.Int(2), s.Text(3), s.Text(4),
                  s.Text(5), s.Text(6), s.Int(7), s.Int(8)};
}

constexpr char kBuildColumns[] =
    "SELECT id, project, number, status, execution_id, record_json, log_path, start_ms, end_ms "
    "FROM builds ";

// A failed build's record_json with ?2 as its statusReason: the record kept if it is a JSON
// object (with the id and project it may lack, as the API shows only records with an id),
// else a minimal one; never an SQL error, whatever the row holds (json_type is given valid
// JSON only, and CASE evaluates one branch).
constexpr char kFailedRecord[] =
    "record_json = CASE WHEN json_type(CASE WHEN json_valid(record_json) THEN record_json "
    "ELSE '0' END) = 'object' THEN json_insert(json_set(record_json, '$.buildStatus', "
    "'FAILED', '$.statusReason', ?2), '$.id', id, '$.projectName', project) ELSE "
    "json_object('id', id, 'projectName', project, 'buildStatus', 'FAILED', 'statusReason', "
    "?2) END";

}  // namespace

base::Result<IntakeResult> Store::Accept(const DeliveryRow& d,
                                         const std::vector<QueuedExecution>& executions,
                                         const std::vector<BuildRow>& builds) {
  IntakeResult result;
  auto st = db_->Transaction([&]() -> base::Status {
    if (!d.id.empty()) {
      auto q = db_->Prepare("INSERT OR IGNORE INTO deliveries VALUES (?,?,?,?,?,?)");
      if (!q.ok()) return q.status();
      q->Bind(1, d.id).Bind(2, d.connection).Bind(3, d.event).Bind(4, d.received_ms);
      if (auto s = q->Bind(5, d.outcome).Bind(6, d.detail).Run(); !s.ok()) return s;
      if (db_->Changes() == 0) {
        result.duplicate = true;
        return base::Status::Ok();
      }
    }
    for (const auto& e : executions) {
      if (!e.revision.empty()) {
        auto q = db_->Prepare("INSERT OR IGNORE INTO trigger_starts VALUES (?,?,?)");
        if (!q.ok()) return q.status();
        q->Bind(1, e.row.pipeline).Bind(2, e.revision).Bind(3, e.row.id);
        if (auto s = q->Run(); !s.ok()) return s;
        if (db_->Changes() == 0) {
          result.already.push_back(e.row.pipeline + "@" + e.revision);
          continue;
        }
      }
      ExecutionRow row = e.row;
      if (auto s = InsertExecution(&row); !s.ok()) return s;
      auto q = db_->Prepare("UPDATE executions SET start_json = ? WHERE id = ?");
      if (!q.ok()) return q.status();
      if (auto s = q->Bind(1, e.start_json).Bind(2, row.id).Run(); !s.ok()) return s;
      result.executions.push_back(row.id);
    }
    for (const auto& b : builds) {
      if (auto s = PutBuild(b); !s.ok()) return s;
      result.builds.push_back(b.id);
    }
    if (!d.id.empty() && d.outcome == "started" && result.executions.empty() &&
        result.builds.empty()) {
      auto q = db_->Prepare("UPDATE deliveries SET outcome = 'already_started' WHERE id = ?");
      if (!q.ok()) return q.status();
      return q->Bind(1, d.id).Run();
    }
    return base::Status::Ok();
  });
  if (!st.ok()) return st;
  return result;
}

base::Result<std::string> Store::StartJson(const std::string& execution_id) {
  auto q = db_->Prepare("SELECT start_json FROM executions WHERE id = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, execution_id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return base::NotFound("no execution " + execution_id);
  return q->Text(0);
}

base::Result<bool> Store::ClaimQueued(const std::string& id, int64_t pid,
                                      const std::string& token) {
  auto q = db_->Prepare(
      "UPDATE executions SET status = 'InProgress', owner_pid = ?, owner_token = ? "
      "WHERE id = ? AND status = 'Queued'");
  if (!q.ok()) return q.status();
  if (auto s = q->Bind(1, pid).Bind(2, token).Bind(3, id).Run(); !s.ok()) return s;
  return db_->Changes() > 0;
}

base::Result<std::vector<BuildRow>> Store::QueuedBuilds() {
  auto q =
      db_->Prepare(std::string(kBuildColumns) + "WHERE status = 'QUEUED' ORDER BY start_ms, rowid");
  if (!q.ok()) return q.status();
  return Collect<BuildRow>(*q, ReadBuild);
}

base::Result<std::vector<BuildRow>> Store::ListBuilds(const std::string& project, int limit) {
  auto q = db_->Prepare(std::string(kBuildColumns) +
                        "WHERE (?1 = '' OR project = ?1) ORDER BY start_ms DESC, rowid DESC "
                        "LIMIT ?2");
  if (!q.ok()) return q.status();
  q->Bind(1, project).Bind(2, static_cast<int64_t>(limit));
  return Collect<BuildRow>(*q, ReadBuild);
}

base::Result<int> Store::FailUnfinishedBuilds(int64_t end_ms, const std::string& reason) {
  auto q = db_->Prepare(std::string("UPDATE builds SET status = 'FAILED', end_ms = ?1, ") +
                        kFailedRecord +
                        " WHERE status = 'IN_PROGRESS' AND "
                        "(execution_id = '' OR execution_id NOT IN "
                        "(SELECT id FROM executions WHERE status IN ('InProgress', 'Stopping')))");
  if (!q.ok()) return q.status();
  if (auto s = q->Bind(1, end_ms).Bind(2, reason).Run(); !s.ok()) return s;
  return static_cast<int>(db_->Changes());
}

base::Result<int> Store::FailUnknownStatuses(int64_t end_ms) {
  int count = 0;
  auto st = db_->Transaction([&]() -> base::Status {
    auto b = db_->Prepare(
        std::string("UPDATE builds SET status = 'FAILED', end_ms = ?1, ") + kFailedRecord +
        " WHERE status NOT IN ('QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'FAULT', "
        "'TIMED_OUT', 'STOPPED')");
    if (!b.ok()) return b.status();
    b->Bind(1, end_ms).Bind(2, std::string("the stored build status is not a CodeBuild status"));
    if (auto s = b->Run(); !s.ok()) return s;
    count += static_cast<int>(db_->Changes());
    auto e = db_->Prepare(
        "UPDATE executions SET status = 'Failed', end_ms = ?1, summary = 'the stored status ''' "
        "|| substr(status, 1, 100) || ''' is not an execution status' WHERE status NOT IN "
        "('Queued', 'InProgress', 'Stopping', 'Stopped', 'Succeeded', 'Failed', 'Superseded', "
        "'Cancelled')");
    if (!e.ok()) return e.status();
    if (auto s = e->Bind(1, end_ms).Run(); !s.ok()) return s;
    count += static_cast<int>(db_->Changes());
    return base::Status::Ok();
  });
  if (!st.ok()) return st;
  return count;
}

}  // namespace kiln::store
