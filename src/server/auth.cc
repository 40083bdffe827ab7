#include "server/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/hex.h"

namespace kiln::server {
namespace {

std::string Digest(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), n);
}

std::string FromHex(std::string_view hex) {
  std::string out;
  if (hex.size() % 2 != 0) return out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

Role ParseRole(const std::string& role) {
  if (role == "admin") return Role::kAdmin;
  if (role == "operate") return Role::kOperate;
  if (role == "read") return Role::kRead;
  return Role::kNone;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kOperate:
      return "operate";
    case Role::kRead:
      return "read";
    case Role::kNone:
      break;
  }
  return "none";
}

std::string Sha256Hex(std::string_view data) { return base::HexEncode(Digest(data)); }

base::Result<Auth> Auth::FromConfig(const spec::KilnConfig& config) {
  Auth auth;
  auth.read_requires_token_ = config.server.read_requires_token;
  for (const auto& t : config.server.tokens) {
    Token token{.name = t.name, .role = ParseRole(t.role)};
    if (token.role == Role::kNone) {
      return base::InvalidInput("token '" + t.name + "': role must be read, operate or admin");
    }
    if (!t.sha256.empty()) {
      token.digest = FromHex(t.sha256);
      if (token.digest.size() != 32) {
        return base::InvalidInput("token '" + t.name + "': sha256 must be 64 hex digits");
      }
    } else {
      auto value = spec::ResolveValue(t.token, config);
      if (!value.ok) return base::InvalidInput("token '" + t.name + "': " + value.error);
      token.digest = Digest(value.value);
    }
    auth.tokens_.push_back(std::move(token));
  }
  auth.configured_ = auth.tokens_.size();
  return auth;
}

void Auth::SetLocalToken(std::string_view token) {
  std::erase_if(tokens_, [](const Token& t) { return t.name == "local" && t.local; });
  tokens_.push_back(
      {.name = "local", .role = Role::kAdmin, .digest = Digest(token), .local = true});
}

std::vector<Auth::TokenInfo> Auth::Describe() const {
  std::vector<TokenInfo> out;
  for (const auto& t : tokens_) out.push_back({t.name, t.role});
  return out;
}

Role Auth::RoleOf(std::string_view authorization) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization.starts_with(kBearer)) return Role::kNone;
  std::string digest = Digest(authorization.substr(kBearer.size()));
  Role best = Role::kNone;
  for (const auto& t : tokens_) {
    // Every token is compared (no early exit), in constant time.
    if (CRYPTO_memcmp(digest.data(), t.digest.data(), 32) == 0 && t.role > best) best = t.role;
  }
  return best;
}

}  // namespace kiln::server
