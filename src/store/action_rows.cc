// Action executions: one row per (execution, stage, action), the latest attempt's; a Manual
// approval's decision and token live in it.
#include "store/store.h"

namespace kiln::store {
namespace {

constexpr char kActionColumns[] =
    "execution_id, stage, action, run_order, status, summary, external_id, "
    "output_variables_json, start_ms, end_ms, attempt, approval, approval_summary, token";

ActionRow ReadAction(const Statement& s) {
  return {.execution_id = s.Text(0),
          .stage = s.Text(1),
          .action = s.Text(2),
          .run_order = static_cast<int>(s.Int(3)),
          .status = s.Text(4),
          .summary = s.Text(5),
          .external_id = s.Text(6),
          .output_variables_json = s.Text(7),
          .start_ms = s.Int(8),
          .end_ms = s.Int(9),
          .attempt = static_cast<int>(s.Int(10)),
          .approval = s.Text(11),
          .approval_summary = s.Text(12),
          .token = s.Text(13)};
}

// The token of the approval waiting in that action; nullopt when none waits there.
base::Result<std::optional<std::string>> WaitingToken(Database& db, const std::string& execution_id,
                                                      const std::string& stage,
                                                      const std::string& action) {
  auto q = db.Prepare(
      "SELECT token FROM action_executions WHERE execution_id = ? AND stage = ? AND action = ? "
      "AND status = 'InProgress' AND approval = ''");
  if (!q.ok()) return q.status();
  q->Bind(1, execution_id).Bind(2, stage).Bind(3, action);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(q->Text(0));
}

}  // namespace

base::Status Store::PutAction(const ActionRow& r) {
  // The approval columns belong to whoever decides; a runner's update keeps them. The token
  // is made when the approval starts waiting: an update of the same attempt without one
  // keeps it.
  auto q = db_->Prepare(std::string("INSERT INTO action_executions (") + kActionColumns +
                        ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14) "
                        "ON CONFLICT (execution_id, stage, action) DO UPDATE SET run_order = ?4, "
                        "status = ?5, summary = ?6, external_id = ?7, "
                        "output_variables_json = ?8, start_ms = ?9, end_ms = ?10, attempt = ?11, "
                        "approval = CASE WHEN ?11 = attempt THEN approval ELSE ?12 END, "
                        "approval_summary = CASE WHEN ?11 = attempt THEN approval_summary "
                        "ELSE ?13 END, "
                        "token = CASE WHEN ?11 = attempt AND ?14 = '' THEN token ELSE ?14 END");
  if (!q.ok()) return q.status();
  q->Bind(1, r.execution_id).Bind(2, r.stage).Bind(3, r.action).Bind(4, int64_t{r.run_order});
  q->Bind(5, r.status).Bind(6, r.summary).Bind(7, r.external_id).Bind(8, r.output_variables_json);
  q->Bind(9, r.start_ms).Bind(10, r.end_ms).Bind(11, int64_t{r.attempt}).Bind(12, r.approval);
  return q->Bind(13, r.approval_summary).Bind(14, r.token).Run();
}

base::Result<std::vector<ActionRow>> Store::Actions(const std::string& execution_id) {
  auto q = db_->Prepare(std::string("SELECT ") + kActionColumns +
                        " FROM action_executions WHERE execution_id = ? ORDER BY rowid");
  if (!q.ok()) return q.status();
  q->Bind(1, execution_id);
  return Collect<ActionRow>(*q, ReadAction);
}

base::Status Store::SetActionExternalId(const std::string& execution_id, const std::string& stage,
                                        const std::string& action, const std::string& external_id) {
  auto q = db_->Prepare(
      "UPDATE action_executions SET external_id = ? WHERE execution_id = ? AND stage = ? AND "
      "action = ?");
  if (!q.ok()) return q.status();
  return q->Bind(1, external_id).Bind(2, execution_id).Bind(3, stage).Bind(4, action).Run();
}

base::Status Store::DecideApproval(const std::string& execution_id, const std::string& stage,
                                   const std::string& action, const std::string& result,
                                   const std::string& summary, const std::string& token) {
  return db_->Transaction([&]() -> base::Status {
    auto waiting = WaitingToken(*db_, execution_id, stage, action);
    if (!waiting.ok()) return waiting.status();
    std::string which = "action " + stage + "/" + action + " of execution " + execution_id;
    if (!*waiting) {
      return base::Status(base::ErrorKind::kFailed, which + " is not waiting for approval");
    }
    if (!token.empty() && token != **waiting) {
      // CodePipeline: InvalidApprovalTokenException.
      return base::InvalidInput("approval token '" + token + "' is not the token of " + which);
    }
    auto q = db_->Prepare(
        "UPDATE action_executions SET approval = ?, approval_summary = ? WHERE execution_id = ? "
        "AND stage = ? AND action = ?");
    if (!q.ok()) return q.status();
    q->Bind(1, result).Bind(2, summary).Bind(3, execution_id).Bind(4, stage).Bind(5, action);
    return q->Run();
  });
}

}  // namespace kiln::store
