// Key pairs and JWS signing on OpenSSL 3's EVP interface (no deprecated low-level RSA/EC calls).

#include "crypto/signing.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <string>

#include "core/jwt.h"
#include "crypto/openssl_handles.h"

namespace fleet::crypto {
namespace {

constexpr int kMinRsaBits = 2048;
constexpr int kEcCoordinateBytes = 32;  // P-256
constexpr size_t kMaxPemBytes = 1 << 20;

const char kPemKinds[] =
    "-----BEGIN PRIVATE KEY-----, -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE "
    "KEY-----";

// The reason of OpenSSL's most recent error ("" if none); empties the thread's error queue so
// a failure does not leak into the next call's diagnostics.
std::string TakeOpenSslReason() {
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  std::string text = reason != nullptr ? reason : "";
  ERR_clear_error();
  return text;
}

tl::unexpected<Error> OpenSslFailure(std::string what) {
  const std::string reason = TakeOpenSslReason();
  return MakeError(ErrorCode::kInternal,
                   what + (reason.empty() ? "" : " (OpenSSL: " + reason + ")"));
}

// Never prompts for a passphrase: encrypted keys are refused instead.
int NoPassphrase(char*, int, int, void*) { return -1; }

BioPtr ReadOnlyBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Everything written to `bio` (a memory BIO).
std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 && data != nullptr ? std::string(data, static_cast<size_t>(size)) : "";
}

bool Contains(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}

// Whether nlohmann::json can serialise `text` (it throws on invalid UTF-8).
bool IsValidUtf8(std::string_view text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// Decides which JWS algorithm a key serves, or why it serves none. Works on public keys too.
Result<SigningAlg> ClassifyKey(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    const int bits = EVP_PKEY_get_bits(pkey);
    if (bits < kMinRsaBits) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "the RSA key has " + std::to_string(bits) +
                           " bits; RS256 needs at least 2048: generate a new key with "
                           "`n8n-fleet key generate` or `openssl genpkey -algorithm RSA "
                           "-pkeyopt rsa_keygen_bits:2048`");
    }
    return SigningAlg::kRS256;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[80] = {};
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &length) != 1) {
      ERR_clear_error();
      return MakeError(ErrorCode::kInvalidArgument,
                       "the EC key has explicit curve parameters instead of a named curve; "
                       "ES256 needs the named curve P-256 (prime256v1)");
    }
    const std::string_view name(group, length);
    if (name == "prime256v1" || name == "P-256") return SigningAlg::kES256;
    return MakeError(ErrorCode::kInvalidArgument,
                     "the EC key is on curve " + std::string(name) +
                         "; ES256 needs P-256 (prime256v1): generate one with `n8n-fleet key "
                         "generate --alg ES256` or `openssl genpkey -algorithm EC -pkeyopt "
                         "ec_paramgen_curve:P-256`");
  }
  const char* type = EVP_PKEY_get0_type_name(pkey);
  return MakeError(ErrorCode::kInvalidArgument,
                   "keys of type " + std::string(type != nullptr ? type : "unknown") +
                       " are not supported (n8n's token exchange fails EdDSA and refuses HMAC); "
                       "use RSA of 2048 bits or more (RS256) or EC P-256 (ES256)");
}

// Parses a private key PEM without ever echoing it.
Result<PkeyPtr> ReadPrivateKey(std::string_view pem) {
  if (pem.empty()) return MakeError(ErrorCode::kInvalidArgument, "the private key PEM is empty");
  if (pem.size() > kMaxPemBytes) {
    return MakeError(ErrorCode::kInvalidArgument, "the private key PEM is larger than 1 MiB");
  }
  BioPtr bio = ReadOnlyBio(pem);
  if (!bio) return OpenSslFailure("cannot allocate a buffer for the private key");
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (pkey) return pkey;
  ERR_clear_error();
  if (Contains(pem, "ENCRYPTED")) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the private key is encrypted; decrypt it first (`openssl pkey -in key.pem "
                     "-out plain.pem`) and import the plain PEM");
  }
  if (Contains(pem, "PUBLIC KEY-----") || Contains(pem, "CERTIFICATE-----")) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the PEM holds a public key or certificate, not a private key; import the "
                     "private key (" +
                         std::string(kPemKinds) + ")");
  }
  return MakeError(
      ErrorCode::kInvalidArgument,
      "the text is not a readable PEM private key; expected " + std::string(kPemKinds));
}

