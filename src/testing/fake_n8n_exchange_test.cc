// The fake n8n's token exchange behaves like n8n 2.40.7 (n8n-reference.md section 1). Subject
// tokens are signed with test_jwt (OpenSSL), never with the product's crypto module.

#include <ctime>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "testing/fake_n8n.h"
#include "testing/test_jwt.h"

namespace fleet::testing {
namespace {

using Json = nlohmann::json;

constexpr char kIssuer[] = "https://usage.partner.example";
constexpr char kEmail[] = "usage-tracker@partner.example";
constexpr char kGrant[] = "urn:ietf:params:oauth:grant-type:token-exchange";

struct Answer {
  int status{};
  Json body{};
  std::string retry_after{};
};

class FakeExchangeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new TestKey(MakeTestKey("RS256"));
    ec_ = new TestKey(MakeTestKey("ES256"));
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
  }

  void SetUp() override {
    fake_.TrustKey({"rsa-1", kIssuer, rsa_->public_pem, {"RS256"}, {"global:admin"}, {}, true});
    fake_.TrustKey({"ec-1", kIssuer, ec_->public_pem, {"ES256"}, {"global:admin"}, {}, true});
    fake_.SetOwnerEmail("owner@acme.example");
  }

  static Json Claims(const std::string& jti) {
    int64_t now = std::time(nullptr);
    return Json{{"iss", kIssuer},  {"sub", kEmail},          {"aud", "https://n8n.acme.example"},
                {"iat", now},      {"exp", now + 300},       {"jti", jti},
                {"email", kEmail}, {"email_verified", true}, {"role", "global:admin"}};
  }

  static std::string Sign(const Json& claims, const std::string& kid = "rsa-1") {
    const TestKey& key = kid.rfind("ec", 0) == 0 ? *ec_ : *rsa_;
    return SignTestJwt(key, {{"alg", key.alg}, {"typ", "JWT"}, {"kid", kid}}, claims);
  }

  Answer Post(const std::string& body, const std::string& type) {
    httplib::Client client("127.0.0.1", fake_.port());
    auto res = client.Post("/rest/auth/oauth/token", body, type.c_str());
    if (!res) return {};
    return {res->status, Json::parse(res->body, nullptr, false),
            res->get_header_value("Retry-After")};
  }

  Answer Exchange(const std::string& jwt) {
    return Post(std::string("grant_type=") + "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-" +
                    "exchange&subject_token=" + jwt,
                "application/x-www-form-urlencoded");
  }

  int Get(const std::string& path, const std::string& bearer) {
    httplib::Client client("127.0.0.1", fake_.port());
    auto res = client.Get(path.c_str(), {{"Authorization", "Bearer " + bearer}});
    return res ? res->status : 0;
  }

  // Exchanges `claims` and expects n8n's opaque refusal with `reason` recorded.
  void ExpectRefused(const Json& claims, const std::string& reason,
                     const std::string& kid = "rsa-1") {
    Answer answer = Exchange(Sign(claims, kid));
    EXPECT_EQ(answer.status, 400);
    EXPECT_EQ(answer.body,
              (Json{{"error", "invalid_grant"}, {"error_description", "Token exchange failed"}}));
    ASSERT_FALSE(fake_.ExchangeFailureReasons().empty());
    EXPECT_EQ(fake_.ExchangeFailureReasons().back(), reason);
    EXPECT_EQ(fake_.ExchangeCount(), 0);
  }

  static TestKey* rsa_;
  static TestKey* ec_;
  FakeN8n fake_;
};

TestKey* FakeExchangeTest::rsa_ = nullptr;
TestKey* FakeExchangeTest::ec_ = nullptr;

TEST_F(FakeExchangeTest, IssuesABearerTokenForTheSubject) {
  Answer answer = Exchange(Sign(Claims("j1")));

  ASSERT_EQ(answer.status, 200) << answer.body.dump();
  EXPECT_EQ(answer.body["token_type"], "Bearer");
  EXPECT_EQ(answer.body["expires_in"], 300);
  EXPECT_EQ(answer.body["issued_token_type"], "urn:ietf:params:oauth:token-type:access_token");
  std::string token = answer.body["access_token"];
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(fake_.ExchangeCount(), 1);
  EXPECT_EQ(Get("/api/v1/workflows", token), 200);
  EXPECT_EQ(Get("/api/v1/workflows", "not-issued"), 401);
  EXPECT_EQ(Get("/rest/workflows", token), 401);  // the internal API refuses Bearer tokens
}

