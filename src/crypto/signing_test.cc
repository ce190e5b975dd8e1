// Signing is checked against an independent verifier: the `openssl` command line.

#include "crypto/signing.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/openssl_handles.h"
#include "crypto/signing_test_util.h"

namespace fleet::crypto {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using ParamBldPtr =
    std::unique_ptr<OSSL_PARAM_BLD, OpenSslDeleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, OpenSslDeleter<OSSL_PARAM, OSSL_PARAM_free>>;

const nlohmann::json kClaims = {{"iss", "https://fleet.example.com"},
                                {"sub", "usage-tracker"},
                                {"iat", 1760000000},
                                {"exp", 1760000060},
                                {"jti", "0f4c"},
                                {"email_verified", true}};

PkeyPtr PublicKeyFromPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return PkeyPtr(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

BignumPtr Base64UrlBignum(const nlohmann::json& value) {
  const std::string bytes = Base64UrlDecode(value.get<std::string>()).value_or("");
  return BignumPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                             static_cast<int>(bytes.size()), nullptr));
}

// The public key a JWK describes, rebuilt independently of signing.cc with EVP_PKEY_fromdata.
PkeyPtr PublicKeyFromJwk(const nlohmann::json& jwk) {
  ParamBldPtr build(OSSL_PARAM_BLD_new());
  BignumPtr n;
  BignumPtr e;
  std::string point;
  const bool rsa = jwk.at("kty") == "RSA";
  if (rsa) {
    n = Base64UrlBignum(jwk.at("n"));
    e = Base64UrlBignum(jwk.at("e"));
    OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
    OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
  } else {
    point = "\x04" + Base64UrlDecode(jwk.at("x").get<std::string>()).value_or("") +
            Base64UrlDecode(jwk.at("y").get<std::string>()).value_or("");
    OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
    OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                     point.size());
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(build.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, rsa ? "RSA" : "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ADD_FAILURE() << "EVP_PKEY_fromdata refused the JWK " << jwk.dump();
  }
  return PkeyPtr(raw);
}

// ---- both algorithms

class SigningAlgTest : public GeneratedKeyTest {};

INSTANTIATE_TEST_SUITE_P(Algorithms, SigningAlgTest,
                         ::testing::Values(SigningAlg::kRS256, SigningAlg::kES256),
                         [](const auto& info) { return std::string(SigningAlgName(info.param)); });

TEST_P(SigningAlgTest, GeneratesPkcs8AndSpkiPemTheCliReads) {
  testing::TempDir dir;
  WriteFile(dir.path() + "/key.pem", pair_.private_pem);

  const std::string text =
      Openssl({"pkey", "-in", "KEY", "-noout", "-text"}, dir.path() + "/key.pem");
  const std::string pub = Openssl({"pkey", "-in", "KEY", "-pubout"}, dir.path() + "/key.pem");

  EXPECT_EQ(pair_.alg, GetParam());
  EXPECT_THAT(pair_.private_pem, StartsWith("-----BEGIN PRIVATE KEY-----\n"));
  EXPECT_THAT(pair_.public_pem, StartsWith("-----BEGIN PUBLIC KEY-----\n"));
  EXPECT_EQ(pub, pair_.public_pem);
  if (GetParam() == SigningAlg::kRS256) {
    EXPECT_THAT(text, HasSubstr("Private-Key: (2048 bit"));
  } else {
    EXPECT_THAT(text, HasSubstr("Private-Key: (256 bit)"));
    EXPECT_THAT(text, HasSubstr("NIST CURVE: P-256"));
  }
}

TEST_P(SigningAlgTest, SignedJwtVerifiesWithTheOpensslCli) {
  auto token = SignJwt(pair_, "fleet-1", kClaims);

  ASSERT_TRUE(token.has_value()) << token.error().message;
  EXPECT_TRUE(CliVerifies(*token, pair_.public_pem, GetParam()));
}

