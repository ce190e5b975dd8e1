#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/types.h"
#include "crypto/signing.h"
#include "registry/registry.h"

namespace fleet::registry {

inline constexpr char kDefaultIssuer[] = "https://n8n-fleet.local";
inline constexpr char kDefaultRole[] = "global:admin";

struct NewSigningKey {
  crypto::SigningAlg alg{crypto::SigningAlg::kES256};
  std::string kid{};     // "" = "fleet-<YYYYMMDD>-<6 hex>"
  std::string issuer{};  // "" = the active key's issuer, else kDefaultIssuer
  bool activate{false};  // the first key is always activated
};

// The service's token-exchange key pairs: generated or imported here, private halves sealed
// under the master key like API keys.
class SigningKeys {
 public:
  explicit SigningKeys(Registry& registry) : registry_(registry) {}

  Result<SigningKey> Generate(const NewSigningKey& spec);
  Result<SigningKey> Import(const std::string& private_pem, const NewSigningKey& spec);
  // The active key with its private half opened, ready to sign.
  Result<std::pair<SigningKey, crypto::KeyPair>> OpenActive();
  // Keys instances should trust: active and standby (not retired), oldest first.
  Result<std::vector<SigningKey>> Published();

 private:
  Result<SigningKey> Store(const crypto::KeyPair& pair, const NewSigningKey& spec);
  Registry& registry_;
};

// The identity a server's subject tokens carry: its own settings or the defaults
// (usage-tracker@<issuer host>, global:admin).
std::string SubjectEmailFor(const Server& server, const std::string& issuer);
std::string SubjectRoleFor(const Server& server);

// One N8N_TOKEN_EXCHANGE_TRUSTED_KEYS entry (static form, with the `algorithms` n8n requires).
nlohmann::json TrustedKeyEntry(const SigningKey& key, const std::vector<std::string>& roles,
                               const std::string& expected_audience);

}  // namespace fleet::registry
