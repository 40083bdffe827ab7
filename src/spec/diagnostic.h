// Problems found in a user's file, located by line and column (1-based; 0 = unknown).
#pragma once

#include <string>
#include <vector>

namespace kiln::spec {

struct Diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;

  // "FILE:LINE:COL: error: MESSAGE" (line/column left out when unknown).
  std::string ToString() const;
};

using Diagnostics = std::vector<Diagnostic>;

}  // namespace kiln::spec
