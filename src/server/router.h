// Request targets: path segments (percent-decoded) and the query string.
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_server.h"

namespace kiln::server {

struct Target {
  std::vector<std::string> segments;  // "/api/v1/pipelines/x" -> {"api","v1","pipelines","x"}
  std::map<std::string, std::string> query;
  bool Is(std::initializer_list<std::string_view> pattern) const;  // "*" matches any segment
  std::string Query(const std::string& key, const std::string& fallback = "") const;
};

// nullopt-like: ok=false for a malformed percent-escape.
bool ParseTarget(std::string_view target, Target* out);

Response JsonResponse(unsigned status, const nlohmann::json& body);

}  // namespace kiln::server
