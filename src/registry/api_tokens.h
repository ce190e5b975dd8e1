#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/types.h"
#include "storage/store.h"

namespace fleet::registry {

// A token as created: the plaintext is returned once and only its hash is stored.
struct IssuedToken {
  ApiToken token{};
  std::string plaintext{};  // "nft_" + 43 base64url characters (32 random bytes)
};

// Creates an API token (server "") or a server's report token. Names follow ValidateName.
Result<IssuedToken> IssueApiToken(storage::Store& store, const std::string& name, bool read_only,
                                  const std::string& server, int64_t now);

// Lower-case hex SHA-256 of a token's plaintext: what the store keeps.
std::string HashToken(std::string_view plaintext);

// The live token a bearer value belongs to: kPermissionDenied ("invalid or revoked token") for
// an unknown, malformed or revoked one. Does not record the use (callers throttle TouchApiToken).
Result<ApiToken> AuthenticateToken(storage::Store& store, std::string_view plaintext);

}  // namespace fleet::registry
