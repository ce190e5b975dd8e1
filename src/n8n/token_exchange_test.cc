#include "n8n/token_exchange.h"

#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "n8n/retry.h"
#include "testing/fake_n8n.h"
#include "testing/test_jwt.h"

namespace fleet::n8n {
namespace {

using Json = nlohmann::json;
using testing::FakeN8n;

constexpr int64_t kNow = 1790000000;  // 2026-09-21
constexpr char kServer[] = "acme";
// A subject token must never leak into a message: every error test checks for this marker.
constexpr char kSubjectMarker[] = "eyJhbGciOiJSUzI1NiJ9";

const SubjectIdentity kWho{"https://usage.partner.example", "usage-tracker@partner.example",
                           "global:admin"};

HttpResponse Response(int status, std::string body, Headers headers = {}) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

Error ErrorFor(const HttpResponse& response) {
  Result<AccessToken> token = ParseTokenExchangeResponse(response, kServer, kNow);
  EXPECT_FALSE(token.has_value());
  if (token) return Error{};
  EXPECT_NE(token.error().message.find("server 'acme'"), std::string::npos)
      << token.error().message;
  EXPECT_EQ(token.error().message.find(kSubjectMarker), std::string::npos);
  return token.error();
}

bool Mentions(const Error& error, const std::string& text) {
  return error.message.find(text) != std::string::npos;
}

TEST(SubjectClaimsTest, CarriesExactlyTheClaimsN8nChecks) {
  Json claims = SubjectClaims(kWho, "https://n8n.acme.example", kNow, 300, "jti-1");

  EXPECT_EQ(claims, (Json{{"iss", "https://usage.partner.example"},
                          {"sub", "usage-tracker@partner.example"},
                          {"aud", "https://n8n.acme.example"},
                          {"iat", kNow},
                          {"exp", kNow + 300},
                          {"jti", "jti-1"},
                          {"email", "usage-tracker@partner.example"},
                          {"email_verified", true},
                          {"role", "global:admin"}}));
  EXPECT_TRUE(claims["email_verified"].is_boolean());
  EXPECT_TRUE(claims["iat"].is_number_integer());
  EXPECT_TRUE(claims["exp"].is_number_integer());
}

TEST(SubjectClaimsTest, CapsLifetimeAtFifteenMinutes) {
  EXPECT_EQ(SubjectClaims(kWho, "a", kNow, 3600, "j")["exp"], kNow + 900);
  EXPECT_EQ(SubjectClaims(kWho, "a", kNow, 900, "j")["exp"], kNow + 900);
  EXPECT_EQ(SubjectClaims(kWho, "a", kNow, 0, "j")["exp"], kNow + 1);
}

TEST(TokenExchangeRequestTest, PostsFormEncodedBodyWithJsonAccept) {
  Endpoint endpoint{"https://n8n.acme.example/base", false};

  HttpRequest request = TokenExchangeRequest(endpoint, "aa.b+b/c=.d d");

  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://n8n.acme.example/base/rest/auth/oauth/token");
  EXPECT_FALSE(request.verify_tls);
  EXPECT_EQ(request.headers, (Headers{{"Content-Type", "application/x-www-form-urlencoded"},
                                      {"Accept", "application/json"}}));
  EXPECT_EQ(request.body,
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
            "&subject_token=aa.b%2Bb%2Fc%3D.d%20d"
            "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt");
}

TEST(ParseTokenExchangeResponseTest, ReturnsTokenAndExpiry) {
  Result<AccessToken> token = ParseTokenExchangeResponse(
      Response(200, R"({"access_token":"at-1","token_type":"Bearer","expires_in":300,)"
                    R"("issued_token_type":"urn:ietf:params:oauth:token-type:access_token"})"),
      kServer, kNow);

  ASSERT_TRUE(token.has_value()) << token.error().message;
  EXPECT_EQ(token->token, "at-1");
  EXPECT_EQ(token->expires_at, kNow + 300);
}

TEST(ParseTokenExchangeResponseTest, NotLoadedIsAPrecondition) {
  Error error = ErrorFor(Response(404, R"({"message":"not found"})"));
  EXPECT_EQ(error.code, ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(Mentions(error, "N8N_ENV_FEAT_TOKEN_EXCHANGE=true")) << error.message;
  EXPECT_TRUE(Mentions(error, "feat:tokenExchange")) << error.message;
}

TEST(ParseTokenExchangeResponseTest, DisabledIsAPrecondition) {
  Error error = ErrorFor(Response(501, R"({"error":"server_error"})"));
  EXPECT_EQ(error.code, ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(Mentions(error, "N8N_TOKEN_EXCHANGE_ENABLED=true")) << error.message;
}

TEST(ParseTokenExchangeResponseTest, InvalidGrantListsCausesAndTheFix) {
  Error error = ErrorFor(
      Response(400, R"({"error":"invalid_grant","error_description":"Token exchange failed"})"));
  EXPECT_EQ(error.code, ErrorCode::kUnauthenticated);
  for (const char* cause :
       {"N8N_TOKEN_EXCHANGE_TRUSTED_KEYS", "kid", "issuer", "clocks", "verified email",
        "allowedRoles", "owner", "jti", "n8n-fleet key env"}) {
    EXPECT_TRUE(Mentions(error, cause)) << cause << " missing from: " << error.message;
  }
}

TEST(ParseTokenExchangeResponseTest, InvalidGrantFromAnInstanceWhoseClockIsOffSaysSo) {
  const std::string body =
      R"({"error":"invalid_grant","error_description":"Token exchange failed"})";
  Error ahead = ErrorFor(Response(400, body, {{"date", "Mon, 21 Sep 2026 15:13:20 GMT"}}));
  EXPECT_EQ(ahead.code, ErrorCode::kUnauthenticated);
  for (const char* text :
       {"clocks differ", "3600 seconds ahead", "Mon, 21 Sep 2026 15:13:20 GMT", "NTP"}) {
    EXPECT_TRUE(Mentions(ahead, text)) << text << " missing from: " << ahead.message;
  }
  EXPECT_FALSE(Mentions(ahead, "N8N_TOKEN_EXCHANGE_TRUSTED_KEYS")) << ahead.message;
  // A few seconds apart is latency and rounding: the usual list of causes.
  Error close = ErrorFor(Response(400, body, {{"date", "Mon, 21 Sep 2026 14:13:25 GMT"}}));
  EXPECT_FALSE(Mentions(close, "clocks differ")) << close.message;
  EXPECT_TRUE(Mentions(close, "N8N_TOKEN_EXCHANGE_TRUSTED_KEYS")) << close.message;
}

TEST(ParseTokenExchangeResponseTest, InvalidRequestQuotesN8n) {
  Error error = ErrorFor(Response(
      400, R"({"error":"invalid_request","error_description":"subject_token is required"})"));
  EXPECT_EQ(error.code, ErrorCode::kBadResponse);
  EXPECT_TRUE(Mentions(error, "invalid_request")) << error.message;
  EXPECT_TRUE(Mentions(error, "subject_token is required")) << error.message;
}

TEST(ParseTokenExchangeResponseTest, UnsupportedGrantTypeIsABadResponse) {
  Error error = ErrorFor(Response(400, R"({"error":"unsupported_grant_type"})"));
  EXPECT_EQ(error.code, ErrorCode::kBadResponse);
  EXPECT_TRUE(Mentions(error, "unsupported_grant_type")) << error.message;
}

TEST(ParseTokenExchangeResponseTest, RateLimitedSaysWhenToRetry) {
  Error with =
      ErrorFor(Response(429, R"({"message":"Too many requests"})", {{"retry-after", "42"}}));
  EXPECT_EQ(with.code, ErrorCode::kRateLimited);
  EXPECT_TRUE(Mentions(with, "retry after 42 seconds")) << with.message;

  Error without = ErrorFor(Response(429, R"({"message":"Too many requests"})"));
  EXPECT_EQ(without.code, ErrorCode::kRateLimited);
  EXPECT_TRUE(Mentions(without, "retry in a minute")) << without.message;
}

TEST(ParseTokenExchangeResponseTest, ServerErrorIsUnavailable) {
  Error error = ErrorFor(Response(500, R"({"message":"Internal Server Error"})"));
  EXPECT_EQ(error.code, ErrorCode::kUnavailable);
  EXPECT_TRUE(Mentions(error, "HTTP 500")) << error.message;
  EXPECT_TRUE(Mentions(error, "Internal Server Error")) << error.message;
}

TEST(ParseTokenExchangeResponseTest, OkWithoutTokenIsABadResponse) {
  Error no_token = ErrorFor(Response(200, R"({"token_type":"Bearer","expires_in":900})"));
  EXPECT_EQ(no_token.code, ErrorCode::kBadResponse);
  EXPECT_TRUE(Mentions(no_token, "access_token")) << no_token.message;

  Error no_expiry = ErrorFor(Response(200, R"({"access_token":"at"})"));
  EXPECT_EQ(no_expiry.code, ErrorCode::kBadResponse);
  EXPECT_TRUE(Mentions(no_expiry, "expires_in")) << no_expiry.message;
}

TEST(ParseTokenExchangeResponseTest, OkWithGarbageIsABadResponse) {
  Error garbage = ErrorFor(Response(200, "this is not json {"));
  EXPECT_EQ(garbage.code, ErrorCode::kBadResponse);
  EXPECT_TRUE(Mentions(garbage, "not JSON")) << garbage.message;

  Error html = ErrorFor(Response(200, "<html><body>Sign in</body></html>"));
  EXPECT_EQ(html.code, ErrorCode::kBadResponse);
  EXPECT_TRUE(Mentions(html, "HTML")) << html.message;
}

TEST(RetryAfterSecondsTest, ReadsDeltaSecondsOnly) {
  EXPECT_EQ(RetryAfterSeconds(Response(429, "", {{"retry-after", "7"}})), 7);
  EXPECT_EQ(RetryAfterSeconds(Response(429, "", {{"retry-after", " 0 "}})), 0);
  EXPECT_EQ(RetryAfterSeconds(Response(429, "")), -1);
  EXPECT_EQ(RetryAfterSeconds(Response(429, "", {{"retry-after", "-3"}})), -1);
  EXPECT_EQ(
      RetryAfterSeconds(Response(429, "", {{"retry-after", "Wed, 21 Oct 2026 07:28:00 GMT"}})), -1);
}

// End to end over loopback: subject JWT -> the fake n8n -> Bearer on the public API.
class TokenExchangeFakeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { key_ = new testing::TestKey(testing::MakeTestKey("RS256")); }
  static void TearDownTestSuite() { delete key_; }

  void SetUp() override {
    fake_.TrustKey({"k1", kWho.issuer, key_->public_pem, {"RS256"}, {"global:admin"}, {}, true});
    fake_.AddWorkflow("Billing");
    endpoint_.base_url = fake_.url();
  }

  std::string Mint(const std::string& jti) {
    return testing::SignTestJwt(*key_, {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "k1"}},
                                SubjectClaims(kWho, fake_.url(), std::time(nullptr), 300, jti));
  }

  static testing::TestKey* key_;
  FakeN8n fake_;
  std::unique_ptr<HttpTransport> transport_ = MakeCurlTransport();
  Endpoint endpoint_{};
};

testing::TestKey* TokenExchangeFakeTest::key_ = nullptr;

TEST_F(TokenExchangeFakeTest, ExchangedTokenOpensThePublicApi) {
  Result<HttpResponse> answer = transport_->Send(TokenExchangeRequest(endpoint_, Mint("j-1")));
  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  Result<AccessToken> token = ParseTokenExchangeResponse(*answer, kServer, kNow);
  ASSERT_TRUE(token.has_value()) << token.error().message;
  EXPECT_EQ(token->expires_at, kNow + 300);

  Result<HttpResponse> list =
      transport_->Send(ListWorkflowsRequest(endpoint_, ApiAuth::Bearer(token->token), 10));

  ASSERT_TRUE(list.has_value()) << list.error().message;
  EXPECT_EQ(list->status, 200);
  EXPECT_EQ(Json::parse(list->body)["data"][0]["name"], "Billing");
  EXPECT_EQ(fake_.ExchangeCount(), 1);
}

TEST_F(TokenExchangeFakeTest, ReplayedSubjectTokenIsAnInvalidGrant) {
  std::string jwt = Mint("j-2");
  ASSERT_TRUE(transport_->Send(TokenExchangeRequest(endpoint_, jwt)).has_value());

  Result<HttpResponse> again = transport_->Send(TokenExchangeRequest(endpoint_, jwt));

  ASSERT_TRUE(again.has_value()) << again.error().message;
  Result<AccessToken> token = ParseTokenExchangeResponse(*again, kServer, kNow);
  ASSERT_FALSE(token.has_value());
  EXPECT_EQ(token.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(token.error().message.find(jwt), std::string::npos);
  EXPECT_EQ(fake_.ExchangeFailureReasons(), std::vector<std::string>{"token_replay"});
}

TEST_F(TokenExchangeFakeTest, RetriesA429WithAFreshJti) {
  fake_.FailNext(1, 429, 2);
  std::vector<std::chrono::milliseconds> sleeps;

  Result<HttpResponse> answer = WithRetries(
      RetryPolicy{},
      [&](int attempt) {
        return transport_->Send(
            TokenExchangeRequest(endpoint_, Mint("r-" + std::to_string(attempt))));
      },
      [&](std::chrono::milliseconds pause) { sleeps.push_back(pause); }, [] { return 0.5; });

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(sleeps, std::vector<std::chrono::milliseconds>{std::chrono::seconds(2)});
  EXPECT_EQ(fake_.ExchangeCount(), 1);
  EXPECT_TRUE(fake_.ExchangeFailureReasons().empty());
}

}  // namespace
}  // namespace fleet::n8n