Result<PkeyPtr> ReadPublicKey(std::string_view pem) {
  if (pem.empty()) return MakeError(ErrorCode::kInvalidArgument, "the public key PEM is empty");
  if (pem.size() > kMaxPemBytes) {
    return MakeError(ErrorCode::kInvalidArgument, "the public key PEM is larger than 1 MiB");
  }
  BioPtr bio = ReadOnlyBio(pem);
  if (!bio) return OpenSslFailure("cannot allocate a buffer for the public key");
  PkeyPtr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  if (pkey) return pkey;
  ERR_clear_error();
  return MakeError(ErrorCode::kInvalidArgument,
                   "the public key is not a readable PEM (expected -----BEGIN PUBLIC KEY-----)");
}

// PKCS#8 private PEM (in a BIO that wipes its memory) and SPKI public PEM of `pkey`.
Result<KeyPair> ToKeyPair(EVP_PKEY* pkey, SigningAlg alg) {
  BioPtr private_bio(BIO_new(BIO_s_secmem()));
  BioPtr public_bio(BIO_new(BIO_s_mem()));
  if (!private_bio || !public_bio) return OpenSslFailure("cannot allocate PEM buffers");
  if (PEM_write_bio_PrivateKey(private_bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr) !=
      1) {
    return OpenSslFailure("cannot encode the private key as PKCS#8 PEM");
  }
  if (PEM_write_bio_PUBKEY(public_bio.get(), pkey) != 1) {
    return OpenSslFailure("cannot encode the public key as PEM");
  }
  return KeyPair{alg, BioContents(private_bio.get()), BioContents(public_bio.get())};
}

// ECDSA's DER SEQUENCE { r, s } to the fixed-size r||s of RFC 7518 section 3.4.
Result<std::string> DerToRawEcdsa(const std::string& der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())));
  if (!sig) return OpenSslFailure("cannot decode the ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * static_cast<size_t>(kEcCoordinateBytes), '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kEcCoordinateBytes) != kEcCoordinateBytes ||
      BN_bn2binpad(s, out + kEcCoordinateBytes, kEcCoordinateBytes) != kEcCoordinateBytes) {
    return OpenSslFailure("cannot encode the ECDSA signature as r||s");
  }
  return raw;
}

// SHA-256 signature of `input`: PKCS#1 v1.5 for RSA, r||s for ECDSA.
Result<std::string> SignSha256(EVP_PKEY* pkey, SigningAlg alg, std::string_view input) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey) != 1) {
    return OpenSslFailure("cannot start a SHA-256 signature");
  }
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  size_t size = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &size, data, input.size()) != 1) {
    return OpenSslFailure("cannot size the signature");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, data,
                     input.size()) != 1) {
    return OpenSslFailure("cannot sign the JWT");
  }
  signature.resize(size);
  if (alg == SigningAlg::kES256) return DerToRawEcdsa(signature);
  return signature;
}

// Big-endian bytes of a public key parameter, left-padded to `width` (0: minimal length).
Result<std::string> BignumParam(EVP_PKEY* pkey, const char* name, int width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) {
    return OpenSslFailure("cannot read the public key parameter " + std::string(name));
  }
  BignumPtr value(raw);
  const int size = width > 0 ? width : BN_num_bytes(value.get());
  std::string bytes(static_cast<size_t>(size), '\0');
  if (BN_bn2binpad(value.get(), reinterpret_cast<unsigned char*>(bytes.data()), size) != size) {
    return OpenSslFailure("public key parameter " + std::string(name) + " does not fit");
  }
  return bytes;
}

}  // namespace

std::string_view SigningAlgName(SigningAlg alg) {
  switch (alg) {
    case SigningAlg::kRS256:
      return "RS256";
    case SigningAlg::kES256:
      return "ES256";
  }
  return "RS256";
}

Result<SigningAlg> ParseSigningAlg(std::string_view name) {
  if (name == "RS256") return SigningAlg::kRS256;
  if (name == "ES256") return SigningAlg::kES256;
  return MakeError(ErrorCode::kInvalidArgument, "unknown signing algorithm '" + std::string(name) +
                                                    "'; choose RS256 (RSA 2048) or ES256 (P-256)");
}

Result<KeyPair> GenerateKeyPair(SigningAlg alg) {
  const bool rsa = alg == SigningAlg::kRS256;
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, rsa ? "RSA" : "EC", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) {
    return OpenSslFailure("cannot start generating a key pair");
  }
  const int configured = rsa ? EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), kMinRsaBits)
                             : EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256");
  if (configured != 1) return OpenSslFailure("cannot configure the key generation");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1) return OpenSslFailure("cannot generate a key pair");
  PkeyPtr pkey(raw);
  return ToKeyPair(pkey.get(), alg);
}

