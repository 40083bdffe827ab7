#include "cli/pipeline_output.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "base/fd.h"
#include "base/json_text.h"

namespace kiln::cli {
namespace {

using nlohmann::json;

// What the table shows for a stage or action without a latestExecution (AWS omits it).
constexpr char kNotStarted[] = "not started";

std::string Paint(const std::string& status, bool color) {
  if (!color) return status;
  std::string_view code = status == "Succeeded"                            ? "\033[32m"
                          : status == "InProgress" || status == "Stopping" ? "\033[33m"
                          : status == kNotStarted                          ? "\033[2m"
                                                                           : "\033[31m";
  return std::string(code) + status + "\033[0m";
}

// j[key] if it is a string, else "" (the table never trusts the JSON it is given).
std::string Text(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

json Latest(const json& state) {
  return state.is_object() ? state.value("latestExecution", json()) : json();
}

std::string StatusOf(const json& state) {
  json latest = Latest(state);
  return latest.is_object() ? Text(latest, "status") : kNotStarted;
}

json List(const json& j, const char* key) {
  json list = j.is_object() ? j.value(key, json::array()) : json::array();
  return list.is_array() ? list : json::array();
}

// The first line of the summary; a waiting approval's token (`pipeline approve --approval-token`).
std::string ActionSummary(const json& action) {
  json latest = Latest(action);
  std::string summary = Text(latest, "summary");
  summary = summary.substr(0, summary.find('\n'));
  std::string token = Text(latest, "token");
  if (token.empty()) return summary;
  return summary.empty() ? "waiting for approval, token " + token
                         : summary + " (token " + token + ")";
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

std::string ExecutionTable(const json& e, bool color) {
  std::string out =
      fmt::format("\n{:<20} {:<24} {:<12} {}\n", "STAGE", "ACTION", "STATUS", "SUMMARY");
  for (const auto& s : List(e, "stageStates")) {
    out += fmt::format("{:<20} {:<24} {}\n", Text(s, "stageName"), "", Paint(StatusOf(s), color));
    for (const auto& a : List(s, "actionStates")) {
      out += fmt::format("{:<20} {:<24} {} {}\n", "", Text(a, "actionName"),
                         Paint(StatusOf(a), color), ActionSummary(a));
    }
  }
  std::string summary = Text(e, "statusSummary");
  json version = e.is_object() ? e.value("pipelineVersion", json()) : json();
  out += fmt::format("\nExecution {} of {} (version {}): {}{}\n", Text(e, "pipelineExecutionId"),
                     Text(e, "pipelineName"), version.is_number() ? base::JsonText(version) : "?",
                     Paint(Text(e, "status"), color), summary.empty() ? "" : " - " + summary);
  return out;
}

}  // namespace kiln::cli
