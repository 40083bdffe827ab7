#include "cli/build_output.h"

#include <fmt/format.h>

namespace kiln::cli {
namespace {

std::string_view StatusColor(codebuild::BuildStatus s) {
  switch (s) {
    case codebuild::BuildStatus::kSucceeded:
      return "\033[32m";
    case codebuild::BuildStatus::kInProgress:
      return "\033[33m";
    default:
      return "\033[31m";
  }
}

std::string Seconds(int64_t ms) { return fmt::format("{}.{:03d}s", ms / 1000, ms % 1000); }

}  // namespace

std::string PhaseTable(const codebuild::BuildRecord& r, bool color) {
  std::string out =
      fmt::format("\n{:<18} {:<12} {:>10}  {}\n", "PHASE", "STATUS", "DURATION", "CONTEXT");
  for (const auto& p : r.phases) {
    if (p.type == codebuild::PhaseType::kCompleted) continue;
    std::string status(codebuild::StatusName(p.status));
    std::string shown = fmt::format("{:<12}", status);
    if (color) shown = std::string(StatusColor(p.status)) + shown + "\033[0m";
    std::string context = p.contexts.empty()
                              ? ""
                              : p.contexts.front().status_code + ": " + p.contexts.front().message;
    out += fmt::format("{:<18} {} {:>10}  {}\n", codebuild::PhaseTypeName(p.type), shown,
                       p.end_ms ? Seconds(p.end_ms - p.start_ms) : "-", context);
  }
  for (const auto& rep : r.reports) {
    out += fmt::format("report {}: {} passed, {} failed, {} errors, {} skipped\n", rep.group,
                       rep.passed, rep.failed, rep.errors, rep.skipped);
  }
  std::string status(codebuild::StatusName(r.status));
  if (color) status = std::string(StatusColor(r.status)) + status + "\033[0m";
  out += fmt::format("\nBuild {} (#{}) {} in {}\nLog: {}\n", r.id, r.build_number, status,
                     Seconds(r.end_ms - r.start_ms), r.log_path);
  if (r.has_artifacts && !r.artifacts.location.empty()) {
    out +=
        fmt::format("Artifacts: {} ({} files)\n", r.artifacts.location, r.artifacts.files.size());
  }
  return out;
}

}  // namespace kiln::cli
