// Signer: one parsed key, many signatures. Verified independently (the openssl CLI, and
// EVP_DigestVerify against the public PEM for the bulk checks).

#include <openssl/pem.h>

#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/openssl_handles.h"
#include "crypto/signing.h"
#include "crypto/signing_test_util.h"

namespace fleet::crypto {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

static_assert(!std::is_copy_constructible_v<Signer>);
static_assert(!std::is_copy_assignable_v<Signer>);
static_assert(std::is_nothrow_move_constructible_v<Signer>);
static_assert(std::is_nothrow_move_assignable_v<Signer>);

nlohmann::json Claims(int n) {
  return {{"iss", "https://fleet.example.com"},
          {"sub", "usage-tracker"},
          {"iat", 1760000000 + n},
          {"exp", 1760000060 + n},
          {"jti", "jti-" + std::to_string(n)}};
}

// True when EVP_DigestVerify accepts the token's signature under `public_pem`.
bool Verifies(const std::string& token, const std::string& public_pem, SigningAlg alg) {
  const std::vector<std::string> parts = SplitJwt(token);
  if (parts.size() != 3) return false;
  std::string signature = Base64UrlDecode(parts[2]).value_or("");
  if (alg == SigningAlg::kES256) {
    if (signature.size() != 64) return false;
    signature = RawEcdsaToDer(signature);
  }
  BioPtr bio(BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size())));
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const std::string input = parts[0] + "." + parts[1];
  return key && ctx &&
         EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                          input.size()) == 1;
}

class SignerTest : public GeneratedKeyTest {};

INSTANTIATE_TEST_SUITE_P(Algorithms, SignerTest,
                         ::testing::Values(SigningAlg::kRS256, SigningAlg::kES256),
                         [](const auto& info) { return std::string(SigningAlgName(info.param)); });

TEST_P(SignerTest, SignedJwtVerifiesWithTheOpensslCli) {
  auto signer = Signer::Create(pair_);
  ASSERT_TRUE(signer.has_value()) << signer.error().message;

  auto token = signer->Sign("fleet-1", Claims(0));

  ASSERT_TRUE(token.has_value()) << token.error().message;
  EXPECT_EQ(signer->alg(), GetParam());
  EXPECT_TRUE(CliVerifies(*token, pair_.public_pem, GetParam()));
  EXPECT_EQ(Base64UrlDecode(SplitJwt(*token)[0]).value(),
            R"({"alg":")" + std::string(SigningAlgName(GetParam())) +
                R"(","kid":"fleet-1","typ":"JWT"})");
  EXPECT_EQ(nlohmann::json::parse(Base64UrlDecode(SplitJwt(*token)[1]).value()), Claims(0));
}

TEST_P(SignerTest, ManySignaturesFromOneSignerAllVerify) {
  const Signer signer = Signer::Create(pair_).value();
  std::vector<std::string> tokens;

  for (int i = 0; i < 200; ++i) tokens.push_back(signer.Sign("fleet-1", Claims(i)).value());

  for (size_t i = 0; i < tokens.size(); ++i) {
    EXPECT_TRUE(Verifies(tokens[i], pair_.public_pem, GetParam())) << "token " << i;
    EXPECT_EQ(nlohmann::json::parse(Base64UrlDecode(SplitJwt(tokens[i])[1]).value()),
              Claims(static_cast<int>(i)));
  }
  EXPECT_TRUE(CliVerifies(tokens.front(), pair_.public_pem, GetParam()));
  EXPECT_TRUE(CliVerifies(tokens.back(), pair_.public_pem, GetParam()));
}

TEST_P(SignerTest, SeveralThreadsMaySignWithOneSignerAtOnce) {
  const Signer signer = Signer::Create(pair_).value();
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::vector<std::string>> tokens(kThreads);

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        tokens[t].push_back(signer.Sign("fleet-1", Claims(t * kEach + i)).value_or(""));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(tokens[t].size(), static_cast<size_t>(kEach));
    for (const std::string& token : tokens[t]) {
      EXPECT_TRUE(Verifies(token, pair_.public_pem, GetParam())) << "thread " << t;
    }
  }
}

TEST_P(SignerTest, AMovedSignerKeepsSigning) {
  Signer first = Signer::Create(pair_).value();
  Signer moved = std::move(first);
  Signer assigned = Signer::Create(GenerateKeyPair(GetParam()).value()).value();

  assigned = std::move(moved);

  EXPECT_TRUE(Verifies(assigned.Sign("k", Claims(1)).value(), pair_.public_pem, GetParam()));
  auto from_moved = first.Sign("k", Claims(1));  // NOLINT(bugprone-use-after-move): on purpose
  ASSERT_FALSE(from_moved.has_value());
  EXPECT_EQ(from_moved.error().code, ErrorCode::kFailedPrecondition);
}

TEST(SignerRs256Test, SignsExactlyWhatSignJwtSigns) {
  // PKCS#1 v1.5 is deterministic: the wrapper and the Signer must agree byte for byte.
  const KeyPair pair = GenerateKeyPair(SigningAlg::kRS256).value();

  EXPECT_EQ(Signer::Create(pair).value().Sign("r1", Claims(3)).value(),
            SignJwt(pair, "r1", Claims(3)).value());
}

TEST(SignerCreateTest, RefusesAMislabelledOrUnreadableKeyWithoutEchoingIt) {
  const KeyPair pair = GenerateKeyPair(SigningAlg::kES256).value();

  auto mislabelled = Signer::Create({SigningAlg::kRS256, pair.private_pem, pair.public_pem});
  auto garbage = Signer::Create({SigningAlg::kES256, "not a key", ""});
  auto empty = Signer::Create({SigningAlg::kES256, "", ""});

  for (const auto* result : {&mislabelled, &garbage, &empty}) {
    ASSERT_FALSE(result->has_value());
    EXPECT_EQ(result->error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_THAT(mislabelled.error().message, HasSubstr("ES256 key but the key pair says RS256"));
  EXPECT_THAT(garbage.error().message, Not(HasSubstr("not a key")));
}

TEST(SignerSignTest, RefusesBadKidOrClaims) {
  const Signer signer = Signer::Create(GenerateKeyPair(SigningAlg::kES256).value()).value();

  auto no_kid = signer.Sign("", Claims(0));
  auto array = signer.Sign("k", nlohmann::json::array({1, 2}));
  auto bad_utf8 = signer.Sign("k", {{"sub", "\xff\xfe"}});

  for (const auto* result : {&no_kid, &array, &bad_utf8}) {
    ASSERT_FALSE(result->has_value());
    EXPECT_EQ(result->error().code, ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace fleet::crypto
