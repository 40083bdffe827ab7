// Test reports (`reports:` in a buildspec): JUnit XML files parsed and summarised.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"
#include "spec/buildspec.h"

namespace kiln::codebuild {

struct ReportSummary {
  std::string group;        // report group name
  std::string file_format;  // JUNITXML, ...
  size_t files = 0;
  size_t total = 0, passed = 0, failed = 0, errors = 0, skipped = 0;
  // A case with <failure> is failed, else with <error> errors, else with <skipped> skipped.
  // failed_cases: "classname.case" (or "suite.case") of failed and errored cases, suite by
  // suite (a suite's own cases before its nested suites'), at most 50.
  std::vector<std::string> failed_cases;
  std::vector<std::string> problems;  // unreadable/invalid files, unsupported formats
};

// Finds the group's files (globs as for artifacts, relative to src_dir) and summarises them.
// Only JUNITXML is parsed; other formats are listed in problems. Files over 50 MiB, files past
// the first 1000, invalid XML and symlinks leading outside src_dir become problems too; so
// does finding no file at all. Never throws.
ReportSummary SummariseReport(const spec::ReportGroup& group, const std::filesystem::path& src_dir);

}  // namespace kiln::codebuild
