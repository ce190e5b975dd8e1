#include "n8n/insights.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/time.h"

namespace fleet::n8n {
namespace {

constexpr char kServer[] = "acme-prod";

int64_t At(const char* timestamp) { return *ParseTimestamp(timestamp); }

HttpResponse Response(int status, std::string body, Headers headers = {}) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

// n8n 2.40.7's answer (n8n-reference.md section 2), with `field`'s whole entry replaced by
// `entry` when given.
std::string Body(const std::string& field = "", const std::string& entry = "") {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"total", R"({"value":10,"unit":"count","deviation":null})"},
      {"failed", R"({"value":2,"unit":"count","deviation":null})"},
      {"failureRate", R"({"value":0.2,"unit":"ratio","deviation":null})"},
      {"timeSaved", R"({"value":7.5,"unit":"minute","deviation":null})"},
      {"averageRunTime", R"({"value":31.3,"unit":"millisecond","deviation":null})"}};
  std::string body = "{";
  for (const auto& [name, value] : fields) {
    if (name == field && entry.empty()) continue;  // left out
    if (body.size() > 1) body += ",";
    body += "\"" + name + "\":" + (name == field ? entry : value);
  }
  return body + "}";
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(InsightsRequestTest, SendsUrlEncodedIsoDatesWithMilliseconds) {
  Endpoint endpoint{"https://n8n.example.com/base", true};
  HttpRequest request =
      InsightsSummaryRequest(endpoint, ApiAuth::ApiKey("secret-key"), At("2026-11-20T00:00:00Z"),
                             At("2026-11-24T00:00:00Z"));
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.url,
            "https://n8n.example.com/base/api/v1/insights/summary"
            "?startDate=2026-11-20T00%3A00%3A00.000Z&endDate=2026-11-24T00%3A00%3A00.000Z");
  EXPECT_TRUE(request.body.empty());
  EXPECT_TRUE(request.verify_tls);
  EXPECT_EQ(request.headers,
            (Headers{{"X-N8N-API-KEY", "secret-key"}, {"Accept", "application/json"}}));
}

TEST(InsightsRequestTest, EncodesAnyTimeOfDayAndCarriesBearerAndTlsChoice) {
  Endpoint endpoint{"http://10.0.0.7:5678", false};
  HttpRequest request = InsightsSummaryRequest(
      endpoint, ApiAuth::Bearer("tok"), At("2026-01-02T03:04:05Z"), At("2026-12-31T23:59:59Z"));
  EXPECT_EQ(request.url,
            "http://10.0.0.7:5678/api/v1/insights/summary"
            "?startDate=2026-01-02T03%3A04%3A05.000Z&endDate=2026-12-31T23%3A59%3A59.000Z");
  EXPECT_FALSE(request.verify_tls);
  EXPECT_NE(std::find(request.headers.begin(), request.headers.end(),
                      std::pair<std::string, std::string>{"Authorization", "Bearer tok"}),
            request.headers.end());
  EXPECT_FALSE(Contains(request.url, "tok"));
}

TEST(ParseInsightsSummaryTest, ReadsN8nsAnswer) {
  auto summary = ParseInsightsSummary(Response(200, Body()), kServer);
  ASSERT_TRUE(summary) << summary.error().message;
  EXPECT_EQ(summary->total, 10);
  EXPECT_EQ(summary->failed, 2);
  EXPECT_DOUBLE_EQ(summary->time_saved_minutes, 7.5);
  EXPECT_DOUBLE_EQ(summary->average_run_time_ms, 31.3);
  EXPECT_DOUBLE_EQ(summary->total_run_time_ms(), 313.0);
}

TEST(ParseInsightsSummaryTest, AcceptsWholeCountsSentAsFloatsAndIgnoresExtras) {
  std::string body = Body("total", R"({"value":12.0,"unit":"count","deviation":3})");
  body.insert(1, R"("extra":{"value":"x"},)");
  auto summary = ParseInsightsSummary(Response(200, body), kServer);
  ASSERT_TRUE(summary) << summary.error().message;
  EXPECT_EQ(summary->total, 12);
}

TEST(ParseInsightsSummaryTest, AnEmptyWindowIsAllZeros) {
  std::string body = R"({"total":{"value":0},"failed":{"value":0},"failureRate":{"value":0},)"
                     R"("timeSaved":{"value":0},"averageRunTime":{"value":0}})";
  auto summary = ParseInsightsSummary(Response(200, body), kServer);
  ASSERT_TRUE(summary) << summary.error().message;
  EXPECT_EQ(summary->total, 0);
  EXPECT_DOUBLE_EQ(summary->total_run_time_ms(), 0.0);
}

struct BadBody {
  std::string field;
  std::string entry;  // "" leaves the field out
  std::string expected;
};

