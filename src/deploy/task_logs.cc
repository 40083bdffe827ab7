#include "deploy/task_logs.h"

#include <algorithm>

namespace kiln::deploy {
namespace {

constexpr size_t kTaskIdLength = 32;
constexpr size_t kSwarmTaskIdLength = 25;  // swarmkit identity.NewID: base 36, padded
constexpr size_t kMinTaskPrefix = 4;

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsLowerAlnum(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'); });
}

}  // namespace

bool IsTaskId(std::string_view id) {
  return (id.size() == kTaskIdLength && IsLowerHex(id)) ||
         (id.size() == kSwarmTaskIdLength && IsLowerAlnum(id));
}

std::filesystem::path TaskLogPath(const std::filesystem::path& service_dir, std::string_view task) {
  return service_dir / "tasks" / (std::string(task) + ".log");
}

std::vector<TaskLog> ExistingTaskLogs(std::span<const store::TaskRow> rows,
                                      const std::filesystem::path& service_dir) {
  std::vector<TaskLog> out;
  for (auto row = rows.rbegin(); row != rows.rend(); ++row) {
    if (!IsTaskId(row->id)) continue;  // never a path from a malformed row
    std::filesystem::path path = TaskLogPath(service_dir, row->id);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) continue;
    out.push_back({.task_id = row->id, .path = path, .running = row->state != "STOPPED"});
  }
  return out;
}

base::Result<TaskLog> FindTaskLog(std::span<const TaskLog> logs, std::string_view task) {
  if (task.size() < kMinTaskPrefix || task.size() > kTaskIdLength || !IsLowerAlnum(task)) {
    return base::InvalidInput(
        "a task id is 32 hex digits, or 25 lower-case letters and digits for a Swarm task (or "
        "a prefix of at least " +
        std::to_string(kMinTaskPrefix) + ")");
  }
  const TaskLog* found = nullptr;
  for (const TaskLog& log : logs) {
    if (!log.task_id.starts_with(task)) continue;
    if (found) return base::InvalidInput("task prefix " + std::string(task) + " is ambiguous");
    found = &log;
  }
  if (!found) return base::NotFound("no log for task " + std::string(task));
  return *found;
}

}  // namespace kiln::deploy
