// A small HTTP/1.1 client for the end-to-end tests (Boost.Beast, blocking, 127.0.0.1 only),
// and GitHub's webhook signature computed independently of Kiln's code (OpenSSL HMAC).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kiln::e2e {

struct HttpReply {
  int status = 0;  // 0: no answer (connection failed or closed)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
};

HttpReply Http(uint16_t port, const std::string& method, const std::string& target,
               const std::string& body = "",
               const std::vector<std::pair<std::string, std::string>>& headers = {});

// Sends raw bytes and returns what the server answered before closing (or timeout_ms).
std::string RawExchange(uint16_t port, const std::string& bytes, int timeout_ms = 5000);

// Reads an SSE stream; on_event(type, id, data) returns false to stop. Stops after timeout_ms.
void ReadEvents(
    uint16_t port, const std::string& target, const std::string& last_event_id,
    const std::function<bool(const std::string&, const std::string&, const std::string&)>& on_event,
    int timeout_ms = 30000);

// "sha256=<hex>" of HMAC-SHA256(secret, body).
std::string SignGithub(const std::string& secret, const std::string& body);

}  // namespace kiln::e2e
