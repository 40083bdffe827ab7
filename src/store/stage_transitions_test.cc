#include <gtest/gtest.h>

#include <filesystem>

#include "base/ids.h"
#include "base/test_tree.h"
#include "store/store.h"

namespace kiln::store {
namespace {

class StageTransitionsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open() {
    auto store = Store::Open((tree_ / "kiln.db").string());
    EXPECT_TRUE(store.ok()) << store.status().message();
    return store.ok() ? std::move(*store) : nullptr;
  }

  static bool Enabled(Store& store, const std::string& pipeline, const std::string& stage) {
    auto enabled = store.TransitionEnabled(pipeline, stage);
    EXPECT_TRUE(enabled.ok()) << enabled.status().message();
    return enabled.ok() && *enabled;
  }

  base::TestTree tree_;  // removed when the test ends
};

TEST_F(StageTransitionsTest, AStageNeverChangedIsEnabledAndHasNoRow) {
  auto store = Open();
  ASSERT_TRUE(store);
  EXPECT_TRUE(Enabled(*store, "app", "Build"));
  auto rows = store->Transitions("app");
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

TEST_F(StageTransitionsTest, DisablingHoldsOnlyThatStageOfThatPipeline) {
  auto store = Open();
  ASSERT_TRUE(store);
  int64_t before = base::NowMillis();
  ASSERT_TRUE(store->SetTransition("app", "Build", false, "freeze for the release").ok());
  EXPECT_FALSE(Enabled(*store, "app", "Build"));
  EXPECT_TRUE(Enabled(*store, "app", "Deploy"));
  EXPECT_TRUE(Enabled(*store, "other", "Build"));
  auto rows = store->Transitions("app");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().pipeline, "app");
  EXPECT_EQ(rows->front().stage, "Build");
  EXPECT_TRUE(rows->front().disabled);
  EXPECT_EQ(rows->front().reason, "freeze for the release");
  EXPECT_GE(rows->front().changed_ms, before);
  EXPECT_LE(rows->front().changed_ms, base::NowMillis());
}

TEST_F(StageTransitionsTest, EnablingAgainKeepsTheChangeTimeButNoReason) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->SetTransition("app", "Build", false, "hold").ok());
  ASSERT_TRUE(store->SetTransition("app", "Build", true, "ignored when enabling").ok());
  EXPECT_TRUE(Enabled(*store, "app", "Build"));
  auto rows = store->Transitions("app");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_FALSE(rows->front().disabled);
  EXPECT_EQ(rows->front().reason, "");
  EXPECT_GT(rows->front().changed_ms, 0);
}

// Another connection (another process: the CLI while the server runs) sees the change.
TEST_F(StageTransitionsTest, AChangeIsSeenByAnotherConnection) {
  auto writer = Open();
  auto reader = Open();
  ASSERT_TRUE(writer && reader);
  ASSERT_TRUE(writer->SetTransition("app", "Deploy", false, "hold").ok());
  EXPECT_FALSE(Enabled(*reader, "app", "Deploy"));
  ASSERT_TRUE(writer->SetTransition("app", "Deploy", true, "").ok());
  EXPECT_TRUE(Enabled(*reader, "app", "Deploy"));
}

// Migration 5 on a database of schema 4: the table is added, nothing else changes.
TEST_F(StageTransitionsTest, MigrationFromSchema4AddsTheTable) {
  {
    auto db = Database::Open((tree_ / "kiln.db").string());
    ASSERT_TRUE(db.ok()) << db.status().message();
    ASSERT_TRUE((*db)->Exec("CREATE TABLE keep (x INTEGER); PRAGMA user_version = 4;").ok());
  }
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->SetTransition("app", "Build", false, "hold").ok());
  EXPECT_FALSE(Enabled(*store, "app", "Build"));
}

}  // namespace
}  // namespace kiln::store
