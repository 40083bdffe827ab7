// UPLOAD_ARTIFACTS (primary and secondary artifacts, reports, cache) and FINALIZING.
#include "codebuild/artifacts.h"
#include "codebuild/build_run.h"
#include "codebuild/cache.h"
#include "codebuild/reports.h"

namespace kiln::codebuild {

bool BuildRun::UploadOne(const spec::ArtifactSpec& spec, const fs::path& out, ArtifactRecord* rec,
                         PhaseRecord* phase) {
  spec::ArtifactSpec expanded = spec;
  auto expand = [&](std::string* s) {
    auto v = shell_->Expand(*s);
    if (v.ok()) *s = *v;
  };
  for (auto& f : expanded.files) expand(&f);
  for (auto& f : expanded.exclude_paths) expand(&f);
  if (expanded.base_directory) expand(&*expanded.base_directory);
  if (expanded.name) {
    expand(&*expanded.name);
    rec->name = MaskText(env_.mask, *expanded.name);  // the record must not hold a secret
  }
  auto files = ResolveArtifactFiles(expanded, src_dir_);
  base::Status st = files.ok() ? WriteArtifactFiles(*files, out) : files.status();
  if (!st.ok()) {
    std::string msg = st.message();
    std::string code = "CLIENT_ERROR";
    if (msg.starts_with("CLIENT_ERROR: ")) msg = msg.substr(14);
    phase->contexts.push_back({code, msg});
    return false;
  }
  rec->location = fs::absolute(out).string();
  for (const auto& f : *files) rec->files.push_back(f.relative);
  return true;
}

void BuildRun::UploadArtifacts() {
  PhaseRecord& p = Begin(PhaseType::kUploadArtifacts);
  FreezeExportedVariables();
  bool ok = true;
  const auto& a = req_.buildspec.artifacts;
  if (a.present) {
    fs::path out = req_.artifacts_out.empty() ? build_dir_ / "artifacts" : req_.artifacts_out;
    rec_.has_artifacts = true;
    ok = UploadOne(a.primary, out, &rec_.artifacts, &p);
    for (const auto& [id, spec] : a.secondary) {
      ArtifactRecord r{.identifier = id};
      ok = UploadOne(spec, out / id, &r, &p) && ok;
      rec_.secondary_artifacts.push_back(std::move(r));
    }
    if (ok) {
      Log("Artifacts: " + std::to_string(rec_.artifacts.files.size()) + " files in " +
          rec_.artifacts.location);
    }
  }
  for (const auto& group : req_.buildspec.reports) {
    ReportSummary s = SummariseReport(group, src_dir_);
    Log("Report " + s.group + ": " + std::to_string(s.total) + " tests, " +
        std::to_string(s.passed) + " passed, " + std::to_string(s.failed) + " failed, " +
        std::to_string(s.errors) + " errors, " + std::to_string(s.skipped) + " skipped");
    for (const auto& problem : s.problems) Log("Report " + s.group + ": " + problem);
    rec_.reports.push_back(std::move(s));
  }
  if (ok && succeeding_ && UsesCustomCache()) {
    spec::Cache cache = req_.buildspec.cache;
    if (cache.key) {
      auto v = shell_->Expand(*cache.key);
      if (v.ok()) cache.key = *v;
    }
    LocalCache local(req_.state_dir / "cache", req_.project);
    auto saved = local.Save(cache, src_dir_);
    Log(saved.ok() ? "Saved cache: " + std::to_string(*saved) + " files"
                   : "Cache save failed: " + saved.status().message());
  }
  if (!ok) succeeding_ = false;
  End(rec_.phases.back(), ok ? BuildStatus::kSucceeded : BuildStatus::kFailed);
}

void BuildRun::Finalize() {
  PhaseRecord& p = Begin(PhaseType::kFinalizing);
  if (shell_) {
    shell_->Close(req_.kill_grace_ms);
    shell_.reset();
  }
  if (!req_.in_place) {
    std::error_code ec;
    fs::remove_all(workspace_, ec);
  }
  End(p, BuildStatus::kSucceeded);
}

}  // namespace kiln::codebuild
