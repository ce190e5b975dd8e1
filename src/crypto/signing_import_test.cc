// Importing private keys that the `openssl` command line generated, in every PEM flavour it
// writes, and refusing the keys n8n-fleet cannot sign with.

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/signing.h"
#include "crypto/signing_test_util.h"

namespace fleet::crypto {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The first base64 body line of a PEM: a fragment no error message may contain.
std::string PemBodyLine(const std::string& pem) {
  const size_t begin = pem.rfind("-----BEGIN");
  const size_t start = pem.find('\n', begin) + 1;
  return pem.substr(start, pem.find('\n', start) - start);
}

struct CliKey {
  std::string name{};
  std::vector<std::string> generate{};  // openssl arguments writing the key to KEY
  std::string pem_begins{};             // the flavour the CLI wrote
  SigningAlg alg{SigningAlg::kRS256};
};

class ImportCliKeyTest : public ::testing::TestWithParam<CliKey> {};

INSTANTIATE_TEST_SUITE_P(
    Flavours, ImportCliKeyTest,
    ::testing::Values(CliKey{"Pkcs8Rsa",
                             {"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                              "-out", "KEY"},
                             "-----BEGIN PRIVATE KEY-----",
                             SigningAlg::kRS256},
                      CliKey{"TraditionalRsa",
                             {"genrsa", "-traditional", "-out", "KEY", "2048"},
                             "-----BEGIN RSA PRIVATE KEY-----",
                             SigningAlg::kRS256},
                      CliKey{"Pkcs8Ec",
                             {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                              "-out", "KEY"},
                             "-----BEGIN PRIVATE KEY-----",
                             SigningAlg::kES256},
                      // Without -noout, ecparam writes an EC PARAMETERS block before the key.
                      CliKey{"TraditionalEcAfterParameters",
                             {"ecparam", "-name", "prime256v1", "-genkey", "-out", "KEY"},
                             "-----BEGIN EC PARAMETERS-----",
                             SigningAlg::kES256},
                      CliKey{"TraditionalEc",
                             {"ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "KEY"},
                             "-----BEGIN EC PRIVATE KEY-----",
                             SigningAlg::kES256}),
    [](const auto& info) { return info.param.name; });

TEST_P(ImportCliKeyTest, ImportsAsPkcs8WithTheCliPublicKeyAndSignsVerifiably) {
  testing::TempDir dir;
  const std::string key = dir.path() + "/key.pem";
  Openssl(GetParam().generate, key);
  const std::string pem = ReadFile(key);
  ASSERT_THAT(pem, StartsWith(GetParam().pem_begins));
  const std::string cli_public = Openssl({"pkey", "-in", "KEY", "-pubout"}, key);

  auto imported = ImportPrivateKeyPem(pem);

  ASSERT_TRUE(imported.has_value()) << imported.error().message;
  EXPECT_EQ(imported->alg, GetParam().alg);
  EXPECT_THAT(imported->private_pem, StartsWith("-----BEGIN PRIVATE KEY-----\n"));
  EXPECT_EQ(imported->public_pem, cli_public);
  auto token = SignJwt(*imported, "imported", {{"sub", "usage-tracker"}});
  ASSERT_TRUE(token.has_value()) << token.error().message;
  EXPECT_TRUE(CliVerifies(*token, cli_public, GetParam().alg));
}

struct RefusedKey {
  std::string name{};
  std::vector<std::string> generate{};  // openssl arguments writing the key to KEY
  std::string reason{};                 // the message names it
};

class RefuseCliKeyTest : public ::testing::TestWithParam<RefusedKey> {};

INSTANTIATE_TEST_SUITE_P(
    Unsupported, RefuseCliKeyTest,
    ::testing::Values(
        RefusedKey{
            "Rsa1024",
            {"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "KEY"},
            "the RSA key has 1024 bits; RS256 needs at least 2048"},
        RefusedKey{
            "TraditionalRsa1024", {"genrsa", "-traditional", "-out", "KEY", "1024"}, "1024 bits"},
        RefusedKey{"P384",
                   {"ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", "KEY"},
                   "the EC key is on curve secp384r1; ES256 needs P-256"},
        RefusedKey{"Ed25519",
                   {"genpkey", "-algorithm", "ED25519", "-out", "KEY"},
                   "keys of type ED25519 are not supported"},
        RefusedKey{"Encrypted",
                   {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256",
                    "-pass", "pass:hunter2", "-out", "KEY"},
                   "the private key is encrypted; decrypt it first"}),
    [](const auto& info) { return info.param.name; });

TEST_P(RefuseCliKeyTest, RefusesWithTheReasonAndWithoutEchoingThePem) {
  testing::TempDir dir;
  const std::string key = dir.path() + "/key.pem";
  Openssl(GetParam().generate, key);
  const std::string pem = ReadFile(key);
  ASSERT_FALSE(pem.empty());

  auto imported = ImportPrivateKeyPem(pem);

  ASSERT_FALSE(imported.has_value());
  EXPECT_EQ(imported.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(imported.error().message, HasSubstr(GetParam().reason));
  EXPECT_THAT(imported.error().message, Not(HasSubstr(PemBodyLine(pem))));
}

TEST(ImportKeyTest, RefusesAPublicKeyPemAndPointsToThePrivateKey) {
  testing::TempDir dir;
  const std::string key = dir.path() + "/key.pem";
  Openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "KEY"},
          key);
  const std::string public_pem = Openssl({"pkey", "-in", "KEY", "-pubout"}, key);

  auto imported = ImportPrivateKeyPem(public_pem);

  ASSERT_FALSE(imported.has_value());
  EXPECT_EQ(imported.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(imported.error().message, HasSubstr("public key"));
  EXPECT_THAT(imported.error().message, HasSubstr("BEGIN PRIVATE KEY"));
  EXPECT_THAT(imported.error().message, Not(HasSubstr(PemBodyLine(public_pem))));
}

TEST(ImportKeyTest, RefusesGarbageAndEmptyTextWithoutEchoingIt) {
  const std::string garbage =
      "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ1dC1icm9rZW4=\n-----END PRIVATE KEY-----\n";
  for (const std::string& text : {garbage, std::string("hunter2 is my password")}) {
    auto imported = ImportPrivateKeyPem(text);

    ASSERT_FALSE(imported.has_value());
    EXPECT_EQ(imported.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(imported.error().message, HasSubstr("not a readable PEM private key"));
    EXPECT_THAT(imported.error().message, Not(HasSubstr("c2VjcmV0")));
    EXPECT_THAT(imported.error().message, Not(HasSubstr("hunter2")));
  }
}

TEST(ImportKeyTest, RefusesEmptyInput) {
  for (std::string_view empty : {std::string_view(), std::string_view("")}) {
    auto imported = ImportPrivateKeyPem(empty);

    ASSERT_FALSE(imported.has_value());
    EXPECT_EQ(imported.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(imported.error().message, "the private key PEM is empty");
  }
}

TEST(ImportKeyTest, RefusesOversizedInput) {
  auto imported = ImportPrivateKeyPem(std::string(2 << 20, 'A'));

  ASSERT_FALSE(imported.has_value());
  EXPECT_EQ(imported.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(imported.error().message, HasSubstr("larger than 1 MiB"));
}

}  // namespace
}  // namespace fleet::crypto
