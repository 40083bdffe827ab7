// Action executions: one row per (execution, stage, action), the latest attempt's; a Manual
// approval's decision and token live in it.
#include "store/store.h"

namespace kiln::store {

base::Status Store::PutAction(const ActionRow& r) {
  // The approval columns belong to whoever decides; a runner's update keeps them.
  auto q = db_->Prepare(
      "INSERT INTO action_executions VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13) "
      "ON CONFLICT (execution_id, stage, action) DO UPDATE SET run_order = ?4, status = ?5, "
      "summary = ?6, external_id = ?7, output_variables_json = ?8, start_ms = ?9, "
      "end_ms = ?10, attempt = ?11, "
      "approval = CASE WHEN ?11 = attempt THEN approval ELSE ?12 END, "
      "approval_summary = CASE WHEN ?11 = attempt THEN approval_summary ELSE ?13 END");
  if (!q.ok()) return q.status();
  q->Bind(1, r.execution_id).Bind(2, r.stage).Bind(3, r.action).Bind(4, int64_t{r.run_order});
  q->Bind(5, r.status).Bind(6, r.summary).Bind(7, r.external_id).Bind(8, r.output_variables_json);
  q->Bind(9, r.start_ms).Bind(10, r.end_ms).Bind(11, int64_t{r.attempt}).Bind(12, r.approval);
  return q->Bind(13, r.approval_summary).Run();
}

base::Result<std::vector<ActionRow>> Store::Actions(const std::string& execution_id) {
  auto q = db_->Prepare(
      "SELECT execution_id, stage, action, run_order, status, summary, external_id, "
      "output_variables_json, start_ms, end_ms, attempt, approval, approval_summary FROM "
      "action_executions WHERE execution_id = ? ORDER BY rowid");
  if (!q.ok()) return q.status();
  q->Bind(1, execution_id);
  return Collect<ActionRow>(*q, [](const Statement& s) {
    return ActionRow{s.Text(0),
                     s.Text(1),
                     s.Text(2),
                     static_cast<int>(s.Int(3)),
                     s.Text(4),
                     s.Text(5),
                     s.Text(6),
                     s.Text(7),
                     s.Int(8),
                     s.Int(9),
                     static_cast<int>(s.Int(10)),
                     s.Text(11),
                     s.Text(12)};
  });
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
                                   const std::string& summary) {
  auto q = db_->Prepare(
      "UPDATE action_executions SET approval = ?, approval_summary = ? WHERE execution_id = ? "
      "AND stage = ? AND action = ? AND status = 'InProgress' AND approval = ''");
  if (!q.ok()) return q.status();
  auto st = q->Bind(1, result)
                .Bind(2, summary)
                .Bind(3, execution_id)
                .Bind(4, stage)
                .Bind(5, action)
                .Run();
  if (!st.ok()) return st;
  if (db_->Changes() == 0) {
    return base::Status(base::ErrorKind::kFailed, "action " + stage + "/" + action +
                                                      " of execution " + execution_id +
                                                      " is not waiting for approval");
  }
  return base::Status::Ok();
}

}  // namespace kiln::store