TEST_F(FakeExchangeTest, MemberTokenCannotReadInsights) {
  fake_.TrustKey({"member", kIssuer, rsa_->public_pem, {"RS256"}, {"global:member"}, {}, true});
  Json claims = Claims("mem1");
  claims["role"] = "global:member";
  Answer member = Exchange(Sign(claims, "member"));
  Answer admin = Exchange(Sign(Claims("adm1")));
  ASSERT_EQ(member.status, 200);
  ASSERT_EQ(admin.status, 200);

  EXPECT_EQ(Get("/api/v1/insights/summary", member.body["access_token"]), 403);
  EXPECT_EQ(Get("/api/v1/insights/summary", admin.body["access_token"]), 200);
}

TEST_F(FakeExchangeTest, VerifiesEs256Signatures) {
  Answer answer = Exchange(Sign(Claims("j1"), "ec-1"));
  EXPECT_EQ(answer.status, 200) << answer.body.dump();
}

TEST_F(FakeExchangeTest, AcceptsAJsonBody) {
  Answer answer = Post(Json{{"grant_type", kGrant}, {"subject_token", Sign(Claims("j1"))}}.dump(),
                       "application/json");
  EXPECT_EQ(answer.status, 200) << answer.body.dump();
}

TEST_F(FakeExchangeTest, CapsTheTokenLifetimeAtTheMaxTtl) {
  fake_.SetAccessTokenTtl(120);
  Answer answer = Exchange(Sign(Claims("j1")));
  EXPECT_EQ(answer.body["expires_in"], 120);
}

TEST_F(FakeExchangeTest, ExpiredAccessTokenIsRefused) {
  fake_.SetAccessTokenTtl(0);
  Answer answer = Exchange(Sign(Claims("j1")));
  ASSERT_EQ(answer.status, 200);
  EXPECT_EQ(Get("/api/v1/workflows", answer.body["access_token"]), 401);
}

TEST_F(FakeExchangeTest, RejectsWrongGrantTypeAndMissingSubjectToken) {
  Answer wrong =
      Post("grant_type=client_credentials&subject_token=x", "application/x-www-form-urlencoded");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(wrong.body["error"], "unsupported_grant_type");

  Answer missing = Post(std::string("grant_type=") + kGrant, "application/x-www-form-urlencoded");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body["error"], "invalid_request");
}

TEST_F(FakeExchangeTest, ReplayedJtiIsRefusedEvenAfterAFailure) {
  Json claims = Claims("once");
  claims["role"] = "global:member";
  ExpectRefused(claims, "role");
  ExpectRefused(Claims("once"), "token_replay");  // the failed exchange consumed the jti
}

TEST_F(FakeExchangeTest, RefusesEveryVerificationFailureOpaquely) {
  ExpectRefused(Claims("b"), "unknown_key", "rsa-2");

  Json claims = Claims("c");
  claims["iss"] = "https://other.example";
  ExpectRefused(claims, "unknown_key");

  claims = Claims("d");
  claims["exp"] = std::time(nullptr) - 1;
  ExpectRefused(claims, "expired");

  claims = Claims("e");
  claims.erase("iat");
  ExpectRefused(claims, "invalid_claims");

  claims = Claims("f");
  claims.erase("jti");
  ExpectRefused(claims, "invalid_claims");

  claims = Claims("g");
  claims["email_verified"] = false;
  ExpectRefused(claims, "email_not_verified");

  claims = Claims("h");
  claims["email"] = "Owner@acme.example";
  ExpectRefused(claims, "owner");

  claims = Claims("i");
  claims["role"] = "global:owner";
  ExpectRefused(claims, "role");
}

