#include "codebuild/reports.h"

#include <pugixml.hpp>
#include <string_view>
#include <utility>

#include "base/files.h"
#include "codebuild/artifacts.h"

namespace kiln::codebuild {
namespace fs = std::filesystem;

namespace {

// Bounds so that a runaway test run cannot make the summary take the server's memory.
constexpr size_t kMaxFileBytes = 50 << 20;
constexpr size_t kMaxFiles = 1000;
constexpr size_t kMaxFailedCases = 50;

std::string CaseName(const pugi::xml_node& testcase, std::string_view suite) {
  std::string_view classname = testcase.attribute("classname").as_string();
  std::string_view name = testcase.attribute("name").as_string();
  std::string_view owner = classname.empty() ? suite : classname;
  if (owner.empty()) return std::string(name);
  return std::string(owner) + "." + std::string(name);
}

// JUnit: <failure> is an assertion that failed, <error> an unexpected exception, <skipped> a
// test not run. A case with both <failure> and <error> counts once, as failed.
void CountCase(const pugi::xml_node& testcase, std::string_view suite, ReportSummary* summary) {
  ++summary->total;
  bool failed = static_cast<bool>(testcase.child("failure"));
  bool error = !failed && static_cast<bool>(testcase.child("error"));
  if (failed) {
    ++summary->failed;
  } else if (error) {
    ++summary->errors;
  } else if (testcase.child("skipped")) {
    ++summary->skipped;
  } else {
    ++summary->passed;
  }
  if ((failed || error) && summary->failed_cases.size() < kMaxFailedCases) {
    summary->failed_cases.push_back(CaseName(testcase, suite));
  }
}

// Counts the cases under root (<testsuites> or <testsuite>), suites nested to any depth. An
// explicit stack, not recursion: a hostile file's nesting must not overflow the stack.
void CountSuites(const pugi::xml_node& root, ReportSummary* summary) {
  std::vector<pugi::xml_node> stack{root};
  while (!stack.empty()) {
    pugi::xml_node suite = stack.back();
    stack.pop_back();
    std::string_view suite_name = suite.attribute("name").as_string();
    std::vector<pugi::xml_node> nested;
    for (pugi::xml_node child : suite.children()) {
      std::string_view name = child.name();
      if (name == "testcase") CountCase(child, suite_name, summary);
      if (name == "testsuite") nested.push_back(child);
    }
    // Reversed so suites are visited in file order.
    stack.insert(stack.end(), nested.rbegin(), nested.rend());
  }
}

// Parses one JUnit XML file into summary; a file that is not one is reported in problems.
void SummariseFile(const ArtifactFile& file, ReportSummary* summary) {
  base::Result<std::string> data = base::ReadFile(file.source, kMaxFileBytes);
  if (!data.ok()) {
    summary->problems.push_back(file.relative + ": " + data.status().message());
    return;
  }
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(data->data(), data->size());
  if (!parsed) {
    summary->problems.push_back(file.relative + ": invalid XML: " + parsed.description() +
                                " at offset " + std::to_string(parsed.offset));
    return;
  }
  pugi::xml_node root = doc.document_element();
  std::string_view root_name = root.name();
  if (root_name != "testsuites" && root_name != "testsuite") {
    summary->problems.push_back(file.relative + ": not a JUnit report (root element <" +
                                std::string(root_name) + ">)");
    return;
  }
  CountSuites(root, summary);
}

}  // namespace

ReportSummary SummariseReport(const spec::ReportGroup& group, const fs::path& src_dir) {
  ReportSummary summary{.group = group.name, .file_format = group.file_format};
  spec::ArtifactSpec spec{.files = group.files, .base_directory = group.base_directory};
  base::Result<std::vector<ArtifactFile>> files =
      ResolveArtifactFiles(spec, src_dir, {.allow_no_match = true});
  if (!files.ok()) {
    summary.problems.push_back(files.status().message());
    return summary;
  }
  if (files->empty()) summary.problems.push_back("no report files matched");
  if (files->size() > kMaxFiles) {
    summary.problems.push_back("only the first " + std::to_string(kMaxFiles) + " of " +
                               std::to_string(files->size()) + " report files were read");
    files->resize(kMaxFiles);
  }
  summary.files = files->size();
  if (group.file_format != "JUNITXML") {
    summary.problems.push_back("file-format " + group.file_format + " is not supported yet");
    return summary;
  }
  for (const ArtifactFile& file : *files) SummariseFile(file, &summary);
  return summary;
}

}  // namespace kiln::codebuild
