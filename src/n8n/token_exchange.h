#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "n8n/client.h"
#include "n8n/http.h"

namespace fleet::n8n {

// n8n's OAuth 2.0 Token Exchange (RFC 8693), as n8n 2.40.7 implements it (n8n-reference.md
// section 1). Every path, claim and error of that contract lives in this file and its .cc.

inline constexpr char kTokenExchangePath[] = "/rest/auth/oauth/token";
inline constexpr int kMaxSubjectTtlSeconds = 900;  // n8n caps issued tokens at 15 minutes

// Who the service is to an instance.
struct SubjectIdentity {
  std::string issuer{};  // the trusted key's issuer (a URL)
  std::string email{};   // the service identity n8n provisions on first exchange
  std::string role{};    // e.g. "global:admin" (needed for insights:read)
};

// The subject token's claims: iss, sub (= email), aud (= the instance's base URL: a token
// captured by one instance is refused by another), iat, exp (= iat + ttl, ttl clamped to 1..900),
// jti (unique: a fresh one for every attempt, n8n consumes it even on failure), email,
// email_verified = true, role.
nlohmann::json SubjectClaims(const SubjectIdentity& who, const std::string& audience, int64_t now,
                             int ttl_seconds, const std::string& jti);

// POST <base>/rest/auth/oauth/token, form-encoded: grant_type=...token-exchange,
// subject_token=<jwt>, subject_token_type=...jwt.
HttpRequest TokenExchangeRequest(const Endpoint& endpoint, const std::string& subject_jwt);

struct AccessToken {
  std::string token{};
  int64_t expires_at{};  // unix seconds: now + expires_in
};

// 200 -> the token. Otherwise an actionable error naming `server`:
//   404 -> kFailedPrecondition: the module is not loaded (enterprise licence feat:tokenExchange,
//          N8N_ENV_FEAT_TOKEN_EXCHANGE=true);
//   501 -> kFailedPrecondition: N8N_TOKEN_EXCHANGE_ENABLED is off;
//   400 invalid_grant -> kUnauthenticated listing the likely causes (public key not trusted,
//          kid/issuer mismatch, clock skew, email not verified, role not in allowedRoles,
//          owner as subject, replayed jti), with `n8n-fleet key env` as the fix; when the
//          response's Date header is a minute or more away from `now`, it says the clocks
//          differ, by how much, and to synchronise them instead;
//   400 invalid_request / unsupported_grant_type -> kBadResponse with n8n's description;
//   429 -> kRateLimited, with Retry-After seconds in the message;
//   5xx -> kUnavailable; a 200 without access_token/expires_in -> kBadResponse.
Result<AccessToken> ParseTokenExchangeResponse(const HttpResponse& response,
                                               std::string_view server, int64_t now);

// Seconds from a Retry-After header (delta-seconds only), or -1.
int RetryAfterSeconds(const HttpResponse& response);

}  // namespace fleet::n8n
