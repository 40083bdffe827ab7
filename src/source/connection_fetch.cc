#include "source/connection_fetch.h"

namespace kiln::source {

base::Result<FetchOptions> ConnectionFetchOptions(const spec::KilnConfig& config,
                                                  const spec::Connection& conn) {
  FetchOptions fetch;
  fetch.url = conn.url;
  if (conn.token.kind != spec::ValueRef::Kind::kNone) {
    auto token = spec::ResolveValue(conn.token, config);
    if (!token.ok) return base::InvalidInput("connection " + conn.name + ": " + token.error);
    fetch.token = token.value;
  }
  if (conn.ssh_key.kind != spec::ValueRef::Kind::kNone) fetch.ssh_key_path = conn.ssh_key.text;
  return fetch;
}

}  // namespace kiln::source
