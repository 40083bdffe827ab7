// The deploy layer's records (DESIGN.md "Deploy"): a service's revisions (immutable task
// definitions), its deployments (ECS DescribeServices' deployments[]), its tasks (the
// processes that run it, with the identity needed to adopt them after a restart), its desired
// count, and its events. Typed methods only; the SQL stays in service_store.cc.
//
// Thread-compatible: use one ServiceStore from one thread (it borrows that thread's Database).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/sqlite.h"

namespace kiln::store {

struct RevisionRow {
  std::string service;
  int64_t number = 0;           // 1, 2, ... per service
  std::string task_definition;  // JSON, with concrete images
  int64_t created_ms = 0;
};

struct DeploymentRow {
  std::string id;
  std::string service;
  int64_t revision = 0;
  std::string status;         // PRIMARY | ACTIVE | INACTIVE (ECS)
  std::string rollout_state;  // IN_PROGRESS | COMPLETED | FAILED (ECS)
  std::string reason;         // rolloutStateReason
  int64_t desired_count = 0;
  int64_t failed_tasks = 0;
  int64_t created_ms = 0, updated_ms = 0;
};

struct TaskRow {
  std::string id;
  std::string service;
  int64_t revision = 0;
  int64_t pid = 0;
  std::string pid_token;  // "<boot id>:<start time>" of pid, to recognise it after a restart
  int64_t port = 0;
  std::string state;   // RUNNING | DEACTIVATING | STOPPING | STOPPED (ECS lastStatus)
  std::string health;  // UNKNOWN | HEALTHY | UNHEALTHY (ECS healthStatus)
  int64_t started_ms = 0, stopped_ms = 0;
};

struct EventRow {
  int64_t seq = 0;
  std::string service;
  int64_t at_ms = 0;
  std::string message;
};

class ServiceStore {
 public:
  explicit ServiceStore(Database& db) : db_(db) {}

  // Revisions: Add assigns the next number and returns it.
  base::Result<int64_t> AddRevision(const std::string& service, const std::string& definition);
  base::Result<std::optional<RevisionRow>> GetRevision(const std::string& service, int64_t number);

  // Deployments (insert or replace by id), newest first.
  base::Status PutDeployment(const DeploymentRow& row);
  base::Result<std::vector<DeploymentRow>> Deployments(const std::string& service, int limit = 20);
  // The newest COMPLETED deployment of the service whose revision is not `except`.
  base::Result<std::optional<DeploymentRow>> LastCompleted(const std::string& service,
                                                           int64_t except = 0);

  // Tasks (insert or replace by id). LiveTasks: every task not STOPPED. RecentTasks: the
  // newest `limit` by start, in any state, newest first.
  base::Status PutTask(const TaskRow& row);
  base::Result<std::vector<TaskRow>> LiveTasks(const std::string& service);
  base::Result<std::vector<TaskRow>> RecentTasks(const std::string& service, int limit);

  // Desired count as set by Scale, with the kiln.yml value it overrode; nullopt if never set.
  struct DesiredCount {
    int64_t desired = 0;
    int64_t config_desired = 0;
  };
  base::Status SetDesiredCount(const std::string& service, const DesiredCount& count);
  base::Result<std::optional<DesiredCount>> GetDesiredCount(const std::string& service);

  // Events, newest first; the store keeps the newest 500 per service.
  base::Status AddEvent(const std::string& service, int64_t at_ms, const std::string& message);
  base::Result<std::vector<EventRow>> Events(const std::string& service, int limit);

 private:
  Database& db_;
};

}  // namespace kiln::store
