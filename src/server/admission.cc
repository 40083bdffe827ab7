#include "server/admission.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace kiln::server {
namespace bhttp = boost::beast::http;

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view View(boost::beast::string_view v) { return {v.data(), v.size()}; }

bool IsMutation(bhttp::verb method) {
  return method == bhttp::verb::post || method == bhttp::verb::put ||
         method == bhttp::verb::patch || method == bhttp::verb::delete_;
}

bool IsRead(bhttp::verb method) {
  return method == bhttp::verb::get || method == bhttp::verb::head;
}

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

// Splits "host:port" / "[v6]:port" / "host"; false for a malformed port.
bool SplitHost(std::string_view value, std::string_view* host, std::string_view* port) {
  *port = {};
  if (value.starts_with('[')) {
    size_t close = value.find(']');
    if (close == std::string_view::npos) return false;
    *host = value.substr(0, close + 1);
    std::string_view rest = value.substr(close + 1);
    if (rest.empty()) return true;
    if (!rest.starts_with(':')) return false;
    *port = rest.substr(1);
  } else {
    size_t colon = value.rfind(':');
    *host = value.substr(0, colon);
    if (colon != std::string_view::npos) *port = value.substr(colon + 1);
  }
  if (value.find(':') != std::string_view::npos && !value.starts_with('[') && port->empty()) {
    return false;  // "host:" with nothing after the colon
  }
  return std::all_of(port->begin(), port->end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
         port->size() <= 5;
}

bool IsIpLiteral(std::string_view host) {
  std::string text(host);
  unsigned char buf[16];
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    return inet_pton(AF_INET6, text.substr(1, text.size() - 2).c_str(), buf) == 1;
  }
  return inet_pton(AF_INET, text.c_str(), buf) == 1;
}

HeadDecision Refuse(unsigned status, const std::string& code, const std::string& message) {
  return {.refusal = JsonError(status, code, message)};
}

HeadDecision Unauthorized(Role needed, bool had_credential, Role have, bool configured) {
  if (!had_credential) {
    Response r =
        JsonError(401, "unauthorized",
                  "this call needs a bearer token with role " + std::string(RoleName(needed)) +
                      (configured ? " (--token or KILN_TOKEN)"
                                  : " (the local token is in the server's state "
                                    "directory, file server-token)"));
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return {.refusal = std::move(r)};
  }
  if (have == Role::kNone) return Refuse(401, "unauthorized", "the bearer token is not valid");
  return Refuse(403, "forbidden",
                "this call needs role " + std::string(RoleName(needed)) + "; the token has " +
                    std::string(RoleName(have)));
}

HeadDecision AdmitWebhook(const RequestHead& head, std::string_view path,
                          const AdmissionPolicy& policy) {
  if (head.method() != bhttp::verb::post) {
    return Refuse(405, "method_not_allowed", "webhooks are POSTed");
  }
  std::string_view connection = path.substr(std::string_view("/webhooks/github/").size());
  if (connection.empty() || connection.find('/') != std::string_view::npos ||
      !policy.webhook_connection || !policy.webhook_connection(connection)) {
    return Refuse(404, "connection_not_found",
                  "no connection with a webhook secret is named in this URL");
  }
  return {.body_limit = policy.limits.webhook_body};
}

// DNS rebinding and cross-site requests: the Host must be this server, the Origin its own.
std::optional<HeadDecision> CheckSite(const RequestHead& head, const AdmissionPolicy& policy) {
  std::string_view host = Trim(View(head[bhttp::field::host]));
  if (host.empty()) return Refuse(400, "bad_request", "the request has no Host header");
  if (!HostAllowed(host, policy.hosts)) {
    return Refuse(403, "forbidden_host",
                  "Host '" + std::string(host.substr(0, 100)) +
                      "' does not name this server (add the name to server.hosts)");
  }
  auto origin = head.find(bhttp::field::origin);
  if (origin == head.end()) return std::nullopt;
  std::string value = Lower(Trim(View(origin->value())));
  std::string own = Lower(host);
  if (value != "http://" + own && value != "https://" + own) {
    return Refuse(
        403, "forbidden_origin",
        "cross-site request refused: Origin '" + value.substr(0, 100) + "' is not this server's");
  }
  return std::nullopt;
}

bool IsJson(const RequestHead& head) {
  std::string_view type = View(head[bhttp::field::content_type]);
  return Lower(Trim(type.substr(0, type.find(';')))) == "application/json";
}

}  // namespace

bool HostAllowed(std::string_view value, const std::vector<std::string>& names) {
  std::string_view host, port;
  if (!SplitHost(value, &host, &port) || host.empty()) return false;
  std::string lower = Lower(host);
  if (lower == "localhost" || IsIpLiteral(lower)) return true;
  std::string with_port = Lower(value);
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& name) { return name == lower || name == with_port; });
}

Role NeededRole(bhttp::verb method, std::string_view path) {
  if (path == "/healthz") return Role::kNone;
  if (path == "/api/v1/server" || path.starts_with("/api/v1/server/")) return Role::kAdmin;
  return IsMutation(method) ? Role::kOperate : Role::kRead;
}

HeadDecision Admit(const RequestHead& head, const AdmissionPolicy& policy) {
  std::string_view path = PathOf(View(head.target()));
  if (path.starts_with("/webhooks/github/")) return AdmitWebhook(head, path, policy);
  if (path == "/healthz" && IsRead(head.method())) return {};
  if (auto refused = CheckSite(head, policy)) return std::move(*refused);
  bhttp::verb method = head.method();
  if (!IsRead(method) && !IsMutation(method)) {
    Response r = JsonError(
        405, "method_not_allowed",
        "method " + std::string(View(head.method_string()).substr(0, 20)) + " is not served here");
    r.headers.emplace_back("Allow", "GET, HEAD, POST");
    return {.refusal = std::move(r)};
  }
  Role needed = NeededRole(method, path);
  auto authorization = View(head[bhttp::field::authorization]);
  Role have = authorization.empty() || policy.auth == nullptr
                  ? (policy.auth ? policy.auth->anonymous() : Role::kNone)
                  : policy.auth->RoleOf(authorization);
  if (have < needed) {
    return Unauthorized(needed, !authorization.empty(), have,
                        policy.auth != nullptr && policy.auth->has_tokens());
  }
  if (!IsMutation(method)) return {};
  if (!IsJson(head)) {
    std::string_view type = View(head[bhttp::field::content_type]);
    return Refuse(415, "unsupported_media_type",
                  "this call needs Content-Type: application/json" +
                      (type.empty() ? std::string(" (none was sent)")
                                    : ", not " + std::string(type.substr(0, 100))));
  }
  return {.body_limit = policy.limits.request_body};
}

}  // namespace kiln::server
