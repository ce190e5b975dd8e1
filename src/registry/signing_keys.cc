#include "registry/signing_keys.h"

#include "core/text.h"
#include "core/time.h"
#include "core/url.h"

namespace fleet::registry {
namespace {

std::string DefaultKid(int64_t now) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string day = FormatDay(DayOf(now));
  std::string kid = "fleet-" + day.substr(0, 4) + day.substr(5, 2) + day.substr(8, 2) + "-";
  for (unsigned char c : crypto::RandomBytes(3)) {
    kid.push_back(kHex[c >> 4]);
    kid.push_back(kHex[c & 0xF]);
  }
  return kid;
}

}  // namespace

Result<SigningKey> SigningKeys::Generate(const NewSigningKey& spec) {
  auto pair = crypto::GenerateKeyPair(spec.alg);
  if (!pair) return tl::unexpected(pair.error());
  return Store(*pair, spec);
}

Result<SigningKey> SigningKeys::Import(const std::string& private_pem, const NewSigningKey& spec) {
  auto pair = crypto::ImportPrivateKeyPem(private_pem);
  if (!pair) return tl::unexpected(pair.error());
  return Store(*pair, spec);
}

Result<SigningKey> SigningKeys::Store(const crypto::KeyPair& pair, const NewSigningKey& spec) {
  auto& store = registry_.store();
  auto existing = store.ListSigningKeys();
  if (!existing) return tl::unexpected(existing.error());
  std::optional<SigningKey> active;
  for (const auto& key : *existing) {
    if (key.state == SigningKeyState::kActive) active = key;
  }
  SigningKey key;
  key.kid = spec.kid.empty() ? DefaultKid(registry_.now()) : spec.kid;
  if (auto ok = ValidateName(key.kid, "key id"); !ok) return tl::unexpected(ok.error());
  key.issuer = !spec.issuer.empty() ? spec.issuer : active ? active->issuer : kDefaultIssuer;
  if (auto url = ParseUrl(key.issuer); !url) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the issuer must be a URL (n8n requires it): " + url.error().message);
  }
  key.alg = std::string(crypto::SigningAlgName(pair.alg));
  key.public_pem = pair.public_pem;
  key.sealed_private_key = registry_.sealer().Seal(pair.private_pem);
  key.state = spec.activate || !active ? SigningKeyState::kActive : SigningKeyState::kStandby;
  return store.CreateSigningKey(key, registry_.now());
}

Result<std::pair<SigningKey, crypto::KeyPair>> SigningKeys::OpenActive() {
  auto key = registry_.store().GetActiveSigningKey();
  if (!key) return tl::unexpected(key.error());
  auto pem = registry_.sealer().Open(key->sealed_private_key);
  if (!pem) return tl::unexpected(WithContext(pem.error(), "signing key '" + key->kid + "'"));
  auto alg = crypto::ParseSigningAlg(key->alg);
  if (!alg) return tl::unexpected(alg.error());
  crypto::KeyPair pair{*alg, *pem, key->public_pem};
  return std::pair{*key, pair};
}

Result<std::vector<SigningKey>> SigningKeys::Published() {
  auto keys = registry_.store().ListSigningKeys();
  if (!keys) return keys;
  std::vector<SigningKey> published;
  for (auto& key : *keys) {
    if (key.state != SigningKeyState::kRetired) published.push_back(std::move(key));
  }
  return published;
}

std::string SubjectEmailFor(const Server& server, const std::string& issuer) {
  if (!server.subject_email.empty()) return server.subject_email;
  auto url = ParseUrl(issuer);
  return "usage-tracker@" + (url ? url->host : std::string("n8n-fleet.local"));
}

std::string SubjectRoleFor(const Server& server) {
  return server.subject_role.empty() ? kDefaultRole : server.subject_role;
}

nlohmann::json TrustedKeyEntry(const SigningKey& key, const std::vector<std::string>& roles,
                               const std::string& expected_audience) {
  nlohmann::json entry = {{"type", "static"},        {"kid", key.kid},
                          {"algorithms", {key.alg}}, {"key", key.public_pem},
                          {"issuer", key.issuer},    {"allowedRoles", roles}};
  if (!expected_audience.empty()) entry["expectedAudience"] = expected_audience;
  return entry;
}

}  // namespace fleet::registry
