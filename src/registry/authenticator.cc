#include "registry/authenticator.h"

#include <thread>

#include "core/jwt.h"

namespace fleet::registry {

Authenticator::Authenticator(Registry& registry, const Clock& clock, AuthenticatorOptions options)
    : registry_(registry), keys_(registry), clock_(clock), options_(std::move(options)) {
  if (!options_.sleep) {
    options_.sleep = [](std::chrono::milliseconds pause) { std::this_thread::sleep_for(pause); };
  }
}

Result<std::optional<n8n::ApiAuth>> Authenticator::Cached(const Server& server) {
  if (server.auth == AuthMode::kApiKey) {
    auto found = api_keys_.find(server.name);
    if (found != api_keys_.end()) return std::optional<n8n::ApiAuth>(found->second);
    auto key = registry_.ResolveServerKey(server.name);
    if (!key) return tl::unexpected(key.error());
    auto auth = n8n::ApiAuth::ApiKey(key->second);
    api_keys_.emplace(server.name, auth);
    return std::optional<n8n::ApiAuth>(auth);
  }
  auto token = tokens_.find(server.name);
  if (token != tokens_.end() &&
      token->second.expires_at - options_.refresh_margin_seconds > clock_.NowUnixSeconds()) {
    return std::optional<n8n::ApiAuth>(n8n::ApiAuth::Bearer(token->second.token));
  }
  return std::optional<n8n::ApiAuth>();
}

Result<n8n::HttpRequest> Authenticator::BuildExchange(const Server& server) {
  if (!active_) {
    auto active = keys_.OpenActive();
    if (!active) {
      return tl::unexpected(
          WithContext(active.error(), "server '" + server.name +
                                          "' uses token exchange, but no signing key "
                                          "is active"));
    }
    auto signer = crypto::Signer::Create(active->second);
    if (!signer) return tl::unexpected(signer.error());
    signer_.emplace(std::move(*signer));
    active_ = std::move(active->first);
  }
  const SigningKey& key = *active_;
  n8n::SubjectIdentity who{key.issuer, SubjectEmailFor(server, key.issuer), SubjectRoleFor(server)};
  auto claims =
      n8n::SubjectClaims(who, server.url, clock_.NowUnixSeconds(), options_.subject_ttl_seconds,
                         Base64UrlEncode(crypto::RandomBytes(16)));
  auto jwt = signer_->Sign(key.kid, claims);
  if (!jwt) return tl::unexpected(jwt.error());
  return n8n::TokenExchangeRequest({server.url, !server.skip_tls_verify}, *jwt);
}

Result<n8n::ApiAuth> Authenticator::AcceptExchange(const Server& server,
                                                   const n8n::HttpResponse& response) {
  ++exchanges_;
  auto token = n8n::ParseTokenExchangeResponse(response, server.name, clock_.NowUnixSeconds());
  if (!token) return tl::unexpected(token.error());
  tokens_[server.name] = *token;
  return n8n::ApiAuth::Bearer(token->token);
}

Result<n8n::ApiAuth> Authenticator::AuthFor(const Server& server, n8n::HttpTransport& transport,
                                            std::mutex* guard) {
  auto locked = [guard]() {
    return guard != nullptr ? std::unique_lock<std::mutex>(*guard) : std::unique_lock<std::mutex>();
  };
  {
    auto lock = locked();
    auto cached = Cached(server);
    if (!cached) return tl::unexpected(cached.error());
    if (*cached) return **cached;
  }
  std::optional<Error> local_error;
  auto response = n8n::WithRetries(
      options_.retry,
      [&](int) -> Result<n8n::HttpResponse> {
        Result<n8n::HttpRequest> request = [&] {
          auto lock = locked();
          return BuildExchange(server);
        }();
        if (!request) {
          local_error = request.error();
          return tl::unexpected(request.error());
        }
        return transport.Send(*request);
      },
      options_.sleep);
  if (local_error) return tl::unexpected(*local_error);
  if (!response) {
    return tl::unexpected(
        WithContext(response.error(), "token exchange with '" + server.name + "'"));
  }
  auto lock = locked();
  return AcceptExchange(server, *response);
}

}  // namespace fleet::registry
