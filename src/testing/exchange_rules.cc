// n8n 2.40.7's token exchange (RFC 8693) checks (n8n-reference.md section 1), shared by the fake
// n8n and the fake fleet. The subject JWT is verified here directly with OpenSSL, independently
// of the product's signing code, so a bug there cannot hide behind the same bug here.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "core/jwt.h"
#include "core/url.h"
#include "testing/n8n_rules.h"

namespace fleet::testing::rules {
namespace {

constexpr char kGrantType[] = "urn:ietf:params:oauth:grant-type:token-exchange";
constexpr char kIssuedTokenType[] = "urn:ietf:params:oauth:token-type:access_token";

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

std::shared_ptr<EVP_PKEY> ReadPublicKey(const std::string& pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) return nullptr;
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

// JOSE ES256 signatures are r||s (32 bytes each); OpenSSL verifies DER ECDSA-Sig-Value.
std::optional<std::string> RawEcdsaToDer(std::string_view raw) {
  if (raw.size() != 64) return std::nullopt;
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  int size = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (size <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_ECDSA_SIG(sig.get(), &out);
  return der;
}

// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) or ES256 (ECDSA P-256 with SHA-256).
bool VerifySignature(EVP_PKEY* key, std::string_view alg, std::string_view signed_part,
                     std::string_view signature) {
  std::string sig(signature);
  if (alg == "RS256") {
    if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA) return false;
  } else if (alg == "ES256") {
    if (EVP_PKEY_base_id(key) != EVP_PKEY_EC || EVP_PKEY_get_bits(key) != 256) return false;
    std::optional<std::string> der = RawEcdsaToDer(signature);
    if (!der) return false;
    sig = *der;
  } else {
    return false;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(signed_part.data()),
                          signed_part.size()) == 1;
}

bool IsIntegral(const Json& value) { return value.is_number_integer(); }

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool SameEmail(std::string a, std::string b) {
  auto lower = [](std::string& s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  };
  lower(a);
  lower(b);
  return a == b;
}

bool AudienceMatches(const Json& aud, const std::string& expected) {
  if (aud.is_string()) return aud.get<std::string>() == expected;
  if (!aud.is_array()) return false;
  return std::any_of(aud.begin(), aud.end(), [&](const Json& entry) {
    return entry.is_string() && entry.get<std::string>() == expected;
  });
}

std::string StringOr(const Json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

ExchangeAnswer OAuthError(const char* error, const char* description, std::string reason = "") {
  return {400, Json{{"error", error}, {"error_description", description}}, {std::move(reason)}, ""};
}

}  // namespace

Keyring::Keyring() = default;
Keyring::~Keyring() = default;
Keyring::Keyring(Keyring&&) noexcept = default;
Keyring& Keyring::operator=(Keyring&&) noexcept = default;

std::string Keyring::Add(const TrustedKey& key) {
  if (key.kid.empty() || key.issuer.empty()) return "kid and issuer are required";
  if (key.algorithms.empty()) return "algorithms is required";
  for (const auto& alg : key.algorithms) {
    if (alg == "none" || alg.rfind("HS", 0) == 0) return "only asymmetric algorithms";
  }
  std::shared_ptr<EVP_PKEY> public_key = ReadPublicKey(key.public_pem);
  if (!public_key) return "public_pem is not a PEM public key";
  entries_.push_back({key, std::move(public_key)});
  return "";
}

size_t Keyring::size() const { return entries_.size(); }

Verdict Keyring::Verify(std::string_view jwt, int64_t now, const SubjectPolicy& policy,
                        std::set<std::string>& used_jtis) const {
  size_t dot1 = jwt.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos) {
    return {"malformed"};
  }
  auto header_text = Base64UrlDecode(jwt.substr(0, dot1));
  auto payload_text = Base64UrlDecode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = Base64UrlDecode(jwt.substr(dot2 + 1));
  if (!header_text || !payload_text || !signature) return {"malformed"};
  Json header = Json::parse(*header_text, nullptr, false);
  Json claims = Json::parse(*payload_text, nullptr, false);
  if (!header.is_object() || !claims.is_object()) return {"malformed"};

  Json jti = claims.value("jti", Json());
  if (!jti.is_string() || jti.get<std::string>().empty()) return {"invalid_claims"};
  if (!used_jtis.insert(jti.get<std::string>()).second) return {"token_replay"};

