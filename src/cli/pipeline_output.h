// Human output for pipeline executions: live lines and the stage/action table.
#pragma once

#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "pipeline/engine.h"

namespace kiln::cli {

// Prints stage and action transitions as they happen ("[Build] bake: Succeeded (...)").
class LiveLines : public pipeline::ExecutionObserver {
 public:
  LiveLines(int fd, bool color) : fd_(fd), color_(color) {}
  void OnExecution(const std::string& id, const std::string& status,
                   const std::string& summary) override;
  void OnStage(const std::string& stage, const std::string& status) override;
  void OnAction(const std::string& stage, const std::string& action, const std::string& status,
                const std::string& summary) override;
  const std::string& execution_id() const { return execution_id_; }

 private:
  void Print(const std::string& line);
  std::mutex mu_;
  int fd_;
  bool color_;
  std::string execution_id_;
};

// The stage table of an execution (from ExecutionJson).
std::string ExecutionTable(const nlohmann::json& execution, bool color);

}  // namespace kiln::cli
