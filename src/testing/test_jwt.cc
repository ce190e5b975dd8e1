#include "testing/test_jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "core/jwt.h"

namespace fleet::testing {
namespace {

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
using Bio = std::unique_ptr<BIO, BioFree>;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "test_jwt: %s failed\n", what);
  std::abort();
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

// DER ECDSA-Sig-Value -> r||s, 32 bytes each.
std::string DerToRawEcdsa(const std::string& der) {
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(
      d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(der.size())));
  if (!sig) Die("d2i_ECDSA_SIG");
  std::string raw(64, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + 32, 32) != 32) {
    Die("BN_bn2binpad");
  }
  return raw;
}

}  // namespace

TestKey MakeTestKey(const std::string& alg) {
  Pkey key;
  if (alg == "RS256") {
    key.reset(EVP_RSA_gen(2048));
  } else if (alg == "ES256") {
    key.reset(EVP_EC_gen("P-256"));
  } else {
    Die("MakeTestKey: unknown alg");
  }
  if (!key) Die("key generation");
  Bio private_bio(BIO_new(BIO_s_mem()));
  Bio public_bio(BIO_new(BIO_s_mem()));
  if (!private_bio || !public_bio ||
      PEM_write_bio_PrivateKey(private_bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                               nullptr) != 1 ||
      PEM_write_bio_PUBKEY(public_bio.get(), key.get()) != 1) {
    Die("PEM export");
  }
  return TestKey{alg, BioText(private_bio.get()), BioText(public_bio.get())};
}

std::string SignTestJwt(const TestKey& key, const nlohmann::json& header,
                        const nlohmann::json& claims) {
  std::string signing_input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  Bio bio(BIO_new_mem_buf(key.private_pem.data(), static_cast<int>(key.private_pem.size())));
  Pkey pkey(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (!pkey || !ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, data, signing_input.size()) != 1) {
    Die("EVP_DigestSign");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, data,
                     signing_input.size()) != 1) {
    Die("EVP_DigestSign");
  }
  signature.resize(size);
  if (key.alg == "ES256") signature = DerToRawEcdsa(signature);
  return signing_input + "." + Base64UrlEncode(signature);
}

}  // namespace fleet::testing
