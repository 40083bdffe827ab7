#include "codebuild/build_record.h"

#include <nlohmann/json.hpp>

#include "base/ids.h"

namespace kiln::codebuild {

std::string_view StatusName(BuildStatus s) {
  switch (s) {
    case BuildStatus::kSucceeded:
      return "SUCCEEDED";
    case BuildStatus::kFailed:
      return "FAILED";
    case BuildStatus::kFault:
      return "FAULT";
    case BuildStatus::kTimedOut:
      return "TIMED_OUT";
    case BuildStatus::kInProgress:
      return "IN_PROGRESS";
    case BuildStatus::kStopped:
      return "STOPPED";
  }
  return "FAULT";
}

std::string_view PhaseTypeName(PhaseType p) {
  static constexpr std::string_view kNames[] = {
      "SUBMITTED", "QUEUED",     "PROVISIONING",     "DOWNLOAD_SOURCE", "INSTALL",  "PRE_BUILD",
      "BUILD",     "POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING",      "COMPLETED"};
  return kNames[static_cast<int>(p)];
}

namespace {

nlohmann::json PhaseJson(const PhaseRecord& p) {
  nlohmann::json j = {{"phaseType", PhaseTypeName(p.type)},
                      {"startTime", base::IsoTime(p.start_ms)}};
  if (p.type == PhaseType::kCompleted) return j;
  j["phaseStatus"] = StatusName(p.status);
  if (p.end_ms > 0) {
    int64_t ms = p.end_ms - p.start_ms;
    j["endTime"] = base::IsoTime(p.end_ms);
    j["durationInSeconds"] = ms / 1000;
    j["durationMillis"] = ms;
  }
  nlohmann::json contexts = nlohmann::json::array();
  for (const auto& c : p.contexts) {
    contexts.push_back({{"statusCode", c.status_code}, {"message", c.message}});
  }
  j["contexts"] = contexts;
  return j;
}

nlohmann::json ArtifactJson(const ArtifactRecord& a) {
  nlohmann::json j = {{"location", a.location}, {"files", a.files}};
  if (!a.identifier.empty()) j["artifactIdentifier"] = a.identifier;
  if (!a.name.empty()) j["overrideArtifactName"] = a.name;
  return j;
}

nlohmann::json ReportJson(const ReportSummary& r) {
  return {
      {"reportGroupName", r.group}, {"fileFormat", r.file_format}, {"files", r.files},
      {"total", r.total},           {"passed", r.passed},          {"failed", r.failed},
      {"errors", r.errors},         {"skipped", r.skipped},        {"failedCases", r.failed_cases},
      {"problems", r.problems}};
}

// CodeBuild's shape; "executor" and "cluster" are Kiln's: "host" when no image was given,
// "swarm-job" on a swarm cluster, else "container".
nlohmann::json EnvironmentJson(const EnvironmentRecord& e) {
  std::string executor = e.image.empty() ? "host" : e.cluster.empty() ? "container" : "swarm-job";
  nlohmann::json j = {{"type", "LINUX_CONTAINER"},
                      {"image", e.image},
                      {"computeType", spec::ComputeTypeName(e.compute_type)},
                      {"privilegedMode", e.privileged},
                      {"executor", executor}};
  if (!e.cluster.empty()) j["cluster"] = e.cluster;
  return j;
}

}  // namespace

EnvironmentRecord RecordOf(const spec::BuildEnvironment& environment) {
  return {.image = environment.image,
          .compute_type = environment.compute_type,
          .privileged = environment.privileged,
          .cluster = environment.on_host() ? "" : environment.cluster};
}

nlohmann::json ToJson(const BuildRecord& r) {
  nlohmann::json j = {{"id", r.id},
                      {"arn", r.arn},
                      {"buildNumber", r.build_number},
                      {"projectName", r.project},
                      {"buildStatus", StatusName(r.status)},
                      {"currentPhase", PhaseTypeName(r.current_phase)},
                      {"buildComplete", r.status != BuildStatus::kInProgress},
                      {"startTime", base::IsoTime(r.start_ms)},
                      {"initiator", r.initiator}};
  if (r.end_ms > 0) j["endTime"] = base::IsoTime(r.end_ms);
  if (!r.source_version.empty()) j["resolvedSourceVersion"] = r.source_version;
  j["environment"] = EnvironmentJson(r.environment);
  nlohmann::json phases = nlohmann::json::array();
  for (const auto& p : r.phases) phases.push_back(PhaseJson(p));
  j["phases"] = phases;
  nlohmann::json exported = nlohmann::json::array();
  for (const auto& [k, v] : r.exported) exported.push_back({{"name", k}, {"value", v}});
  j["exportedEnvironmentVariables"] = exported;
  j["artifacts"] = r.has_artifacts ? ArtifactJson(r.artifacts) : nlohmann::json::object();
  nlohmann::json secondary = nlohmann::json::array();
  for (const auto& a : r.secondary_artifacts) secondary.push_back(ArtifactJson(a));
  j["secondaryArtifacts"] = secondary;
  nlohmann::json reports = nlohmann::json::array();
  for (const auto& rep : r.reports) reports.push_back(ReportJson(rep));
  j["reports"] = reports;
  j["logs"] = {{"path", r.log_path}};
  j["attempts"] = r.attempts;
  return j;
}

}  // namespace kiln::codebuild
