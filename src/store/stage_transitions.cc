// Stage transitions: whether a stage's inbound transition is enabled (CodePipeline:
// DisableStageTransition / EnableStageTransition), one row per (pipeline, stage) changed.
#include "base/ids.h"
#include "store/store.h"

namespace kiln::store {

base::Status Store::SetTransition(const std::string& pipeline, const std::string& stage,
                                  bool enabled, const std::string& reason) {
  auto q = db_->Prepare(
      "INSERT OR REPLACE INTO stage_transitions (pipeline, stage, disabled, reason, changed_ms) "
      "VALUES (?, ?, ?, ?, ?)");
  if (!q.ok()) return q.status();
  q->Bind(1, pipeline).Bind(2, stage).Bind(3, int64_t{enabled ? 0 : 1});
  return q->Bind(4, enabled ? std::string() : reason).Bind(5, base::NowMillis()).Run();
}

base::Result<std::vector<TransitionRow>> Store::Transitions(const std::string& pipeline) {
  auto q = db_->Prepare(
      "SELECT pipeline, stage, disabled, reason, changed_ms FROM stage_transitions "
      "WHERE pipeline = ? ORDER BY stage");
  if (!q.ok()) return q.status();
  q->Bind(1, pipeline);
  return Collect<TransitionRow>(*q, [](const Statement& s) {
    return TransitionRow{.pipeline = s.Text(0),
                         .stage = s.Text(1),
                         .disabled = s.Int(2) != 0,
                         .reason = s.Text(3),
                         .changed_ms = s.Int(4)};
  });
}

base::Result<bool> Store::TransitionEnabled(const std::string& pipeline, const std::string& stage) {
  auto q = db_->Prepare("SELECT disabled FROM stage_transitions WHERE pipeline = ? AND stage = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, pipeline).Bind(2, stage);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  return !*row || q->Int(0) == 0;
}

}  // namespace kiln::store
