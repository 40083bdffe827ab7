// The REST API under /api/v1, the webhook endpoint, /metrics and /healthz (DESIGN.md
// "Server"). Loop-affine: called on the event loop for each request.
#pragma once

#include <cstdint>
#include <memory>

#include "server/context.h"
#include "server/http_server.h"

namespace kiln::server {

void HandleRequest(ServerContext& ctx, const std::shared_ptr<Exchange>& ex);

// A webhook may carry GitHub's maximum (25 MB); API calls 1 MiB; anything else none.
uint64_t BodyLimitFor(const RequestHead& head);

}  // namespace kiln::server
