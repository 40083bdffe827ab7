// The CLI's side of the REST API (--server URL or $KILN_SERVER; --token or $KILN_TOKEN):
// plain requests and server-sent-event streams over HTTP/1.1 (Boost.Beast, blocking: the CLI
// does one thing at a time).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "cli/context.h"

namespace kiln::cli {

struct ApiResult {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  nlohmann::json Json() const;                 // discarded value if not JSON
};

struct SseEvent {
  std::string id, event, data;
};

class ApiClient {
 public:
  // From --server/KILN_SERVER ("http://HOST:PORT"); kInvalidInput for another scheme.
  static base::Result<ApiClient> FromGlobal(const GlobalOptions& g);
  // kIo when the server cannot be reached (the message names it).
  base::Result<ApiResult> Call(const std::string& method, const std::string& path,
                               const std::string& body = "") const;
  // Reads an event stream until on_event returns false or the server ends it. A refused
  // stream is kInvalidInput (4xx) or kFailed with the server's error message; kIo as Call.
  base::Status Stream(const std::string& path, const std::string& last_event_id,
                      const std::function<bool(const SseEvent&)>& on_event) const;
  const std::string& url() const { return url_; }

 private:
  // "HOST:PORT" as the Host header names it ("[::1]:8080" for IPv6).
  std::string HostHeader() const {
    return (host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_) + ":" + port_;
  }
  std::string url_, host_, port_, token_;
};

// The server's {"error": {...}} message, or the status line.
std::string ErrorMessage(const ApiResult& r);
// Exit code for a failed call: 2 for 4xx (bad input, unknown names, auth), 70 otherwise.
int ExitCodeFor(const ApiResult& r);
// The server URL in effect ("" = act in-process).
std::string ServerUrl(const GlobalOptions& g);

}  // namespace kiln::cli
