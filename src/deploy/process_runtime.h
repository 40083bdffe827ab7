// The process provider's TaskRuntime: a task is a process group running the container's
// entryPoint + command in its own copy of the bundle (task_launch.h), watched through a pidfd
// (process_watch.h) and recognised after a restart by its pid and start time.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "deploy/bundle_store.h"
#include "deploy/process_watch.h"
#include "deploy/task_runtime.h"

namespace kiln::deploy {

class ProcessRuntime final : public TaskRuntime {
 public:
  // service_dir: <state>/services/<name>, whose tasks/<id>/ are the tasks' folders.
  ProcessRuntime(boost::asio::io_context& loop, const BundleStore& bundles,
                 std::filesystem::path service_dir);
  ~ProcessRuntime() override;

  void SetListener(Listener listener) override { listener_ = std::move(listener); }
  base::Status Check(const TaskSpec& task) const override;
  void ContainerCheck(const TaskStart& start, TaskHealthOptions& options) const override;
  void Prepare(const TaskSpec& task, std::function<void(base::Status)> done) override;
  void Start(TaskStart start, Started started) override;
  void Adopt(std::vector<store::TaskRow> rows, Adopted adopted) override;
  void Stop(const store::TaskRow& row, int64_t grace_ms) override;
  void Release(const store::TaskRow& row) override;

 private:
  struct Watched {
    std::unique_ptr<ProcessWatch> watch;
    std::unique_ptr<boost::asio::steady_timer> kill_timer;
  };
  bool Watch(const std::string& task_id, pid_t pid);

  boost::asio::io_context& loop_;
  const BundleStore& bundles_;
  std::filesystem::path service_dir_;
  Listener listener_;
  std::map<std::string, Watched> watched_;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace kiln::deploy
