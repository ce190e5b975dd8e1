#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/error.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this interface

namespace fleet::crypto {

// Asymmetric algorithms n8n's token exchange accepts (n8n-reference.md section 1). HMAC, `none`
// and EdDSA are not offered: n8n refuses or always fails them.
enum class SigningAlg { kRS256, kES256 };

std::string_view SigningAlgName(SigningAlg alg);            // "RS256" | "ES256"
Result<SigningAlg> ParseSigningAlg(std::string_view name);  // kInvalidArgument names the choices

struct KeyPair {
  SigningAlg alg{SigningAlg::kRS256};
  std::string private_pem{};  // PKCS#8 "-----BEGIN PRIVATE KEY-----"
  std::string public_pem{};   // SPKI "-----BEGIN PUBLIC KEY-----"
};

// RSA 2048 for RS256, P-256 for ES256, from OpenSSL 3's CSPRNG.
Result<KeyPair> GenerateKeyPair(SigningAlg alg);

// Reads a private key in PEM (PKCS#8 or traditional RSA/EC), decides its algorithm (RSA >= 2048
// bits -> RS256, EC P-256 -> ES256; others refused with the reason) and derives the public key.
// kInvalidArgument for anything else, never echoing the PEM.
Result<KeyPair> ImportPrivateKeyPem(std::string_view pem);

// Signs JWTs with one private key, parsed once: parsing the PEM costs ~20x an ES256 signature and
// ~4x an RS256 one, and a collection run signs one subject token per server.
//
// Thread safety: Sign() is const and builds its own OpenSSL contexts, only reading the key, so
// several threads may sign with one Signer at once (OpenSSL 3 permits concurrent read-only use
// of an EVP_PKEY). Moving or destroying a Signer needs exclusive access. Movable, not copyable.
class Signer {
 public:
  // Parses the private key and checks it is what `key.alg` says (kInvalidArgument otherwise,
  // never echoing the PEM).
  static Result<Signer> Create(const KeyPair& key);

  // Compact JWS: base64url(header).base64url(claims).base64url(signature), header
  // {"alg","typ":"JWT","kid"}. ES256 signatures are the 64-byte r||s form (RFC 7518), not DER.
  // kInvalidArgument for an empty kid, claims that are not an object, or invalid UTF-8.
  Result<std::string> Sign(std::string_view kid, const nlohmann::json& claims) const;

  SigningAlg alg() const { return alg_; }

 private:
  struct KeyFree {
    void operator()(evp_pkey_st* key) const;
  };
  Signer(SigningAlg alg, std::unique_ptr<evp_pkey_st, KeyFree> key)
      : alg_(alg), key_(std::move(key)) {}

  SigningAlg alg_{SigningAlg::kRS256};
  std::unique_ptr<evp_pkey_st, KeyFree> key_{};
};

// One-off signing: Signer::Create(key) then Sign. Use a Signer to sign many tokens.
Result<std::string> SignJwt(const KeyPair& key, std::string_view kid, const nlohmann::json& claims);

// RFC 7517 public JWK: {"kty":"RSA","n","e"} or {"kty":"EC","crv":"P-256","x","y"}, plus
// "kid", "use":"sig", "alg".
Result<nlohmann::json> PublicJwk(const KeyPair& key, std::string_view kid);

}  // namespace fleet::crypto
