// Where a service's task logs are and which of them are worth reading: the stdout and stderr
// of each task, appended to <state>/services/<service>/tasks/<task id>.log (task_launch.h).
// A task id reaches a path only after IsTaskId, so no request can name a file elsewhere.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/service_store.h"

namespace kiln::deploy {

struct TaskLog {
  std::string task_id;
  std::filesystem::path path;
  bool running = false;  // the task is not STOPPED: its log may still grow
};

// How many of a service's newest tasks (by start) have their logs offered.
inline constexpr int kMaxLogTasks = 20;

// What TaskId() makes (service_tasks.cc): 32 lower-case hex digits, like an ECS task id; or a
// Swarm task's id: 25 lower-case letters and digits (swarm_logs.h).
bool IsTaskId(std::string_view id);

// <service_dir>/tasks/<task>.log. Precondition: IsTaskId(task).
std::filesystem::path TaskLogPath(const std::filesystem::path& service_dir, std::string_view task);

// The tasks of rows (newest first, as ServiceStore::RecentTasks gives them) whose log file
// exists, oldest first: the newest-started task comes last.
std::vector<TaskLog> ExistingTaskLogs(std::span<const store::TaskRow> rows,
                                      const std::filesystem::path& service_dir);

// The one log among logs whose task id is `task` or starts with it (at least 4 hex digits,
// as the short ids users see). kInvalidInput for anything but [a-z0-9] or for an ambiguous
// prefix; kNotFound when no task matches.
base::Result<TaskLog> FindTaskLog(std::span<const TaskLog> logs, std::string_view task);

}  // namespace kiln::deploy