TEST_F(FakeExchangeTest, RefusesABadSignatureAndAForeignAlgorithm) {
  std::string jwt = Sign(Claims("s1"));
  jwt[jwt.size() - 5] = jwt[jwt.size() - 5] == 'A' ? 'B' : 'A';
  Answer answer = Exchange(jwt);
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(fake_.ExchangeFailureReasons().back(), "bad_signature");

  // Signed by the RSA key but claiming the EC key's kid.
  std::string swapped =
      SignTestJwt(*rsa_, {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "ec-1"}}, Claims("s2"));
  EXPECT_EQ(Exchange(swapped).status, 400);
  EXPECT_EQ(fake_.ExchangeFailureReasons().back(), "algorithm");

  EXPECT_EQ(Exchange("not-a-jwt").status, 400);
  EXPECT_EQ(fake_.ExchangeFailureReasons().back(), "malformed");
}

TEST_F(FakeExchangeTest, ChecksAudienceOnlyWhenExpected) {
  fake_.TrustKey({"aud-1",
                  "https://aud.example",
                  rsa_->public_pem,
                  {"RS256"},
                  {"global:admin"},
                  std::string("https://n8n.acme.example"),
                  true});
  Json claims = Claims("a1");
  claims["iss"] = "https://aud.example";
  claims["aud"] = Json::array({"other", "https://n8n.acme.example"});
  EXPECT_EQ(Exchange(Sign(claims, "aud-1")).status, 200);

  claims["jti"] = "a2";
  claims["aud"] = "https://elsewhere.example";
  EXPECT_EQ(Exchange(Sign(claims, "aud-1")).status, 400);
  EXPECT_EQ(fake_.ExchangeFailureReasons().back(), "audience");

  // The default keys set no expectedAudience: any aud passes.
  claims = Claims("a3");
  claims["aud"] = "anything";
  EXPECT_EQ(Exchange(Sign(claims)).status, 200);
}

TEST_F(FakeExchangeTest, EmailVerifiedAsStringOrNotRequired) {
  Json claims = Claims("v1");
  claims["email_verified"] = "true";
  EXPECT_EQ(Exchange(Sign(claims)).status, 200);

  fake_.TrustKey({"lax", kIssuer, rsa_->public_pem, {"RS256"}, {"global:admin"}, {}, false});
  claims = Claims("v2");
  claims.erase("email_verified");
  EXPECT_EQ(Exchange(Sign(claims, "lax")).status, 200);
}

TEST_F(FakeExchangeTest, ModesAnswerLikeN8n) {
  fake_.SetTokenExchange(FakeN8n::TokenExchangeMode::kDisabled);
  Answer disabled = Exchange(Sign(Claims("m1")));
  EXPECT_EQ(disabled.status, 501);
  EXPECT_EQ(disabled.body["error"], "server_error");

  fake_.SetTokenExchange(FakeN8n::TokenExchangeMode::kNotLoaded);
  EXPECT_EQ(Exchange(Sign(Claims("m2"))).status, 404);

  fake_.SetTokenExchange(FakeN8n::TokenExchangeMode::kEnabled);
  EXPECT_EQ(Exchange(Sign(Claims("m3"))).status, 200);
}

TEST_F(FakeExchangeTest, RateLimitAnswers429WithRetryAfter) {
  fake_.SetExchangeRateLimit(2);
  EXPECT_EQ(Exchange(Sign(Claims("r1"))).status, 200);
  EXPECT_EQ(Exchange(Sign(Claims("r2"))).status, 200);

  Answer limited = Exchange(Sign(Claims("r3")));

  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.body, (Json{{"message", "Too many requests"}}));
  int retry_after = std::stoi(limited.retry_after);
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 60);
  EXPECT_EQ(fake_.ExchangeCount(), 2);
}

TEST_F(FakeExchangeTest, FailNextAnswersThenRecovers) {
  fake_.FailNext(1, 429, 7);

  Answer first = Exchange(Sign(Claims("f1")));
  Answer second = Exchange(Sign(Claims("f2")));

  EXPECT_EQ(first.status, 429);
  EXPECT_EQ(first.retry_after, "7");
  EXPECT_EQ(second.status, 200);
}

}  // namespace
}  // namespace fleet::testing
