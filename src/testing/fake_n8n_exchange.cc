// The fake n8n's token exchange (RFC 8693) as n8n 2.40.7 implements it (n8n-reference.md
// section 1). The subject JWT is verified here directly with OpenSSL, independently of the
// product's signing code, so a bug there cannot hide behind the same bug here.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "core/jwt.h"
#include "testing/fake_n8n_internal.h"

namespace fleet::testing::fake {
namespace {

constexpr char kGrantType[] = "urn:ietf:params:oauth:grant-type:token-exchange";
constexpr char kIssuedTokenType[] = "urn:ietf:params:oauth:token-type:access_token";
constexpr int64_t kRateWindowSeconds = 60;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey ReadPublicKey(const std::string& pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return Pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
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

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string FormDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// The request's fields: form-encoded, or a JSON object of strings (n8n accepts both).
Params ReadFields(const httplib::Request& req) {
  Params fields;
  std::string type = req.get_header_value("Content-Type");
  if (type.rfind("application/json", 0) == 0) {
    Json body = Json::parse(req.body, nullptr, false);
    if (!body.is_object()) return fields;
    for (const auto& [name, value] : body.items()) {
      if (value.is_string()) fields[name] = value.get<std::string>();
    }
  } else if (type.rfind("application/x-www-form-urlencoded", 0) == 0) {
    std::string_view body = req.body;
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

// What an exchange yields: an access token, or the hidden reason it failed.
struct Verdict {
  std::string reason{};  // "" on success
  int64_t expires_in{};
  std::string role{};
};

// Every check of n8n's TokenExchangeService, with state.mu held. The jti is consumed as soon as
// it can be read, so a failed exchange burns it too.
Verdict Verify(State& state, const std::string& jwt, int64_t now) {
  size_t dot1 = jwt.find('.');
  size_t dot2 = dot1 == std::string::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string::npos || jwt.find('.', dot2 + 1) != std::string::npos) {
    return {"malformed"};
  }
  auto header_text = Base64UrlDecode(std::string_view(jwt).substr(0, dot1));
  auto payload_text = Base64UrlDecode(std::string_view(jwt).substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = Base64UrlDecode(std::string_view(jwt).substr(dot2 + 1));
  if (!header_text || !payload_text || !signature) return {"malformed"};
  Json header = Json::parse(*header_text, nullptr, false);
  Json claims = Json::parse(*payload_text, nullptr, false);
  if (!header.is_object() || !claims.is_object()) return {"malformed"};

  Json jti = claims.value("jti", Json());
  if (!jti.is_string() || jti.get<std::string>().empty()) return {"invalid_claims"};
  if (!state.used_jtis.insert(jti.get<std::string>()).second) return {"token_replay"};

  std::string kid = header.value("kid", Json()).is_string() ? header["kid"].get<std::string>() : "";
  std::string iss = claims.value("iss", Json()).is_string() ? claims["iss"].get<std::string>() : "";
  auto key = std::find_if(state.trusted_keys.begin(), state.trusted_keys.end(),
                          [&](const FakeN8n::TrustedKey& k) {
                            return !kid.empty() && k.kid == kid && k.issuer == iss;
                          });
  if (key == state.trusted_keys.end()) return {"unknown_key"};
  std::string alg = header.value("alg", Json()).is_string() ? header["alg"].get<std::string>() : "";
  if (!Contains(key->algorithms, alg)) return {"algorithm"};
  Pkey public_key = ReadPublicKey(key->public_pem);
  if (!public_key ||
      !VerifySignature(public_key.get(), alg, std::string_view(jwt).substr(0, dot2), *signature)) {
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
  if (key->expected_audience &&
      !AudienceMatches(claims.value("aud", Json()), *key->expected_audience)) {
    return {"audience"};
  }
  Json email = claims.value("email", Json());
  if (!email.is_string() || email.get<std::string>().empty()) return {"missing_email"};
  Json verified = claims.value("email_verified", Json());
  if (key->require_verified_email && verified != Json(true) && verified != Json("true")) {
    return {"email_not_verified"};
  }
  Json role = claims.value("role", Json());
  if (!role.is_string() || !Contains(key->allowed_roles, role.get<std::string>())) {
    return {"role"};
  }
  if (!state.owner_email.empty() && SameEmail(email.get<std::string>(), state.owner_email)) {
    return {"owner"};
  }
  int64_t lifetime = std::min<int64_t>(exp.get<int64_t>() - now, state.access_token_ttl);
  return {"", lifetime, role.get<std::string>()};
}

// n8n's rate limit on the route (per client IP; the fake has one client). Sends the 429 itself.
bool RateLimited(State& state, Call& call, int64_t now) {
  if (state.rate_limit_per_minute <= 0) return false;
  if (now - state.rate_window_start >= kRateWindowSeconds) {
    state.rate_window_start = now;
    state.rate_window_count = 0;
  }
  if (++state.rate_window_count <= state.rate_limit_per_minute) return false;
  int64_t wait = std::max<int64_t>(state.rate_window_start + kRateWindowSeconds - now, 1);
  call.res.set_header("Retry-After", std::to_string(wait));
  SendMessage(call, 429, "Too many requests");
  return true;
}

void SendOAuthError(Call& call, const char* error, const char* description) {
  SendJson(call, 400, Json{{"error", error}, {"error_description", description}});
}

}  // namespace

void CheckTrustedKey(const FakeN8n::TrustedKey& key) {
  const char* problem = nullptr;
  if (key.kid.empty() || key.issuer.empty()) problem = "kid and issuer are required";
  if (key.algorithms.empty()) problem = "algorithms is required";
  for (const auto& alg : key.algorithms) {
    if (alg == "none" || alg.rfind("HS", 0) == 0) problem = "only asymmetric algorithms";
  }
  if (!ReadPublicKey(key.public_pem)) problem = "public_pem is not a PEM public key";
  if (problem != nullptr) {
    std::fprintf(stderr, "FakeN8n::TrustKey(%s): %s (n8n would refuse to start)\n", key.kid.c_str(),
                 problem);
    std::abort();
  }
}

// POST /rest/auth/oauth/token
void HandleTokenExchange(State& state, Call& call) {
  int64_t now = UnixNow();
  std::lock_guard lock(state.mu);
  if (state.exchange_mode == FakeN8n::TokenExchangeMode::kNotLoaded) {
    return SendMessage(call, 404, "not found");
  }
  if (RateLimited(state, call, now)) return;
  if (state.exchange_mode == FakeN8n::TokenExchangeMode::kDisabled) {
    return SendJson(
        call, 501,
        Json{{"error", "server_error"}, {"error_description", "Token exchange is not enabled"}});
  }
  Params fields = ReadFields(call.req);
  if (fields["grant_type"] != kGrantType) {
    return SendOAuthError(call, "unsupported_grant_type", "Unsupported grant type");
  }
  if (fields["subject_token"].empty()) {
    return SendOAuthError(call, "invalid_request", "subject_token is required");
  }
  Verdict verdict = Verify(state, fields["subject_token"], now);
  if (!verdict.reason.empty()) {
    state.exchange_failures.push_back(verdict.reason);
    return SendOAuthError(call, "invalid_grant", "Token exchange failed");
  }
  std::string token = RandomToken();
  state.access_tokens[token] = IssuedToken{now + verdict.expires_in, verdict.role};
  ++state.exchange_count;
  call.res.set_header("Cache-Control", "no-store");
  SendJson(call, 200,
           Json{{"access_token", token},
                {"token_type", "Bearer"},
                {"expires_in", verdict.expires_in},
                {"issued_token_type", kIssuedTokenType}});
}

}  // namespace fleet::testing::fake
