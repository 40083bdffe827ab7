#include <gtest/gtest.h>

#include <filesystem>

#include "base/test_tree.h"
#include "store/store.h"

namespace kiln::store {
namespace {

class ActionRowsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open() {
    auto store = Store::Open((tree_ / "kiln.db").string());
    EXPECT_TRUE(store.ok()) << store.status().message();
    return store.ok() ? std::move(*store) : nullptr;
  }

  static ActionRow Waiting(const std::string& token, int attempt = 1) {
    return {.execution_id = "e1",
            .stage = "Gate",
            .action = "Approve",
            .status = "InProgress",
            .start_ms = 1,
            .attempt = attempt,
            .token = token};
  }

  static ActionRow Only(Store& store) {
    auto rows = store.Actions("e1");
    EXPECT_TRUE(rows.ok() && rows->size() == 1);
    return rows.ok() && rows->size() == 1 ? rows->front() : ActionRow{};
  }

  base::TestTree tree_;  // removed when the test ends
};

// An action row as schema 3 (before migration 4) held it, with the schema version.
constexpr char kSchema3Actions[] = R"SQL(
CREATE TABLE action_executions (
  execution_id TEXT NOT NULL, stage TEXT NOT NULL, action TEXT NOT NULL,
  run_order INTEGER NOT NULL, status TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '',
  external_id TEXT NOT NULL DEFAULT '', output_variables_json TEXT NOT NULL DEFAULT '{}',
  start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL DEFAULT 0,
  attempt INTEGER NOT NULL DEFAULT 1, approval TEXT NOT NULL DEFAULT '',
  approval_summary TEXT NOT NULL DEFAULT '', PRIMARY KEY (execution_id, stage, action));
INSERT INTO action_executions (execution_id, stage, action, run_order, status, start_ms)
  VALUES ('e1', 'Gate', 'Approve', 1, 'InProgress', 1);
PRAGMA user_version = 3;
)SQL";

// Migration 4 adds the token to a database of schema 3 that already holds action rows.
TEST_F(ActionRowsTest, MigrationAddsAnEmptyTokenToExistingRows) {
  {
    auto db = Database::Open((tree_ / "kiln.db").string());
    ASSERT_TRUE(db.ok()) << db.status().message();
    ASSERT_TRUE((*db)->Exec(kSchema3Actions).ok());
  }
  auto store = Open();
  ASSERT_TRUE(store);
  ActionRow row = Only(*store);
  EXPECT_EQ(row.status, "InProgress");
  EXPECT_EQ(row.token, "");
  // A waiting approval from before the migration has no token: only a decision without one
  // matches it.
  EXPECT_EQ(store->DecideApproval("e1", "Gate", "Approve", "Approved", "", "t").kind(),
            base::ErrorKind::kInvalidInput);
  EXPECT_TRUE(store->DecideApproval("e1", "Gate", "Approve", "Approved", "", "").ok());
}

TEST_F(ActionRowsTest, AnUpdateOfTheSameAttemptWithoutATokenKeepsIt) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->PutAction(Waiting("tok-1")).ok());
  ActionRow ended = Waiting("");
  ended.status = "Succeeded";
  ASSERT_TRUE(store->PutAction(ended).ok());
  EXPECT_EQ(Only(*store).token, "tok-1");
  ASSERT_TRUE(store->PutAction(Waiting("tok-2", 2)).ok());  // a retry waits anew
  EXPECT_EQ(Only(*store).token, "tok-2");
  ASSERT_TRUE(store->PutAction(Waiting("", 3)).ok());  // another attempt, no token: none
  EXPECT_EQ(Only(*store).token, "");
}

TEST_F(ActionRowsTest, AWrongTokenIsRefusedAndDecidesNothing) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->PutAction(Waiting("tok-1")).ok());
  auto st = store->DecideApproval("e1", "Gate", "Approve", "Approved", "ok", "tok-0");
  EXPECT_EQ(st.kind(), base::ErrorKind::kInvalidInput);
  EXPECT_NE(st.message().find("approval token 'tok-0'"), std::string::npos) << st.message();
  EXPECT_EQ(Only(*store).approval, "");
  ASSERT_TRUE(store->DecideApproval("e1", "Gate", "Approve", "Rejected", "no", "tok-1").ok());
  EXPECT_EQ(Only(*store).approval, "Rejected");
  EXPECT_EQ(Only(*store).approval_summary, "no");
}

TEST_F(ActionRowsTest, NoTokenGivenIsNotChecked) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->PutAction(Waiting("tok-1")).ok());
  ASSERT_TRUE(store->DecideApproval("e1", "Gate", "Approve", "Approved", "", "").ok());
  EXPECT_EQ(Only(*store).approval, "Approved");
}

// Not waiting beats a wrong token: the caller learns the approval is gone, not that its token
// is stale.
TEST_F(ActionRowsTest, ADecidedOrUnknownApprovalIsNotWaiting) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->PutAction(Waiting("tok-1")).ok());
  ASSERT_TRUE(store->DecideApproval("e1", "Gate", "Approve", "Approved", "", "tok-1").ok());
  auto again = store->DecideApproval("e1", "Gate", "Approve", "Rejected", "", "tok-9");
  EXPECT_EQ(again.kind(), base::ErrorKind::kFailed);
  EXPECT_NE(again.message().find("not waiting for approval"), std::string::npos);
  EXPECT_EQ(store->DecideApproval("e1", "Gate", "Other", "Approved", "", "").kind(),
            base::ErrorKind::kFailed);
  EXPECT_EQ(Only(*store).approval, "Approved");
}

}  // namespace
}  // namespace kiln::store