TEST_P(SigningAlgTest, TamperedClaimsFailTheCliVerification) {
  const std::string token = SignJwt(pair_, "fleet-1", kClaims).value();
  std::vector<std::string> parts = SplitJwt(token);
  nlohmann::json changed = kClaims;
  changed["sub"] = "someone-else";
  parts[1] = Base64UrlEncode(changed.dump());

  EXPECT_FALSE(
      CliVerifies(parts[0] + "." + parts[1] + "." + parts[2], pair_.public_pem, GetParam()));
}

TEST_P(SigningAlgTest, HeaderIsExactlyAlgKidTypAndClaimsRoundTrip) {
  const std::string token = SignJwt(pair_, "fleet-1", kClaims).value();
  const std::vector<std::string> parts = SplitJwt(token);

  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(Base64UrlDecode(parts[0]).value(), R"({"alg":")" +
                                                   std::string(SigningAlgName(GetParam())) +
                                                   R"(","kid":"fleet-1","typ":"JWT"})");
  EXPECT_EQ(nlohmann::json::parse(Base64UrlDecode(parts[1]).value()), kClaims);
  EXPECT_EQ(token.find('='), std::string::npos);
  auto peek = PeekJwt(token);
  ASSERT_TRUE(peek.has_value()) << peek.error().message;
  EXPECT_EQ(peek->expires_at, 1760000060);
}

TEST_P(SigningAlgTest, JwkDescribesTheSamePublicKeyAsThePem) {
  auto jwk = PublicJwk(pair_, "fleet-1");

  ASSERT_TRUE(jwk.has_value()) << jwk.error().message;
  EXPECT_EQ(jwk->at("kid"), "fleet-1");
  EXPECT_EQ(jwk->at("use"), "sig");
  EXPECT_EQ(jwk->at("alg"), SigningAlgName(GetParam()));
  PkeyPtr from_jwk = PublicKeyFromJwk(*jwk);
  PkeyPtr from_pem = PublicKeyFromPem(pair_.public_pem);
  ASSERT_TRUE(from_jwk && from_pem);
  EXPECT_EQ(EVP_PKEY_eq(from_jwk.get(), from_pem.get()), 1);
}

TEST_P(SigningAlgTest, JwkNeedsOnlyThePublicPem) {
  const KeyPair public_only{GetParam(), "", pair_.public_pem};
  const KeyPair private_only{GetParam(), pair_.private_pem, ""};

  EXPECT_EQ(PublicJwk(public_only, "k").value(), PublicJwk(pair_, "k").value());
  EXPECT_EQ(PublicJwk(private_only, "k").value(), PublicJwk(pair_, "k").value());
}

TEST_P(SigningAlgTest, ImportingAGeneratedKeyGivesTheSamePair) {
  auto imported = ImportPrivateKeyPem(pair_.private_pem);

  ASSERT_TRUE(imported.has_value()) << imported.error().message;
  EXPECT_EQ(imported->alg, GetParam());
  EXPECT_EQ(imported->private_pem, pair_.private_pem);
  EXPECT_EQ(imported->public_pem, pair_.public_pem);
}

TEST_P(SigningAlgTest, GeneratesADifferentKeyEachTime) {
  EXPECT_NE(GenerateKeyPair(GetParam()).value().public_pem, pair_.public_pem);
}

// ---- algorithm specifics

