// The server's own settings, for role admin: what it listens on, the names it answers to, its
// limits and who holds which role (names only; digests and tokens never leave the server);
// and rotation of the local operator's token.
#include "server/api_handlers.h"
#include "server/local_token.h"

namespace kiln::server {
namespace {

using nlohmann::json;

json LimitsJson(const spec::ServerLimits& l) {
  return {{"request_body", l.request_body},
          {"webhook_body", l.webhook_body},
          {"inflight_bodies", l.inflight_bodies},
          {"connections", l.connections},
          {"event_streams", l.event_streams},
          {"event_streams_per_client", l.event_streams_per_client},
          {"header_timeout_ms", l.header_timeout_ms},
          {"write_timeout_ms", l.write_timeout_ms},
          {"bundle_bytes", l.bundle_bytes},
          {"bundle_entries", l.bundle_entries}};
}

void Describe(ServerContext& ctx, const ExchangePtr& ex) {
  json tokens = json::array();
  for (const auto& t : ctx.auth.Describe()) {
    tokens.push_back({{"name", t.name}, {"role", RoleName(t.role)}});
  }
  const spec::ServerSettings& s = ctx.config.server;
  ex->Reply(JsonResponse(200, {{"listen", s.listen},
                               {"hosts", s.hosts},
                               {"readRequiresToken", s.read_requires_token},
                               {"limits", LimitsJson(s.limits)},
                               {"tokens", tokens},
                               {"localToken", !ctx.auth.has_tokens()}}));
}

void RotateLocal(ServerContext& ctx, const ExchangePtr& ex) {
  if (ctx.auth.has_tokens()) {
    ex->Reply(JsonError(409, "no_local_token",
                        "kiln.yml names tokens, so the server keeps no local token"));
    return;
  }
  auto token = RotateLocalToken(ctx.state_dir);
  if (!token.ok()) {
    ex->Reply(JsonError(500, "io", token.status().message()));
    return;
  }
  ctx.auth.SetLocalToken(*token);
  ex->Reply(
      JsonResponse(200, {{"rotated", true}, {"file", (ctx.state_dir / kLocalTokenFile).string()}}));
}

}  // namespace

bool RouteServerSettings(ServerContext& ctx, const ExchangePtr& ex, const Target& t) {
  if (t.Is({"api", "v1", "server"}) && IsGet(ex)) {
    Describe(ctx, ex);
  } else if (t.Is({"api", "v1", "server", "local-token", "rotate"}) && IsPost(ex)) {
    RotateLocal(ctx, ex);
  } else {
    return false;
  }
  return true;
}

}  // namespace kiln::server
