#include "store/service_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/store.h"

namespace kiln::store {
namespace {

namespace fs = std::filesystem;

class ServiceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln-service-store-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto store = Store::Open((dir_ / "kiln.db").string());
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    services_ = std::make_unique<ServiceStore>(store_->db());
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ServiceStore> services_;
};

TEST_F(ServiceStoreTest, RevisionsAreNumberedPerService) {
  EXPECT_EQ(*services_->AddRevision("web", "{\"a\":1}"), 1);
  EXPECT_EQ(*services_->AddRevision("web", "{\"a\":2}"), 2);
  EXPECT_EQ(*services_->AddRevision("api", "{}"), 1);
  auto two = services_->GetRevision("web", 2);
  ASSERT_TRUE(two.ok() && *two);
  EXPECT_EQ((*two)->task_definition, "{\"a\":2}");
  EXPECT_FALSE(*services_->GetRevision("web", 3));
}

TEST_F(ServiceStoreTest, LastCompletedSkipsTheFailedRevision) {
  DeploymentRow d{.id = "d1",
                  .service = "web",
                  .revision = 1,
                  .status = "INACTIVE",
                  .rollout_state = "COMPLETED",
                  .desired_count = 2,
                  .created_ms = 1,
                  .updated_ms = 1};
  ASSERT_TRUE(services_->PutDeployment(d).ok());
  d = {.id = "d2",
       .service = "web",
       .revision = 2,
       .status = "PRIMARY",
       .rollout_state = "FAILED",
       .desired_count = 2,
       .created_ms = 2,
       .updated_ms = 2};
  ASSERT_TRUE(services_->PutDeployment(d).ok());
  auto last = services_->LastCompleted("web", 2);
  ASSERT_TRUE(last.ok() && *last);
  EXPECT_EQ((*last)->revision, 1);
  EXPECT_EQ((*services_->Deployments("web")).front().id, "d2");  // newest first
}

TEST_F(ServiceStoreTest, LiveTasksLeaveOutStoppedOnes) {
  TaskRow t{.id = "t1",
            .service = "web",
            .revision = 1,
            .pid = 10,
            .pid_token = "b:1",
            .port = 5000,
            .state = "RUNNING",
            .health = "HEALTHY",
            .started_ms = 1};
  ASSERT_TRUE(services_->PutTask(t).ok());
  t.id = "t2";
  t.state = "STOPPED";
  ASSERT_TRUE(services_->PutTask(t).ok());
  auto live = services_->LiveTasks("web");
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].pid_token, "b:1");
}

TEST_F(ServiceStoreTest, RecentTasksAreNewestFirstInAnyStateAndBounded) {
  for (int i = 1; i <= 4; ++i) {
    TaskRow t{.id = "t" + std::to_string(i),
              .service = "web",
              .state = i == 2 ? "STOPPED" : "RUNNING",
              .started_ms = i};
    ASSERT_TRUE(services_->PutTask(t).ok());
  }
  ASSERT_TRUE(services_->PutTask({.id = "other", .service = "api", .started_ms = 9}).ok());
  auto recent = services_->RecentTasks("web", 3);
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 3u);
  EXPECT_EQ((*recent)[0].id, "t4");
  EXPECT_EQ((*recent)[2].id, "t2");  // STOPPED tasks too
}

TEST_F(ServiceStoreTest, DesiredCountAndEvents) {
  EXPECT_FALSE(*services_->GetDesiredCount("web"));
  ASSERT_TRUE(services_->SetDesiredCount("web", {5, 2}).ok());
  EXPECT_EQ((*services_->GetDesiredCount("web"))->desired, 5);
  for (int i = 0; i < 510; ++i)
    ASSERT_TRUE(services_->AddEvent("web", i, "e" + std::to_string(i)).ok());
  auto events = services_->Events("web", 1000);
  ASSERT_TRUE(events.ok());
  EXPECT_LE(events->size(), 501u);
  EXPECT_EQ(events->front().message, "e509");  // newest first
}

}  // namespace
}  // namespace kiln::store
