#include "cli/pipeline_output.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "base/fd.h"

namespace kiln::cli {
namespace {

std::string Paint(const std::string& status, bool color) {
  if (!color) return status;
  std::string_view code = status == "Succeeded"                            ? "\033[32m"
                          : status == "InProgress" || status == "Stopping" ? "\033[33m"
                                                                           : "\033[31m";
  return std::string(code) + status + "\033[0m";
}

}  // namespace

void LiveLines::Print(const std::string& line) {
  std::lock_guard lock(mu_);
  std::string text = line + "\n";
  base::WriteAll(fd_, text.data(), text.size());
}

void LiveLines::OnExecution(const std::string& id, const std::string& status,
                            const std::string& summary) {
  if (execution_id_.empty()) execution_id_ = id;
  Print(fmt::format("execution {}: {}{}", id, Paint(status, color_),
                    summary.empty() ? "" : " (" + summary + ")"));
}

void LiveLines::OnStage(const std::string& stage, const std::string& status) {
  Print(fmt::format("stage {}: {}", stage, Paint(status, color_)));
}

void LiveLines::OnAction(const std::string& stage, const std::string& action,
                         const std::string& status, const std::string& summary) {
  Print(fmt::format("  [{}] {}: {}{}", stage, action, Paint(status, color_),
                    summary.empty() ? "" : " (" + summary.substr(0, summary.find('\n')) + ")"));
}

std::string ExecutionTable(const nlohmann::json& e, bool color) {
  std::string out =
      fmt::format("\n{:<20} {:<24} {:<12} {}\n", "STAGE", "ACTION", "STATUS", "SUMMARY");
  for (const auto& s : e["stageStates"]) {
    std::string stage = s["stageName"];
    std::string status = s["latestExecution"]["status"];
    out += fmt::format("{:<20} {:<24} {}\n", stage, "", Paint(status, color));
    for (const auto& a : s["actionStates"]) {
      std::string summary = a["latestExecution"]["summary"];
      out += fmt::format("{:<20} {:<24} {} {}\n", "", a["actionName"].get<std::string>(),
                         Paint(a["latestExecution"]["status"], color),
                         summary.substr(0, summary.find('\n')));
    }
  }
  std::string summary = e["statusSummary"];
  out += fmt::format("\nExecution {} of {} (version {}): {}{}\n",
                     e["pipelineExecutionId"].get<std::string>(),
                     e["pipelineName"].get<std::string>(), e["pipelineVersion"].get<int64_t>(),
                     Paint(e["status"], color), summary.empty() ? "" : " - " + summary);
  return out;
}

}  // namespace kiln::cli
