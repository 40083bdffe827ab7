// Kiln's typed Docker values to and from the Engine API's JSON and query strings. Pure: no I/O,
// unit-tested without an engine. Decoders validate every field they read: an answer of the
// wrong shape is a kFailed Status ("docker: malformed answer ..."), never an exception.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "exec/docker_host.h"
#include "exec/docker_types.h"

namespace kiln::exec {

// RFC 4648 §5 base64url with padding, as the engine's X-Registry-Auth decoder wants it (a
// header that does not decode silently means empty credentials: DOCKER-ENGINE.md fact 7).
std::string Base64UrlEncode(std::string_view bytes);

// The X-Registry-Auth value for auth; base64url("{}") (anonymous) for an empty one.
std::string RegistryAuthHeader(const RegistryAuth& auth);

// Percent-encodes everything but RFC 3986 unreserved characters, for a query value.
std::string QueryEscape(std::string_view value);

// Escapes an image name or container id for a URL path: as QueryEscape, but '/', ':' and '@'
// stay (the engine's routes take "repo/name:tag" as it is).
std::string PathEscape(std::string_view name);

// The `filters` JSON selecting containers by label: {"label":["k=v","k2"]} (ANDed). An empty
// value selects by the key alone (any value).
std::string LabelFilterJson(const std::map<std::string, std::string>& labels);

// The `filters` JSON of GET /events for the container events of containers carrying every
// label: {"type":["container"],"label":["k=v","k2"]} (labels as in LabelFilterJson).
std::string ContainerEventFilterJson(const std::map<std::string, std::string>& labels);
// The same for a Swarm service's own events (a manager's: create, update, remove), by name:
// {"type":["service"],"service":["<name>"]}. The engine matches the name as a prefix.
std::string ServiceEventFilterJson(const std::string& service);

// The body of POST /containers/create.
nlohmann::json ContainerCreateBody(const ContainerSpec& spec);

// An image reference split for POST /images/create: fromImage and tag. A reference without a
// tag or digest gets "latest": without one, the engine pulls every tag (fact 7).
struct ImageRefParts {
  std::string repository;
  std::string tag;  // a tag, or a digest "sha256:..."
};
base::Result<ImageRefParts> SplitImageRef(std::string_view ref);

// Decoders of the engine's answers (the text as received).
// GET /version, read before any version is chosen (an unversioned path).
base::Result<EngineVersion> ParseEngineVersion(std::string_view text);
base::Result<ImageInfo> ParseImageInfo(std::string_view text);
base::Result<ContainerInfo> ParseContainerInfo(std::string_view text);
base::Result<std::vector<ContainerSummary>> ParseContainerList(std::string_view text);
// An engine timestamp (RFC 3339 in UTC, up to ns: "2026-12-07T17:43:28.123456789Z") as ns
// since the epoch; 0 for Go's zero time ("0001-01-01T00:00:00Z", never happened).
base::Result<int64_t> ParseEngineTime(std::string_view text);
// {"Id": ...} from create.
base::Result<std::string> ParseCreatedId(std::string_view text);
// {"StatusCode": N, "Error": null|{"Message"}} from wait: the exit code, or kFailed.
base::Result<int> ParseWaitAnswer(std::string_view text);

// The message of an engine error body: {"message": ...} or plain text (a failed hijack
// answers in plain text), trimmed and capped.
std::string EngineErrorMessage(std::string_view body);

}  // namespace kiln::exec