  std::string kid = StringOr(header, "kid");
  std::string iss = StringOr(claims, "iss");
  auto entry = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return !kid.empty() && e.key.kid == kid && e.key.issuer == iss;
  });
  if (entry == entries_.end()) return {"unknown_key"};
  const TrustedKey& key = entry->key;
  std::string alg = StringOr(header, "alg");
  if (!Contains(key.algorithms, alg)) return {"algorithm"};
  if (!VerifySignature(entry->public_key.get(), alg, jwt.substr(0, dot2), *signature)) {
    return {"bad_signature"};
  }

  Json exp = claims.value("exp", Json());
  Json iat = claims.value("iat", Json());
  Json sub = claims.value("sub", Json());
  if (!IsIntegral(exp) || !IsIntegral(iat) || !sub.is_string() || sub.get<std::string>().empty()) {
    return {"invalid_claims"};
  }
  if (exp.get<int64_t>() <= now) return {"expired"};
  if (claims.contains("nbf") &&
      (!IsIntegral(claims["nbf"]) || claims["nbf"].get<int64_t>() > now)) {
    return {"not_yet_valid"};
  }
  const std::optional<std::string>& audience =
      policy.audience_override ? policy.audience_override : key.expected_audience;
  if (audience && !AudienceMatches(claims.value("aud", Json()), *audience)) return {"audience"};
  Json email = claims.value("email", Json());
  if (!email.is_string() || email.get<std::string>().empty()) return {"missing_email"};
  Json verified = claims.value("email_verified", Json());
  if (key.require_verified_email && verified != Json(true) && verified != Json("true")) {
    return {"email_not_verified"};
  }
  Json role = claims.value("role", Json());
  if (!role.is_string() || !Contains(key.allowed_roles, role.get<std::string>())) {
    return {"role"};
  }
  if (!policy.owner_email.empty() && SameEmail(email.get<std::string>(), policy.owner_email)) {
    return {"owner"};
  }
  int64_t lifetime = std::min<int64_t>(exp.get<int64_t>() - now, policy.access_token_ttl);
  return {"", lifetime, role.get<std::string>()};
}

Fields ReadExchangeFields(std::string_view content_type, std::string_view body) {
  Fields fields;
  if (content_type.rfind("application/json", 0) == 0) {
    Json json = Json::parse(body, nullptr, false);
    if (!json.is_object()) return fields;
    for (const auto& [name, value] : json.items()) {
      if (value.is_string()) fields[name] = value.get<std::string>();
    }
  } else if (content_type.rfind("application/x-www-form-urlencoded", 0) == 0) {
    while (!body.empty()) {
      std::string_view pair = body.substr(0, body.find('&'));
      body.remove_prefix(std::min(body.size(), pair.size() + 1));
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      fields.emplace(FormDecode(pair.substr(0, eq)), FormDecode(pair.substr(eq + 1)));
    }
  }
  return fields;
}

ExchangeAnswer AnswerExchange(const Keyring& keys, const SubjectPolicy& policy,
                              std::set<std::string>& used_jtis, std::string_view content_type,
                              std::string_view body, int64_t now) {
  Fields fields = ReadExchangeFields(content_type, body);
  if (fields["grant_type"] != kGrantType) {
    return OAuthError("unsupported_grant_type", "Unsupported grant type");
  }
  if (fields["subject_token"].empty()) {
    return OAuthError("invalid_request", "subject_token is required");
  }
  Verdict verdict = keys.Verify(fields["subject_token"], now, policy, used_jtis);
  if (!verdict.reason.empty()) {
    return OAuthError("invalid_grant", "Token exchange failed", verdict.reason);
  }
  std::string token = RandomToken();
  Json answer{{"access_token", token},
              {"token_type", "Bearer"},
              {"expires_in", verdict.expires_in},
              {"issued_token_type", kIssuedTokenType}};
  return {200, std::move(answer), std::move(verdict), std::move(token)};
}

std::string RandomToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

Result<std::vector<TrustedKey>> ParseTrustedKeys(std::string_view json_array) {
  Json json = Json::parse(json_array, nullptr, false);
  if (!json.is_array()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "N8N_TOKEN_EXCHANGE_TRUSTED_KEYS must be a JSON array of trusted keys");
  }
  std::vector<TrustedKey> keys;
  for (const Json& entry : json) {
    std::string where = "trusted key #" + std::to_string(keys.size() + 1);
    if (!entry.is_object() || StringOr(entry, "type") != "static") {
      return MakeError(ErrorCode::kInvalidArgument,
                       where + ": only {\"type\":\"static\",...} entries are supported");
    }
    TrustedKey key{StringOr(entry, "kid"), StringOr(entry, "issuer"), StringOr(entry, "key")};
    for (const char* list : {"algorithms", "allowedRoles"}) {
      auto& out = std::string_view(list) == "algorithms" ? key.algorithms : key.allowed_roles;
      for (const Json& item : entry.value(list, Json::array())) {
        if (item.is_string()) out.push_back(item.get<std::string>());
      }
    }
    if (entry.contains("expectedAudience"))
      key.expected_audience = StringOr(entry, "expectedAudience");
    auto verified = entry.find("requireVerifiedEmail");
    if (verified != entry.end() && verified->is_boolean()) {
      key.require_verified_email = verified->get<bool>();
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace fleet::testing::rules
