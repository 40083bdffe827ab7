#include "deploy/process_runtime.h"

#include <signal.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "deploy/task_launch.h"

namespace kiln::deploy {
namespace {

namespace fs = std::filesystem;

std::string Digest(const ContainerSpec& c) {
  return c.image_digest.starts_with("sha256:") ? c.image_digest.substr(7) : "";
}

LaunchRequest RequestFor(const TaskStart& start) {
  return {.task_id = start.row.id,
          .service = start.row.service,
          .container = &start.task->main(),
          .work_dir = start.work_dir,
          .log_path = start.log_path,
          .port = uint16_t(start.row.port),
          .secrets = start.secrets.empty() ? SecretValues{} : start.secrets.front()};
}

}  // namespace

ProcessRuntime::ProcessRuntime(boost::asio::io_context& loop, const BundleStore& bundles,
                               std::filesystem::path service_dir)
    : loop_(loop), bundles_(bundles), service_dir_(std::move(service_dir)) {}

ProcessRuntime::~ProcessRuntime() { life_.reset(); }

base::Status ProcessRuntime::Check(const TaskSpec& task) const { return CheckProcessTask(task); }

void ProcessRuntime::ContainerCheck(const TaskStart& start, TaskHealthOptions& options) const {
  LaunchRequest request = RequestFor(start);
  options.container = start.task->main().health_check;
  options.command_env = TaskEnvironment(request);
  options.command_cwd = request.work_dir.string();
}

void ProcessRuntime::Prepare(const TaskSpec&, std::function<void(base::Status)> done) {
  boost::asio::post(loop_, [life = std::weak_ptr<int>(life_), done = std::move(done)] {
    if (life.lock()) done(base::Status::Ok());
  });
}

void ProcessRuntime::Start(TaskStart start, Started started) {
  LaunchRequest request = RequestFor(start);
  request.bundle_dir = bundles_.PathOf(Digest(start.task->main()));
  auto pid = Digest(start.task->main()).empty()
                 ? base::Result<pid_t>(base::InvalidInput("the revision has no bundle"))
                 : LaunchTask(request);
  base::Result<TaskIdentity> result = base::Status::Ok();
  if (!pid.ok()) {
    std::error_code ec;
    fs::remove_all(request.work_dir, ec);
    result = base::Status(base::ErrorKind::kFailed,
                          "CannotStartContainerError: " + pid.status().message());
  } else {
    result = TaskIdentity{.pid = *pid, .pid_token = ProcessToken(*pid)};
    if (!Watch(start.row.id, *pid)) result = base::Status(base::ErrorKind::kFailed, "exited");
  }
  boost::asio::post(loop_, [life = std::weak_ptr<int>(life_), started = std::move(started),
                            result = std::move(result)] {
    if (life.lock()) started(result);
  });
}

bool ProcessRuntime::Watch(const std::string& task_id, pid_t pid) {
  auto watch =
      ProcessWatch::Start(loop_, pid, [life = std::weak_ptr<int>(life_), this, task_id](int code) {
        if (!life.lock()) return;
        if (listener_.exited) {
          listener_.exited(task_id,
                           {.exit_code = code, .reason = "Essential container in task exited"});
        }
      });
  if (!watch.ok()) return false;
  watched_[task_id].watch = std::move(*watch);
  return true;
}

// A task recorded as running is adopted only if its pid is still the same process (start
// time and boot id match, checked after the pidfd is open); others are gone.
void ProcessRuntime::Adopt(std::vector<store::TaskRow> rows, Adopted adopted) {
  std::vector<bool> alive;
  for (const store::TaskRow& row : rows) {
    bool same = Watch(row.id, pid_t(row.pid)) && !row.pid_token.empty() &&
                ProcessToken(pid_t(row.pid)) == row.pid_token;
    if (!same) watched_.erase(row.id);
    alive.push_back(same);
  }
  boost::asio::post(loop_, [life = std::weak_ptr<int>(life_), adopted = std::move(adopted),
                            alive = std::move(alive)] {
    if (life.lock()) adopted(alive);
  });
}

void ProcessRuntime::Stop(const store::TaskRow& row, int64_t grace_ms) {
  Watched& w = watched_[row.id];
  if (w.kill_timer) return;
  pid_t pid = pid_t(row.pid);
  SignalGroup(pid, SIGTERM);
  w.kill_timer = std::make_unique<boost::asio::steady_timer>(loop_);
  w.kill_timer->expires_after(std::chrono::milliseconds(grace_ms));
  w.kill_timer->async_wait([pid](const boost::system::error_code& ec) {
    if (!ec) SignalGroup(pid, SIGKILL);
  });
}

void ProcessRuntime::Release(const store::TaskRow& row) {
  SignalGroup(pid_t(row.pid), SIGKILL);  // what is left of its process group
  watched_.erase(row.id);
  std::error_code ec;
  fs::remove_all(service_dir_ / "tasks" / row.id, ec);
}

}  // namespace kiln::deploy
