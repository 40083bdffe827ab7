// /api/v1/services...: DescribeServices-shaped answers and deployments (deploy/).
#include "server/api_handlers.h"

namespace kiln::server {

bool RouteServices(ServerContext& ctx, const ExchangePtr& ex, const Target& t) {
  if (t.segments.size() < 3 || t.segments[2] != "services") return false;
  if (!ctx.services) {
    if (t.Is({"api", "v1", "services"}) && IsGet(ex)) {
      ex->Reply(JsonResponse(200, {{"services", nlohmann::json::array()}}));
    } else {
      ex->Reply(JsonError(404, "service_not_found", "this server runs no services"));
    }
    return true;
  }
  return false;
}

}  // namespace kiln::server
