#include "deploy/task_logs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace kiln::deploy {
namespace {

namespace fs = std::filesystem;

const std::string kA = "0123456789abcdef0123456789abcdef";
const std::string kB = "0123ffffffffffffffffffffffffffff";
const std::string kC = "cccccccccccccccccccccccccccccccc";

TEST(TaskLogs, TaskIdsAreWhatTaskIdMakes) {
  EXPECT_TRUE(IsTaskId(kA));
  EXPECT_FALSE(IsTaskId(kA.substr(1)));
  EXPECT_FALSE(IsTaskId("0123456789ABCDEF0123456789ABCDEF"));
  EXPECT_FALSE(IsTaskId("../../../../../../../../etc/passwd"));
  EXPECT_FALSE(IsTaskId("0123456789abcdef-0123456789abcde"));
  EXPECT_TRUE(IsTaskId("x9q2w8e7r6t5y4u3i2o1pz0lk"));  // a Swarm task's
  EXPECT_FALSE(IsTaskId("x9q2w8e7r6t5y4u3i2o1pz0l"));
  EXPECT_FALSE(IsTaskId("x9q2w8e7r6t5y4u3i2o1pz0l/"));
  EXPECT_FALSE(IsTaskId("X9q2w8e7r6t5y4u3i2o1pz0lk"));
  EXPECT_FALSE(IsTaskId("x9q2w8e7r6t5y4u3i2o1pz0lkxyzxyz"));
}

TEST(TaskLogs, ExistingLogsOldestFirstSkippingMissingFilesAndBadRows) {
  fs::path dir = fs::temp_directory_path() / ("kiln-task-logs-" + std::to_string(::getpid()));
  fs::create_directories(dir / "tasks");
  std::ofstream(TaskLogPath(dir, kA)) << "a\n";
  std::ofstream(TaskLogPath(dir, kC)) << "c\n";
  std::ofstream(dir / "tasks" / "...log") << "x\n";
  std::vector<store::TaskRow> newest_first = {{.id = kC, .state = "RUNNING"},
                                              {.id = kB, .state = "RUNNING"},  // kB: no log file
                                              {.id = "..", .state = "RUNNING"},
                                              {.id = kA, .state = "STOPPED"}};
  auto logs = ExistingTaskLogs(newest_first, dir);
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[0].task_id, kA);
  EXPECT_FALSE(logs[0].running);
  EXPECT_EQ(logs[1].task_id, kC);
  EXPECT_TRUE(logs[1].running);
  EXPECT_EQ(logs[1].path, dir / "tasks" / (kC + ".log"));
  fs::remove_all(dir);
}

TEST(TaskLogs, FindByIdOrUniquePrefixRefusingAnythingElse) {
  std::vector<TaskLog> logs = {{.task_id = kA}, {.task_id = kB}, {.task_id = kC}};
  EXPECT_EQ(FindTaskLog(logs, kA)->task_id, kA);
  EXPECT_EQ(FindTaskLog(logs, "cccc")->task_id, kC);
  EXPECT_EQ(FindTaskLog(logs, "01234")->task_id, kA);
  EXPECT_EQ(FindTaskLog(logs, "0123").status().kind(), base::ErrorKind::kInvalidInput);  // both
  EXPECT_EQ(FindTaskLog(logs, "dddd").status().kind(), base::ErrorKind::kNotFound);
  for (std::string bad :
       std::vector<std::string>{"", "abc", "../../x", "ABCD", kA + "0", "%2e%2e", "cccc/.."}) {
    EXPECT_EQ(FindTaskLog(logs, bad).status().kind(), base::ErrorKind::kInvalidInput) << bad;
  }
}

}  // namespace
}  // namespace kiln::deploy
