// Who may do what, decided from a request's head alone, before any of its body is read
// (README "Security"):
// - `/healthz` is open; `POST /webhooks/github/{connection}` needs no credential (its
//   signature is checked over the body) but the connection must exist, else 404 at once;
// - everything else must name this server in `Host` (an IP address, localhost, or a name in
//   server.hosts: DNS rebinding) and, when it has an `Origin`, come from the server's own
//   origin (cross-site requests);
// - reads need role read (open unless server.read_requires_token), mutations role operate and
//   `Content-Type: application/json`, the server's settings role admin;
// - the body may be at most the route's limit (none for reads).
// Pure: no I/O, so it is unit-tested and fuzzed on its own.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "server/auth.h"
#include "server/http_server.h"
#include "spec/kiln_config.h"

namespace kiln::server {

struct AdmissionPolicy {
  const Auth* auth = nullptr;
  std::vector<std::string> hosts;  // server.hosts, lower-case, with or without ":PORT"
  spec::ServerLimits limits;
  // True when {connection} names a configured connection that has a webhook secret.
  std::function<bool(std::string_view)> webhook_connection;
};

// The role a request needs, by method and path.
Role NeededRole(boost::beast::http::verb method, std::string_view path);

// The verdict: refused with the answer to send, or the body limit.
HeadDecision Admit(const RequestHead& head, const AdmissionPolicy& policy);

// Whether a Host header value names this server: an IPv4 or bracketed IPv6 literal,
// localhost, or one of `names` (with or without a port). Exposed for tests.
bool HostAllowed(std::string_view host, const std::vector<std::string>& names);

}  // namespace kiln::server
