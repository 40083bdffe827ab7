// A minimal HTTP/1.0 GET over TCP, for one question: does something answer at HOST:PORT, and
// with which status? (The registry is ready when GET /v2/ answers 401: it serves and wants
// credentials.)
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace kiln::registry {

// Sends "GET path" to address (HOST:PORT or [V6]:PORT; a wildcard host means this machine's
// loopback) and returns the response's status code. Failures (refused, timed out,
// no HTTP reply) are errors. Never throws.
base::Result<int> HttpGetStatus(const std::string& address, const std::string& path,
                                int64_t timeout_ms = 2000);

}  // namespace kiln::registry