Result<KeyPair> ImportPrivateKeyPem(std::string_view pem) {
  auto pkey = ReadPrivateKey(pem);
  if (!pkey) return tl::unexpected(pkey.error());
  auto alg = ClassifyKey(pkey->get());
  if (!alg) return tl::unexpected(alg.error());
  return ToKeyPair(pkey->get(), *alg);
}

void Signer::KeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

Result<Signer> Signer::Create(const KeyPair& key) {
  auto pkey = ReadPrivateKey(key.private_pem);
  if (!pkey) return tl::unexpected(pkey.error());
  auto alg = ClassifyKey(pkey->get());
  if (!alg) return tl::unexpected(alg.error());
  if (*alg != key.alg) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the private key is an " + std::string(SigningAlgName(*alg)) +
                         " key but the key pair says " + std::string(SigningAlgName(key.alg)));
  }
  return Signer(key.alg, std::unique_ptr<EVP_PKEY, KeyFree>(pkey->release()));
}

Result<std::string> Signer::Sign(std::string_view kid, const nlohmann::json& claims) const {
  if (kid.empty()) return MakeError(ErrorCode::kInvalidArgument, "a JWT needs a non-empty kid");
  if (!claims.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "JWT claims must be a JSON object");
  }
  if (!key_) return MakeError(ErrorCode::kFailedPrecondition, "this signer was moved from");
  std::string signing_input;
  try {
    const nlohmann::json header = {
        {"alg", SigningAlgName(alg_)}, {"typ", "JWT"}, {"kid", std::string(kid)}};
    signing_input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  } catch (const nlohmann::json::exception&) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the JWT kid or claims are not valid UTF-8; fix the text");
  }
  auto signature = SignSha256(key_.get(), alg_, signing_input);
  if (!signature) return tl::unexpected(signature.error());
  return signing_input + "." + Base64UrlEncode(*signature);
}

Result<std::string> SignJwt(const KeyPair& key, std::string_view kid,
                            const nlohmann::json& claims) {
  auto signer = Signer::Create(key);
  if (!signer) return tl::unexpected(signer.error());
  return signer->Sign(kid, claims);
}

Result<nlohmann::json> PublicJwk(const KeyPair& key, std::string_view kid) {
  if (kid.empty()) return MakeError(ErrorCode::kInvalidArgument, "a JWK needs a non-empty kid");
  if (!IsValidUtf8(kid))
    return MakeError(ErrorCode::kInvalidArgument, "the kid is not valid UTF-8");
  // The public PEM is enough (and what a stored key offers without unsealing); a pair holding
  // only the private key derives it.
  auto pkey =
      key.public_pem.empty() ? ReadPrivateKey(key.private_pem) : ReadPublicKey(key.public_pem);
  if (!pkey) return tl::unexpected(pkey.error());
  auto alg = ClassifyKey(pkey->get());
  if (!alg) return tl::unexpected(alg.error());
  if (*alg != key.alg) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the public key is an " + std::string(SigningAlgName(*alg)) +
                         " key but the key pair says " + std::string(SigningAlgName(key.alg)));
  }
  nlohmann::json jwk = {{"kid", std::string(kid)}, {"use", "sig"}, {"alg", SigningAlgName(*alg)}};
  if (*alg == SigningAlg::kRS256) {
    auto n = BignumParam(pkey->get(), OSSL_PKEY_PARAM_RSA_N, 0);
    auto e = BignumParam(pkey->get(), OSSL_PKEY_PARAM_RSA_E, 0);
    if (!n) return tl::unexpected(n.error());
    if (!e) return tl::unexpected(e.error());
    jwk["kty"] = "RSA";
    jwk["n"] = Base64UrlEncode(*n);
    jwk["e"] = Base64UrlEncode(*e);
  } else {
    auto x = BignumParam(pkey->get(), OSSL_PKEY_PARAM_EC_PUB_X, kEcCoordinateBytes);
    auto y = BignumParam(pkey->get(), OSSL_PKEY_PARAM_EC_PUB_Y, kEcCoordinateBytes);
    if (!x) return tl::unexpected(x.error());
    if (!y) return tl::unexpected(y.error());
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = Base64UrlEncode(*x);
    jwk["y"] = Base64UrlEncode(*y);
  }
  return jwk;
}

}  // namespace fleet::crypto
