// The REST API under /api/v1, the webhook endpoint, /metrics and /healthz (DESIGN.md
// "Server"). Loop-affine: called on the event loop for each request.
#pragma once

#include <cstdint>
#include <memory>

#include "server/context.h"
#include "server/http_server.h"

namespace kiln::server {

void HandleRequest(ServerContext& ctx, const std::shared_ptr<Exchange>& ex);

struct AdmissionPolicy;
// The HTTP server's head check: admission.h's verdict, counted in the metrics.
HeadDecision AdmitRequest(ServerContext& ctx, const AdmissionPolicy& policy,
                          const RequestHead& head);

}  // namespace kiln::server
