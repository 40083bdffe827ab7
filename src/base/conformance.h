// The shared conformance corpus (real buildspecs, pipeline templates and webhook payloads
// collected from public repositories) for tests (test-only, header-only). It lives outside
// this tree, so a test that reads it skips with one line when it is absent: the tree's own
// tests pass on a checkout that has only the tree.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace kiln::base {

// $KILN_CONFORMANCE_DIR, else ../shared/conformance beside the source tree (where CI and the
// development machines check it out).
inline std::filesystem::path ConformanceDir() {
  const char* dir = std::getenv("KILN_CONFORMANCE_DIR");
  if (dir != nullptr && *dir != '\0') return dir;
  return std::filesystem::path(KILN_SOURCE_DIR) / ".." / "shared" / "conformance";
}

// The one-line reason to skip when the corpus is absent; nullopt when it is there.
inline std::optional<std::string> ConformanceMissing() {
  std::filesystem::path dir = ConformanceDir();
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return std::nullopt;
  return "conformance corpus not found at " + dir.string() + ": set KILN_CONFORMANCE_DIR";
}

// A fixture for suites whose every test reads the corpus.
class ConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = ConformanceMissing()) GTEST_SKIP() << *why;
  }
};

}  // namespace kiln::base
