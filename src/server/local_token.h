// The local operator's token: with no tokens in kiln.yml, `kiln serve` keeps a random token in
// `<state-dir>/server-token` (0600) and accepts it with role admin; the CLI on the same machine
// reads it from there (cli/api_client.cc), so the local workflow needs no set-up and no
// mutation is ever anonymous. `<state-dir>/server.json` records the address the server
// listens on, so the CLI sends the token only to that server.
#pragma once

#include <filesystem>
#include <string>

#include "base/status.h"

namespace kiln::server {

inline constexpr char kLocalTokenFile[] = "server-token";
inline constexpr char kServerInfoFile[] = "server.json";

// Reads the token, or makes one (32 random bytes, hex) if there is none. Refuses a token file
// that others may read (it would not be a secret) or that is not 64 hex digits.
base::Result<std::string> LoadOrCreateLocalToken(const std::filesystem::path& state_dir);
// Replaces the token with a new one (written beside it, then renamed).
base::Result<std::string> RotateLocalToken(const std::filesystem::path& state_dir);
// Writes server.json ({"url": "http://ADDRESS", "pid": N}), 0600.
base::Status WriteServerInfo(const std::filesystem::path& state_dir, const std::string& address);

}  // namespace kiln::server
