// Flat name -> value files: `--params-file` (parameter name -> value) and `--secrets-file`
// (secret id -> SecretString), written as YAML (or JSON) mappings of strings.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "spec/diagnostic.h"

namespace kiln::spec {

struct ParsedValueMap {
  std::map<std::string, std::string> values;
  Diagnostics diagnostics;
};

// Scalars keep their source text; a non-scalar value is an error naming its line and column.
ParsedValueMap ParseValueMap(std::string_view text, const std::string& file);

}  // namespace kiln::spec
