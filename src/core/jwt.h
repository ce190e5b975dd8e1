#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace fleet {

std::string Base64UrlEncode(std::string_view bytes);                // no padding
std::optional<std::string> Base64UrlDecode(std::string_view text);  // padding optional

// What can be read from a JWT without verifying it (n8n API keys are JWTs).
struct JwtPeek {
  std::string header_json{};
  std::string payload_json{};
  std::optional<int64_t> issued_at{};   // iat
  std::optional<int64_t> expires_at{};  // exp
};

// Checks the JWT shape (three non-empty base64url parts, header and payload JSON objects) and
// reads iat/exp (absent when missing, not a number or beyond 64-bit seconds). The error message
// says which part is wrong. Never echoes the token.
Result<JwtPeek> PeekJwt(std::string_view token);

}  // namespace fleet
