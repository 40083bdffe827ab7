#include "pipeline/execution_status.h"

#include <gtest/gtest.h>

namespace kiln::pipeline {
namespace {

TEST(ExecutionStatus, StoredNamesRoundTrip) {
  for (auto s :
       {ExecutionStatus::kQueued, ExecutionStatus::kInProgress, ExecutionStatus::kStopping,
        ExecutionStatus::kStopped, ExecutionStatus::kSucceeded, ExecutionStatus::kSuperseded,
        ExecutionStatus::kFailed, ExecutionStatus::kCancelled}) {
    EXPECT_EQ(ParseExecutionStatus(StoredName(s)), s) << StoredName(s);
  }
  EXPECT_EQ(ParseExecutionStatus("inprogress"), std::nullopt);
  EXPECT_EQ(ParseExecutionStatus(""), std::nullopt);
}

TEST(ExecutionStatus, AQueuedExecutionIsInProgressToTheApi) {
  EXPECT_EQ(ApiName(ExecutionStatus::kQueued), "InProgress");
  EXPECT_EQ(ApiStatusName("Queued"), "InProgress");
  EXPECT_EQ(ApiStatusName("Succeeded"), "Succeeded");
  EXPECT_EQ(ApiStatusName("Stopping"), "Stopping");
  EXPECT_EQ(ApiStatusName("garbage"), "garbage");  // a damaged row is shown, not hidden
}

TEST(ExecutionStatus, StopFollowsCodePipelinesRule) {
  EXPECT_TRUE(CanStop(ExecutionStatus::kInProgress, false));
  EXPECT_TRUE(CanStop(ExecutionStatus::kQueued, false));
  EXPECT_FALSE(CanStop(ExecutionStatus::kStopping, false));
  EXPECT_TRUE(CanStop(ExecutionStatus::kStopping, true));
  for (auto s :
       {ExecutionStatus::kStopped, ExecutionStatus::kSucceeded, ExecutionStatus::kSuperseded,
        ExecutionStatus::kFailed, ExecutionStatus::kCancelled}) {
    EXPECT_FALSE(CanStop(s, true)) << StoredName(s);
    EXPECT_TRUE(IsFinished(s)) << StoredName(s);
  }
  EXPECT_FALSE(IsFinished(ExecutionStatus::kStopping));
}

TEST(ExecutionStatus, OnlyFailedOrStoppedExecutionsCanBeRetried) {
  EXPECT_TRUE(CanRetry(ExecutionStatus::kFailed));
  EXPECT_TRUE(CanRetry(ExecutionStatus::kStopped));
  for (auto s :
       {ExecutionStatus::kQueued, ExecutionStatus::kInProgress, ExecutionStatus::kStopping,
        ExecutionStatus::kSucceeded, ExecutionStatus::kSuperseded, ExecutionStatus::kCancelled}) {
    EXPECT_FALSE(CanRetry(s)) << StoredName(s);
  }
}

}  // namespace
}  // namespace kiln::pipeline
