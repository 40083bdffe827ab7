// Bearer tokens for the API (DESIGN.md "Server"): tokens are stored as SHA-256 digests; a
// request's token is hashed and compared in constant time with each. Roles: read < operate <
// admin. Webhooks never use tokens (their signature authenticates them).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "spec/kiln_config.h"

namespace kiln::server {

enum class Role { kNone = 0, kRead = 1, kOperate = 2, kAdmin = 3 };
std::string_view RoleName(Role role);

std::string Sha256Hex(std::string_view data);

class Auth {
 public:
  // Resolves tokens given by reference ({env:}/{file:}) and hashes them. Errors name the token.
  static base::Result<Auth> FromConfig(const spec::KilnConfig& config);
  // The role an `Authorization` header grants (kNone without a valid bearer token).
  Role RoleOf(std::string_view authorization) const;
  // What a request without a token may do: read, unless server.read_requires_token; and
  // operate when no token is configured at all and the server listens on loopback only
  // (a single-user machine: see AllowAnonymousOperate).
  Role anonymous() const {
    if (anonymous_operate_) return Role::kOperate;
    return read_requires_token_ ? Role::kNone : Role::kRead;
  }
  // Called by the daemon once it knows its listen address.
  void AllowAnonymousOperate(bool allow) { anonymous_operate_ = allow && tokens_.empty(); }
  bool has_tokens() const { return !tokens_.empty(); }

 private:
  struct Token {
    std::string name;
    Role role;
    std::string digest;  // 32 raw bytes
  };
  std::vector<Token> tokens_;
  bool read_requires_token_ = false;
  bool anonymous_operate_ = false;
};

}  // namespace kiln::server
