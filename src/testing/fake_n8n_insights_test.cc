// The fake n8n's Insights summary follows n8n 2.40.7's window rules (n8n-reference.md
// section 2), with the reference's seeded example.

#include <string>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "testing/fake_n8n.h"

namespace fleet::testing {
namespace {

using Json = nlohmann::json;

constexpr char kKey[] = "api-key-1";

struct Answer {
  int status{};
  Json body{};
};

class FakeInsightsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_.AcceptApiKey(kKey);
    fake_.SetToday("2026-11-24");
    fake_.SetDailyInsights("2026-11-20", {105, 5, 50.0, 1050.0});
    fake_.SetDailyInsights("2026-11-21", {200, 0, 0.0, 2000.0});
    fake_.SetDailyInsights("2026-11-22", {307, 7, 0.0, 3070.0});
    fake_.SetDailyInsights("2026-11-23", {51, 1, 10.5, 510.0});
  }

  // GET with the query exactly as given (no client-side encoding).
  Answer Get(const std::string& target, const std::string& key = kKey) {
    httplib::Client client("127.0.0.1", fake_.port());
    client.set_url_encode(false);
    auto res = client.Get(target.c_str(), {{"X-N8N-API-KEY", key}});
    if (!res) return {};
    return {res->status, Json::parse(res->body, nullptr, false)};
  }

  // The summary for [start 00:00Z, end 00:00Z), dates URL-encoded like the product sends them.
  Answer Summary(const std::string& start_day, const std::string& end_day) {
    return Get("/api/v1/insights/summary?startDate=" + start_day +
               "T00%3A00%3A00.000Z&endDate=" + end_day + "T00%3A00%3A00.000Z");
  }

  int64_t Total(const std::string& start_day, const std::string& end_day) {
    Answer answer = Summary(start_day, end_day);
    EXPECT_EQ(answer.status, 200) << answer.body.dump();
    return answer.status == 200 ? answer.body["total"]["value"].get<int64_t>() : -1;
  }

  FakeN8n fake_;
};

TEST_F(FakeInsightsTest, ReferenceExampleWindows) {
  EXPECT_EQ(Total("2026-11-20", "2026-11-21"), 305);  // a past end day widens: two days
  EXPECT_EQ(Total("2026-11-22", "2026-11-23"), 358);
  EXPECT_EQ(Total("2026-11-23", "2026-11-24"), 51);  // ends today: exact
  EXPECT_EQ(Total("2026-11-20", "2026-11-24"), 663);
  EXPECT_EQ(Total("2026-11-21", "2026-11-24"), 558);
}

TEST_F(FakeInsightsTest, AnswersN8nsShapeAndUnits) {
  Answer answer = Summary("2026-11-20", "2026-11-24");

  ASSERT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body["total"],
            (Json{{"value", 663}, {"unit", "count"}, {"deviation", nullptr}}));
  EXPECT_EQ(answer.body["failed"]["value"], 13);
  EXPECT_EQ(answer.body["failed"]["unit"], "count");
  EXPECT_DOUBLE_EQ(answer.body["failureRate"]["value"].get<double>(), 0.02);  // 13/663, 3 places
  EXPECT_EQ(answer.body["failureRate"]["unit"], "ratio");
  EXPECT_DOUBLE_EQ(answer.body["timeSaved"]["value"].get<double>(), 60.5);
  EXPECT_EQ(answer.body["timeSaved"]["unit"], "minute");
  EXPECT_DOUBLE_EQ(answer.body["averageRunTime"]["value"].get<double>(), 10.0);
  EXPECT_EQ(answer.body["averageRunTime"]["unit"], "millisecond");
}

TEST_F(FakeInsightsTest, DeviationComparesWithThePreviousPeriod) {
  // [22nd, 24th) against [20th, 22nd): 358 - 305.
  Answer answer = Summary("2026-11-22", "2026-11-24");
  ASSERT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body["total"]["value"], 358);
  EXPECT_DOUBLE_EQ(answer.body["total"]["deviation"].get<double>(), 53.0);
}

TEST_F(FakeInsightsTest, EmptyWindowHasZeroRatios) {
  Answer answer = Summary("2026-11-10", "2026-11-12");
  ASSERT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body["total"]["value"], 0);
  EXPECT_EQ(answer.body["failureRate"]["value"], 0);
  EXPECT_EQ(answer.body["averageRunTime"]["value"], 0);
}

TEST_F(FakeInsightsTest, RefusesUnencodedDates) {
  Answer answer =
      Get("/api/v1/insights/"
          "summary?startDate=2026-11-20T00:00:00.000Z&endDate=2026-11-24T00%3A00%3A00Z");
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(answer.body["message"], "Parameter 'startDate' must be url encoded");
}

TEST_F(FakeInsightsTest, WithoutDatesReturnsTheLastSevenDays) {
  fake_.SetDailyInsights("2026-11-24", {4, 0, 0.0, 0.0});
  fake_.SetDailyInsights("2026-11-10", {1000, 0, 0.0, 0.0});  // outside
  Answer answer = Get("/api/v1/insights/summary");
  ASSERT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body["total"]["value"], 105 + 200 + 307 + 51 + 4);
}

TEST_F(FakeInsightsTest, RefusesReversedAndSubDayWindows) {
  EXPECT_EQ(Summary("2026-11-23", "2026-11-21").status, 400);

  Answer hourly =
      Get("/api/v1/insights/"
          "summary?startDate=2026-11-23T00%3A00%3A00Z&endDate=2026-11-23T12%3A00%3A00Z");
  EXPECT_EQ(hourly.status, 403);
  EXPECT_EQ(hourly.body["message"], "Hourly data is not available with your current license");
}

TEST_F(FakeInsightsTest, RefusesRangesBeyondTheLicensedHistory) {
  fake_.SetHistoryDays(7);
  EXPECT_EQ(Summary("2026-11-17", "2026-11-24").status, 200);

  Answer answer = Summary("2026-11-16", "2026-11-24");
  EXPECT_EQ(answer.status, 403);
  EXPECT_EQ(answer.body["message"],
            "The selected date range exceeds the maximum history allowed by your license");
}

TEST_F(FakeInsightsTest, RequiresAuthentication) {
  EXPECT_EQ(Get("/api/v1/insights/summary", "wrong-key").status, 401);
}

}  // namespace
}  // namespace fleet::testing
