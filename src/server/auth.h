// Bearer tokens for the API (DESIGN.md "Security"): tokens are stored as SHA-256 digests; a
// request's token is hashed and compared in constant time with each. Roles: read < operate <
// admin (admin: the server's settings and the local token). Without tokens in kiln.yml the
// server makes a local token (local_token.h) with role admin, the machine's operator's.
// Webhooks never use tokens (their signature authenticates them).
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
  // What a request without a token may do: read, unless server.read_requires_token. Never
  // more: every mutation carries a credential.
  Role anonymous() const { return read_requires_token_ ? Role::kNone : Role::kRead; }
  // Tokens from kiln.yml (the local token aside).
  bool has_tokens() const { return configured_ > 0; }
  // Accepts `token` with role admin as "local" (replacing an earlier local token).
  void SetLocalToken(std::string_view token);
  struct TokenInfo {
    std::string name;
    Role role;
  };
  std::vector<TokenInfo> Describe() const;  // names and roles, never digests

 private:
  struct Token {
    std::string name;
    Role role;
    std::string digest;  // 32 raw bytes
    bool local = false;  // made by the server (local_token.h), not from kiln.yml
  };
  std::vector<Token> tokens_;
  size_t configured_ = 0;
  bool read_requires_token_ = false;
};

}  // namespace kiln::server
