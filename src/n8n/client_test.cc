#include "n8n/client.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/jwt.h"
#include "testing/fake_n8n.h"

namespace fleet::n8n {
namespace {

using testing::FakeN8n;
using Json = nlohmann::json;

constexpr int64_t kNow = 1790000000;  // 2026-09-21
constexpr int64_t kDay = 86400;

// An n8n-style API key: a JWT (the signature is not checked by the client).
std::string MakeKey(std::optional<int64_t> exp, const std::string& id = "k1") {
  Json payload = {
      {"sub", "user-" + id}, {"iss", "n8n"}, {"aud", "public-api"}, {"iat", kNow - kDay}};
  if (exp) payload["exp"] = *exp;
  return Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + Base64UrlEncode(payload.dump()) +
         ".c2lnbmF0dXJl";
}

std::vector<std::string> Names(const KeyCheckReport& report) {
  std::vector<std::string> names;
  for (const auto& step : report.steps) names.push_back(step.name);
  return names;
}

const std::vector<std::string> kSteps = {"shape", "reachable", "authenticated", "not expired"};

HttpResponse Response(int status, std::string body, Headers headers = {}) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

TEST(RequestsTest, BuildHealthAndListRequests) {
  Endpoint endpoint{"https://n8n.example.com/base", false};
  HttpRequest health = HealthRequest(endpoint);
  EXPECT_EQ(health.method, "GET");
  EXPECT_EQ(health.url, "https://n8n.example.com/base/healthz");
  EXPECT_FALSE(health.verify_tls);

  HttpRequest list = ListWorkflowsRequest(endpoint, ApiAuth::ApiKey("secret"), 50, "a b/=");
  EXPECT_EQ(list.url, "https://n8n.example.com/base/api/v1/workflows?limit=50&cursor=a%20b%2F%3D");
  EXPECT_NE(std::find(list.headers.begin(), list.headers.end(),
                      std::pair<std::string, std::string>{"X-N8N-API-KEY", "secret"}),
            list.headers.end());

  HttpRequest bearer = ListWorkflowsRequest(endpoint, ApiAuth::Bearer("tok"), 1);
  EXPECT_EQ(bearer.url, "https://n8n.example.com/base/api/v1/workflows?limit=1");
  EXPECT_NE(std::find(bearer.headers.begin(), bearer.headers.end(),
                      std::pair<std::string, std::string>{"Authorization", "Bearer tok"}),
            bearer.headers.end());
}

TEST(RequestsTest, ListWorkflowsPagesThroughTheFake) {
  FakeN8n fake;
  fake.AcceptApiKey("key");
  for (int i = 0; i < 5; ++i) fake.AddWorkflow("wf" + std::to_string(i));
  auto transport = MakeCurlTransport();
  Endpoint endpoint{fake.url(), true};
  std::vector<std::string> names;
  std::string cursor;
  int pages = 0;
  do {
    auto response =
        transport->Send(ListWorkflowsRequest(endpoint, ApiAuth::ApiKey("key"), 2, cursor));
    ASSERT_TRUE(response.has_value()) << response.error().message;
    ASSERT_EQ(response->status, 200) << response->body;
    Json page = Json::parse(response->body);
    for (const auto& workflow : page["data"]) names.push_back(workflow["name"]);
    cursor = page["nextCursor"].is_string() ? page["nextCursor"].get<std::string>() : "";
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names, (std::vector<std::string>{"wf0", "wf1", "wf2", "wf3", "wf4"}));
}

TEST(DescribeApiFailureTest, UnauthorizedPointsAtTheKey) {
  Error error = DescribeApiFailure(Response(401, R"({"message":"unauthorized"})"), "acme");
  EXPECT_EQ(error.code, ErrorCode::kUnauthenticated);
  EXPECT_NE(error.message.find("server 'acme' refused the API key (401)"), std::string::npos);
  EXPECT_NE(error.message.find("n8n-fleet apikey test"), std::string::npos);
  EXPECT_NE(error.message.find("\"unauthorized\""), std::string::npos);
}

TEST(DescribeApiFailureTest, MapsStatusesToCodes) {
  EXPECT_EQ(DescribeApiFailure(Response(403, R"({"message":"Forbidden"})"), "a").code,
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(DescribeApiFailure(Response(500, ""), "a").code, ErrorCode::kUnavailable);
  EXPECT_EQ(DescribeApiFailure(Response(503, ""), "a").code, ErrorCode::kUnavailable);
  EXPECT_EQ(DescribeApiFailure(Response(400, R"({"message":"bad"})"), "a").code,
            ErrorCode::kBadResponse);
  Error redirect = DescribeApiFailure(Response(301, "", {{"location", "https://x/"}}), "a");
  EXPECT_EQ(redirect.code, ErrorCode::kBadResponse);
  EXPECT_NE(redirect.message.find("to https://x/"), std::string::npos);
}

TEST(DescribeApiFailureTest, NotFoundMentionsThePublicApiAndTheUrl) {
  Error error = DescribeApiFailure(Response(404, R"({"message":"not found"})"), "acme");
  EXPECT_EQ(error.code, ErrorCode::kNotFound);
  EXPECT_NE(error.message.find("public API may be disabled"), std::string::npos);
  EXPECT_NE(error.message.find("URL is wrong"), std::string::npos);
}

TEST(DescribeApiFailureTest, RateLimitCarriesRetryAfter) {
  Error error = DescribeApiFailure(
      Response(429, R"({"message":"Too many requests"})", {{"retry-after", "7"}}), "acme");
  EXPECT_EQ(error.code, ErrorCode::kRateLimited);
  EXPECT_NE(error.message.find("retry after 7 seconds"), std::string::npos) << error.message;
  EXPECT_NE(DescribeApiFailure(Response(429, ""), "a").message.find("retry later"),
            std::string::npos);
}

TEST(DescribeApiFailureTest, HtmlBodiesAreCalledOut) {
  Error login = DescribeApiFailure(
      Response(200, "<!DOCTYPE html><html>Sign in</html>", {{"content-type", "text/html"}}), "a");
  EXPECT_EQ(login.code, ErrorCode::kBadResponse);
  EXPECT_NE(login.message.find("answered HTML"), std::string::npos);
  EXPECT_NE(login.message.find("login page"), std::string::npos);
  Error proxy = DescribeApiFailure(Response(502, "\n  <html><body>Bad Gateway</body></html>"), "a");
  EXPECT_EQ(proxy.code, ErrorCode::kUnavailable);
  EXPECT_NE(proxy.message.find("HTML"), std::string::npos);
}

TEST(DescribeApiFailureTest, QuotesLongMessagesShortAndPrintable) {
  Json body = {{"message", std::string(500, 'x') + "\n\x01"}};
  Error error = DescribeApiFailure(Response(400, body.dump()), "a");
  EXPECT_EQ(error.message.find('\n'), std::string::npos);
  EXPECT_LT(error.message.size(), 400u);
}

TEST(TestApiKeyTest, PassesEveryStepAgainstAHealthyInstance) {
  FakeN8n fake;
  std::string key = MakeKey(kNow + 30 * kDay);
  fake.AcceptApiKey(key);
  auto transport = MakeCurlTransport();

  KeyCheckReport report = TestApiKey(*transport, Endpoint{fake.url(), true}, key, kNow);

  EXPECT_TRUE(report.ok());
  EXPECT_EQ(Names(report), kSteps);
  for (const auto& step : report.steps) EXPECT_TRUE(step.ok) << step.name << ": " << step.detail;
  EXPECT_NE(report.steps[3].detail.find("in 30 days"), std::string::npos);
  EXPECT_EQ(fake.Requests(),
            (std::vector<std::string>{"GET /healthz", "GET /api/v1/workflows?limit=1"}));
  auto recorded = fake.RecordedRequests();
  EXPECT_EQ(recorded[0].Header("x-n8n-api-key"), "");  // the health check carries no key
  EXPECT_EQ(recorded[1].Header("x-n8n-api-key"), key);
}

TEST(TestApiKeyTest, KeyWithoutExpiryPasses) {
  FakeN8n fake;
  std::string key = MakeKey(std::nullopt);
  fake.AcceptApiKey(key);
  auto transport = MakeCurlTransport();
  KeyCheckReport report = TestApiKey(*transport, Endpoint{fake.url(), true}, key, kNow);
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.steps[3].detail, "no expiry");
}

TEST(TestApiKeyTest, RefusedKeyFailsAuthentication) {
  FakeN8n fake;  // accepts no key
  std::string key = MakeKey(std::nullopt);
  auto transport = MakeCurlTransport();

  KeyCheckReport report = TestApiKey(*transport, Endpoint{fake.url(), true}, key, kNow);

  EXPECT_FALSE(report.ok());
  EXPECT_EQ(Names(report), kSteps);
  EXPECT_TRUE(report.steps[0].ok);
  EXPECT_TRUE(report.steps[1].ok);
  EXPECT_FALSE(report.steps[2].ok);
  EXPECT_NE(report.steps[2].detail.find("401"), std::string::npos) << report.steps[2].detail;
  EXPECT_NE(report.steps[2].detail.find("Settings > n8n API"), std::string::npos);
  EXPECT_EQ(report.steps[2].detail.find(key), std::string::npos);
  EXPECT_TRUE(report.steps[3].ok);
}

TEST(TestApiKeyTest, UnreachableServerSkipsAuthentication) {
  std::string url = "http://127.0.0.1:" + std::to_string(testing::ClosedLocalPort());
  auto transport = MakeCurlTransport();

  KeyCheckReport report = TestApiKey(*transport, Endpoint{url, true}, MakeKey(std::nullopt), kNow);

  EXPECT_FALSE(report.ok());
  EXPECT_EQ(Names(report), kSteps);
  EXPECT_FALSE(report.steps[1].ok);
  EXPECT_NE(report.steps[1].detail.find("check the URL"), std::string::npos);
  EXPECT_FALSE(report.steps[2].ok);
  EXPECT_EQ(report.steps[2].detail.rfind("skipped:", 0), 0u);
  EXPECT_TRUE(report.steps[3].ok);
}

TEST(TestApiKeyTest, ExpiredKeyFailsTheExpiryStep) {
  FakeN8n fake;
  std::string key = MakeKey(kNow - 3 * kDay);
  fake.AcceptApiKey(key);  // n8n would refuse it; the expiry step must say why on its own
  auto transport = MakeCurlTransport();

  KeyCheckReport report = TestApiKey(*transport, Endpoint{fake.url(), true}, key, kNow);

  EXPECT_FALSE(report.ok());
  ASSERT_EQ(Names(report), kSteps);
  EXPECT_FALSE(report.steps[3].ok);
  EXPECT_NE(report.steps[3].detail.find("expired at 2026-09-18"), std::string::npos)
      << report.steps[3].detail;
  EXPECT_NE(report.steps[3].detail.find("3 days ago"), std::string::npos);
}

TEST(TestApiKeyTest, MalformedKeyIsNeverSent) {
  FakeN8n fake;
  auto transport = MakeCurlTransport();

  KeyCheckReport report =
      TestApiKey(*transport, Endpoint{fake.url(), true}, "n8n_api_SECRETPART", kNow);

  EXPECT_FALSE(report.ok());
  EXPECT_EQ(Names(report), kSteps);
  EXPECT_FALSE(report.steps[0].ok);
  EXPECT_NE(report.steps[0].detail.find("not a JWT"), std::string::npos);
  EXPECT_EQ(report.steps[0].detail.find("SECRETPART"), std::string::npos);
  for (size_t i = 1; i < report.steps.size(); ++i) {
    EXPECT_EQ(report.steps[i].detail.rfind("skipped:", 0), 0u);
  }
  EXPECT_TRUE(fake.Requests().empty());
}

TEST(TestApiKeyTest, ExplainsAnHtmlLoginPageAndServerErrors) {
  FakeN8n fake;
  std::string key = MakeKey(std::nullopt);
  auto transport = MakeCurlTransport();
  Endpoint endpoint{fake.url(), true};

  fake.SetFault(FakeN8n::Fault::kHtmlLogin);
  KeyCheckReport html = TestApiKey(*transport, endpoint, key, kNow);
  EXPECT_FALSE(html.steps[1].ok);
  EXPECT_NE(html.steps[1].detail.find("HTML"), std::string::npos) << html.steps[1].detail;

  fake.SetFault(FakeN8n::Fault::kGarbage);
  KeyCheckReport garbage = TestApiKey(*transport, endpoint, key, kNow);
  EXPECT_FALSE(garbage.steps[1].ok);
  EXPECT_NE(garbage.steps[1].detail.find("n8n instance?"), std::string::npos);

  fake.SetFault(FakeN8n::Fault::kServerError);
  KeyCheckReport error = TestApiKey(*transport, endpoint, key, kNow);
  EXPECT_FALSE(error.steps[1].ok);
  EXPECT_NE(error.steps[1].detail.find("HTTP 500"), std::string::npos);
  EXPECT_EQ(fake.Requests().size(), 3u);  // only /healthz each time
}

}  // namespace
}  // namespace fleet::n8n
