#include "service/api_jwks.h"

#include "crypto/signing.h"

namespace fleet::service {

Result<nlohmann::json> BuildJwks(storage::Store& store) {
  auto keys = store.ListSigningKeys();
  if (!keys) return tl::unexpected(WithContext(keys.error(), "listing signing keys"));
  nlohmann::json jwks = {{"keys", nlohmann::json::array()}};
  for (const auto& key : *keys) {
    if (key.state == SigningKeyState::kRetired) continue;
    auto alg = crypto::ParseSigningAlg(key.alg);
    if (!alg) return tl::unexpected(WithContext(alg.error(), "signing key " + key.kid));
    auto jwk = crypto::PublicJwk({*alg, "", key.public_pem}, key.kid);
    if (!jwk) return tl::unexpected(WithContext(jwk.error(), "signing key " + key.kid));
    jwks["keys"].push_back(std::move(*jwk));
  }
  return jwks;
}

}  // namespace fleet::service