TEST(ParseInsightsSummaryTest, RejectsEveryMalformedFieldNamingItAndTheServer) {
  const std::vector<BadBody> cases = {
      {"total", "", "'total' is missing"},
      {"total", R"(12)", "'total' is missing or not an object"},
      {"total", R"({"unit":"count"})", "'total.value' is missing"},
      {"total", R"({"value":"12"})", "'total.value' is missing or not a number"},
      {"total", R"({"value":null})", "'total.value' is missing or not a number"},
      {"total", R"({"value":-1})", "'total.value' is -1"},
      {"total", R"({"value":12.5})", "'total.value' is 12.5, not a whole count"},
      {"total", R"({"value":1e300})", "not a whole count"},
      {"failed", "", "'failed' is missing"},
      {"failed", R"({"value":0.5})", "'failed.value' is 0.5, not a whole count"},
      {"failed", R"({"value":11})", "'failed' (11) exceeds 'total' (10)"},
      {"failureRate", "", "'failureRate' is missing"},
      {"failureRate", R"({"value":true})", "'failureRate.value' is missing or not a number"},
      {"timeSaved", "", "'timeSaved' is missing"},
      {"timeSaved", R"({"value":-0.5})", "'timeSaved.value' is -0.5"},
      {"averageRunTime", "", "'averageRunTime' is missing"},
      {"averageRunTime", R"({"value":-3})", "'averageRunTime.value' is -3"},
  };
  for (const auto& c : cases) {
    auto summary = ParseInsightsSummary(Response(200, Body(c.field, c.entry)), kServer);
    ASSERT_FALSE(summary) << c.field << " " << c.entry;
    EXPECT_EQ(summary.error().code, ErrorCode::kBadResponse) << c.entry;
    EXPECT_TRUE(Contains(summary.error().message, c.expected)) << summary.error().message;
    EXPECT_TRUE(Contains(summary.error().message, "server 'acme-prod'")) << c.entry;
  }
}

TEST(ParseInsightsSummaryTest, RejectsBodiesThatAreNotAJsonObject) {
  const std::vector<HttpResponse> responses = {
      Response(200, "not json"), Response(200, "[1,2]"), Response(200, ""),
      Response(200, "<html><body>Sign in</body></html>", {{"content-type", "text/html"}}),
      Response(200, R"({"data":{"total":{"value":1}}})")};
  for (const auto& response : responses) {
    auto summary = ParseInsightsSummary(response, kServer);
    ASSERT_FALSE(summary) << response.body;
    EXPECT_EQ(summary.error().code, ErrorCode::kBadResponse) << response.body;
    EXPECT_TRUE(Contains(summary.error().message, "acme-prod")) << summary.error().message;
  }
  EXPECT_TRUE(Contains(ParseInsightsSummary(responses[3], kServer).error().message,
                       "HTML instead of JSON"));
}

TEST(ParseInsightsSummaryTest, ABeyondHistoryRefusalIsRecognisable) {
  auto summary = ParseInsightsSummary(
      Response(403, R"({"message":"The selected date range exceeds the maximum history allowed )"
                    R"(by your license"})"),
      kServer);
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().code, ErrorCode::kPermissionDenied);
  EXPECT_TRUE(IsBeyondHistory(summary.error()));
  EXPECT_TRUE(Contains(summary.error().message, "server 'acme-prod'"));
  EXPECT_TRUE(Contains(summary.error().message, "cannot be collected"));
}

TEST(ParseInsightsSummaryTest, OtherRefusalsAreNotBeyondHistory) {
  auto scope = ParseInsightsSummary(Response(403, R"({"message":"Forbidden"})"), kServer);
  ASSERT_FALSE(scope);
  EXPECT_EQ(scope.error().code, ErrorCode::kPermissionDenied);
  EXPECT_FALSE(IsBeyondHistory(scope.error()));
  EXPECT_TRUE(Contains(scope.error().message, "insights:read")) << scope.error().message;
  EXPECT_TRUE(Contains(scope.error().message, "acme-prod"));

  auto hourly = ParseInsightsSummary(
      Response(403, R"({"message":"Hourly data is not available with your current licence"})"),
      kServer);
  ASSERT_FALSE(hourly);
  EXPECT_EQ(hourly.error().code, ErrorCode::kPermissionDenied);
  EXPECT_FALSE(IsBeyondHistory(hourly.error()));
  EXPECT_TRUE(Contains(hourly.error().message, "Hourly data")) << hourly.error().message;

  // The phrase alone, in another code or not at the start, is not the marker.
  EXPECT_FALSE(IsBeyondHistory(
      Error{ErrorCode::kBadResponse, "beyond the Insights history: server 'x' no longer ..."}));
  EXPECT_FALSE(IsBeyondHistory(
      Error{ErrorCode::kPermissionDenied, "server 'x': beyond the Insights history: ..."}));
  // A 200 mentioning the phrase is still parsed as a body.
  EXPECT_FALSE(ParseInsightsSummary(Response(200, "exceeds the maximum history"), kServer)
                   .error()
                   .message.starts_with("beyond"));
}

TEST(ParseInsightsSummaryTest, MapsHttpFailuresLikeTheRestOfTheApi) {
  const std::vector<std::pair<HttpResponse, ErrorCode>> cases = {
      {Response(401, R"({"message":"unauthorized"})"), ErrorCode::kUnauthenticated},
      {Response(404, R"({"message":"not found"})"), ErrorCode::kNotFound},
      {Response(429, R"({"message":"Too many requests"})", {{"retry-after", "30"}}),
       ErrorCode::kRateLimited},
      {Response(500, "oops"), ErrorCode::kUnavailable},
      {Response(503, "<html>Bad gateway</html>"), ErrorCode::kUnavailable},
      {Response(400, R"({"message":"Parameter 'startDate' must be url encoded"})"),
       ErrorCode::kBadResponse},
      {Response(302, "", {{"location", "https://sso.example.com/login"}}), ErrorCode::kBadResponse},
  };
  for (const auto& [response, code] : cases) {
    auto summary = ParseInsightsSummary(response, kServer);
    ASSERT_FALSE(summary) << response.status;
    EXPECT_EQ(summary.error().code, code) << response.status;
    EXPECT_EQ(summary.error().message, DescribeApiFailure(response, kServer).message);
    EXPECT_FALSE(IsBeyondHistory(summary.error()));
  }
  EXPECT_TRUE(Contains(ParseInsightsSummary(cases[2].first, kServer).error().message,
                       "retry after 30 seconds"));
}

}  // namespace
}  // namespace fleet::n8n
