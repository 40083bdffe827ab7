// libFuzzer target for the API's request bodies (api_intake.h): the first byte picks the
// parser, the rest is the body. No body may crash, hang or throw; a body that parses must
// also survive the stored build request's round trip.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "server/api_intake.h"

namespace {

using nlohmann::json;
namespace server = kiln::server;

void ParseAs(uint8_t which, std::string_view text) {
  json body = json::parse(text, nullptr, false);
  switch (which % 9) {
    case 0:
      (void)server::ParseStartExecutionRequest(body);
      break;
    case 1:
      (void)server::ParseStopExecutionRequest(body);
      break;
    case 2:
      (void)server::ParseRetryStageRequest(body);
      break;
    case 3:
      (void)server::ParseApprovalRequest(body);
      break;
    case 4: {
      auto r = server::ParseStartBuildRequest(body);
      if (!r.ok()) break;
      auto back = server::ParseStoredBuildRequest(
          server::StoredBuildRequestJson({.project_name = "p", .start = *r}));
      if (!back.ok()) __builtin_trap();  // what intake accepted must be runnable
      break;
    }
    case 5:
      (void)server::ParseDeployRequest(body);
      break;
    case 6:
      (void)server::ParseRollbackRequest(body);
      break;
    case 7:
      (void)server::ParseScaleRequest(body);
      break;
    default:
      (void)server::ParseStoredBuildRequest(text);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  ParseAs(data[0], std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