TEST(SigningTest, ParsesAndNamesBothAlgorithms) {
  EXPECT_EQ(ParseSigningAlg("RS256").value(), SigningAlg::kRS256);
  EXPECT_EQ(ParseSigningAlg("ES256").value(), SigningAlg::kES256);
  EXPECT_EQ(SigningAlgName(SigningAlg::kRS256), "RS256");
  EXPECT_EQ(SigningAlgName(SigningAlg::kES256), "ES256");
  for (const char* refused : {"HS256", "none", "EdDSA", "rs256", ""}) {
    auto alg = ParseSigningAlg(refused);
    ASSERT_FALSE(alg.has_value()) << refused;
    EXPECT_EQ(alg.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(alg.error().message, HasSubstr("RS256"));
    EXPECT_THAT(alg.error().message, HasSubstr("ES256"));
  }
}

TEST(SigningTest, RsaJwkHasExponentAqabAnd256ByteModulus) {
  const KeyPair pair = GenerateKeyPair(SigningAlg::kRS256).value();

  const nlohmann::json jwk = PublicJwk(pair, "r1").value();

  EXPECT_EQ(jwk.at("kty"), "RSA");
  EXPECT_EQ(jwk.at("e"), "AQAB");
  EXPECT_EQ(Base64UrlDecode(jwk.at("n").get<std::string>()).value().size(), 256u);
  EXPECT_FALSE(jwk.contains("crv"));
}

TEST(SigningTest, EcJwkHas32ByteCoordinatesOnP256) {
  const KeyPair pair = GenerateKeyPair(SigningAlg::kES256).value();

  const nlohmann::json jwk = PublicJwk(pair, "e1").value();

  EXPECT_EQ(jwk.at("kty"), "EC");
  EXPECT_EQ(jwk.at("crv"), "P-256");
  EXPECT_EQ(Base64UrlDecode(jwk.at("x").get<std::string>()).value().size(), 32u);
  EXPECT_EQ(Base64UrlDecode(jwk.at("y").get<std::string>()).value().size(), 32u);
  EXPECT_FALSE(jwk.contains("n"));
}

TEST(SigningTest, Es256SignaturesAreRandomizedAndBothVerify) {
  const KeyPair pair = GenerateKeyPair(SigningAlg::kES256).value();

  const std::string first = SignJwt(pair, "e1", kClaims).value();
  const std::string second = SignJwt(pair, "e1", kClaims).value();

  EXPECT_NE(SplitJwt(first)[2], SplitJwt(second)[2]);
  EXPECT_EQ(Base64UrlDecode(SplitJwt(first)[2]).value().size(), 64u);
  EXPECT_EQ(Base64UrlDecode(SplitJwt(second)[2]).value().size(), 64u);
  EXPECT_TRUE(CliVerifies(first, pair.public_pem, SigningAlg::kES256));
  EXPECT_TRUE(CliVerifies(second, pair.public_pem, SigningAlg::kES256));
}

TEST(SigningTest, SignJwtRefusesBadInputWithoutEchoingTheKey) {
  const KeyPair pair = GenerateKeyPair(SigningAlg::kES256).value();
  const KeyPair mislabelled{SigningAlg::kRS256, pair.private_pem, pair.public_pem};
  const KeyPair garbage{SigningAlg::kES256, "not a key", ""};

  auto no_kid = SignJwt(pair, "", kClaims);
  auto array = SignJwt(pair, "k", nlohmann::json::array({1, 2}));
  auto bad_utf8 = SignJwt(pair, "k", {{"sub", "\xff\xfe"}});
  auto wrong_alg = SignJwt(mislabelled, "k", kClaims);
  auto unreadable = SignJwt(garbage, "k", kClaims);

  for (const auto* result : {&no_kid, &array, &bad_utf8, &wrong_alg, &unreadable}) {
    ASSERT_FALSE(result->has_value());
    EXPECT_EQ(result->error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_THAT(wrong_alg.error().message, HasSubstr("ES256 key but the key pair says RS256"));
  EXPECT_THAT(unreadable.error().message, Not(HasSubstr("not a key")));
}

TEST(SigningTest, PublicJwkRefusesBadInput) {
  const KeyPair pair = GenerateKeyPair(SigningAlg::kRS256).value();
  const KeyPair mislabelled{SigningAlg::kES256, "", pair.public_pem};
  const KeyPair nothing{SigningAlg::kRS256, "", ""};

  auto no_kid = PublicJwk(pair, "");
  auto bad_kid = PublicJwk(pair, "\xff");
  auto wrong_alg = PublicJwk(mislabelled, "k");
  auto empty = PublicJwk(nothing, "k");

  for (const auto* result : {&no_kid, &bad_kid, &wrong_alg, &empty}) {
    ASSERT_FALSE(result->has_value());
    EXPECT_EQ(result->error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_THAT(wrong_alg.error().message, HasSubstr("RS256 key but the key pair says ES256"));
}

}  // namespace
}  // namespace fleet::crypto
