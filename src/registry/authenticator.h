#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "core/types.h"
#include "n8n/client.h"
#include "n8n/http.h"
#include "n8n/retry.h"
#include "n8n/token_exchange.h"
#include "registry/signing_keys.h"

namespace fleet::registry {

struct AuthenticatorOptions {
  int subject_ttl_seconds{300};    // lifetime of each subject JWT (n8n caps at 900)
  int refresh_margin_seconds{60};  // re-exchange this long before a cached token expires
  n8n::RetryPolicy retry{};
  // How retries wait; tests pass a recorder instead of sleeping.
  std::function<void(std::chrono::milliseconds)> sleep{};
};

// How the service authenticates to each server: the server's API key, or a bearer token from
// the token exchange (cached per server until shortly before it expires, so back-to-back calls
// exchange once: n8n rate-limits exchanges to 20 a minute per client IP).
//
// The exchange is split in two so that a fleet engine can run it asynchronously:
// BuildExchange() mints a fresh subject JWT (fresh jti) and AcceptExchange() parses and caches.
class Authenticator {
 public:
  Authenticator(Registry& registry, const Clock& clock, AuthenticatorOptions options = {});

  // A cached, still-fresh credential for `server`, without any network call: the API key (always
  // available once resolved) or a cached bearer token. nullopt when an exchange is needed.
  Result<std::optional<n8n::ApiAuth>> Cached(const Server& server);
  Result<n8n::HttpRequest> BuildExchange(const Server& server);
  Result<n8n::ApiAuth> AcceptExchange(const Server& server, const n8n::HttpResponse& response);

  // Blocking convenience: Cached(), else exchange through `transport` with retries (a fresh
  // subject token per attempt).
  //
  // Several threads may call it at once when they pass the same `guard`: it is held around every
  // use of this Authenticator and its registry (one database connection), and released while an
  // exchange is on the wire, so exchanges with different servers overlap. Whoever else uses the
  // registry's store meanwhile must hold `guard` too.
  Result<n8n::ApiAuth> AuthFor(const Server& server, n8n::HttpTransport& transport,
                               std::mutex* guard = nullptr);

  // Forgets a server's cached token (e.g. after the instance answered 401 to it).
  void Forget(const std::string& server_name) { tokens_.erase(server_name); }
  int exchanges() const { return exchanges_; }

 private:
  Registry& registry_;
  SigningKeys keys_;
  const Clock& clock_;
  AuthenticatorOptions options_;
  std::optional<SigningKey> active_;      // the signing key, opened once per Authenticator
  std::optional<crypto::Signer> signer_;  // its parsed private key
  std::map<std::string, n8n::AccessToken> tokens_;
  std::map<std::string, n8n::ApiAuth> api_keys_;
  int exchanges_{0};
};

}  // namespace fleet::registry
