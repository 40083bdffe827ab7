// Helpers shared by the spec tests (test-only, header-only).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "spec/diagnostic.h"
#include "spec/kiln_config.h"

namespace kiln::spec {

// The whole file at path; a test failure if it cannot be opened.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// One "FILE:LINE:COL: error: message" line per diagnostic, for failure messages.
inline std::string Describe(const Diagnostics& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) out += d.ToString() + "\n";
  return out;
}

// kiln.yml text's diagnostics as "LINE:COL: message", for compact assertions; every one must
// name the file ("kiln.yml"), and a config comes back exactly when there are none.
inline std::vector<std::string> KilnConfigErrors(std::string_view text,
                                                 const KilnConfigLimits& limits = {}) {
  ParsedConfig parsed = ParseKilnConfig(text, "kiln.yml", limits);
  EXPECT_EQ(parsed.config.has_value(), parsed.diagnostics.empty());
  std::vector<std::string> out;
  for (const Diagnostic& d : parsed.diagnostics) {
    EXPECT_EQ(d.file, "kiln.yml");
    out.push_back(std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message);
  }
  return out;
}

// kiln.yml text that must be valid (a test failure lists the diagnostics otherwise), read as if
// from file.
inline KilnConfig ValidKilnConfig(std::string_view text, const std::string& file = "kiln.yml") {
  ParsedConfig parsed = ParseKilnConfig(text, file);
  EXPECT_TRUE(parsed.diagnostics.empty()) << Describe(parsed.diagnostics);
  return parsed.config.value_or(KilnConfig{});
}

}  // namespace kiln::spec
