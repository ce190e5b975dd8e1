// The API's query and body parsing as pure functions (the routes' tests cover the 400s on the
// wire; fuzz/fuzz_api_params.cc feeds these any input).

#include "service/api_params.h"

#include <gtest/gtest.h>

namespace fleet::service::api {
namespace {

Day D(const char* text) { return *ParseDay(text); }

TEST(ApiParamsTest, DayRangeDefaultsAndReadsFromTo) {
  auto defaults = ParseDayRange({}, D("2026-11-01"), D("2026-11-24"));
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->first, D("2026-11-01"));

  auto given = ParseDayRange({{"from", "2026-10-01"}, {"to", "2026-10-31"}}, D("2026-11-01"),
                             D("2026-11-24"));
  ASSERT_TRUE(given);
  EXPECT_EQ(given->first, D("2026-10-01"));
  EXPECT_EQ(given->second, D("2026-10-31"));
}

TEST(ApiParamsTest, DayRangeRefusalsNameTheParameter) {
  auto bad = ParseDayRange({{"to", "yesterday"}}, D("2026-11-01"), D("2026-11-24"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().parameter, "to");
  EXPECT_EQ(bad.error().error.code, ErrorCode::kInvalidArgument);
  auto reversed = ParseDayRange({{"from", "2026-11-10"}, {"to", "2026-11-01"}}, D("2026-11-01"),
                                D("2026-11-24"));
  ASSERT_FALSE(reversed);
  EXPECT_EQ(reversed.error().parameter, "from");
  EXPECT_FALSE(ParseDayRange({{"from", "2000-01-01"}}, D("2026-11-01"), D("2026-11-24")));
}

TEST(ApiParamsTest, TheFirstOfRepeatedParametersCounts) {
  QueryParams params{{"limit", "7"}, {"limit", "9999"}};
  EXPECT_EQ(QueryValue(params, "limit"), "7");
  EXPECT_EQ(ParseRunsLimit(params).value(), 7);
  EXPECT_EQ(QueryValue(params, "lim"), std::nullopt);
}

TEST(ApiParamsTest, RunsLimitIsAWholeNumberFrom1To1000) {
  EXPECT_EQ(ParseRunsLimit({}).value(), 50);
  EXPECT_EQ(ParseRunsLimit({{"limit", "1000"}}).value(), 1000);
  for (const char* bad : {"0", "1001", "-1", "+5", "5x", "", "99999999999999999999"}) {
    auto limit = ParseRunsLimit({{"limit", bad}});
    ASSERT_FALSE(limit) << bad;
    EXPECT_EQ(limit.error().parameter, "limit");
  }
}

TEST(ApiParamsTest, UsageSourceMapsAllToNoFilter) {
  EXPECT_EQ(ParseUsageSource({}).value(), "pull");
  EXPECT_EQ(ParseUsageSource({{"source", "all"}}).value(), "");
  EXPECT_EQ(ParseUsageSource({{"source", "both"}}).error().parameter, "source");
}

TEST(ApiParamsTest, MonthlyReportQueryFormatBeatsAccept) {
  Day today = D("2026-11-24");
  auto by_default = ParseMonthlyReportQuery({}, "", today);
  ASSERT_TRUE(by_default);
  EXPECT_EQ(by_default->month, "2026-11");
  EXPECT_FALSE(by_default->csv);
  EXPECT_TRUE(ParseMonthlyReportQuery({}, "text/csv", today)->csv);
  EXPECT_FALSE(ParseMonthlyReportQuery({{"format", "json"}}, "text/csv", today)->csv);
  EXPECT_EQ(ParseMonthlyReportQuery({{"by", "team"}}, "", today).error().parameter, "by");
  EXPECT_EQ(ParseMonthlyReportQuery({{"month", "2026-12"}}, "", today).error().parameter, "month");
}

TEST(ApiParamsTest, AcceptQualityPrefersTheMostSpecificRange) {
  EXPECT_EQ(AcceptQuality("", "text/csv"), 1.0);
  EXPECT_EQ(AcceptQuality("text/*;q=0.5, text/csv;q=0.9", "text/csv"), 0.9);
  EXPECT_EQ(AcceptQuality("*/*;q=0.2", "application/json"), 0.2);
  EXPECT_EQ(AcceptQuality("image/png", "text/csv"), 0.0);
}

TEST(ApiParamsTest, CollectBodyReadsARangeOfDays) {
  auto request = ParseCollectBody(R"({"from":"2026-11-01","to":"2026-11-03","customer":"acme"})");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->origin, "api");
  EXPECT_EQ(request->days.size(), 3u);
  EXPECT_EQ(request->customer, "acme");
  EXPECT_TRUE(ParseCollectBody("  ")->days.empty());
}

TEST(ApiParamsTest, CollectBodyRefusalsNameTheMember) {
  EXPECT_EQ(ParseCollectBody("[1]").error().parameter, "body");
  EXPECT_EQ(ParseCollectBody(R"({"days":[]})").error().parameter, "days");
  EXPECT_EQ(ParseCollectBody(R"({"from":"2026-11-01"})").error().parameter, "to");
  EXPECT_EQ(ParseCollectBody(R"({"servers":"a"})").error().parameter, "servers");
  EXPECT_EQ(ParseCollectBody(R"({"backfill":1})").error().parameter, "backfill");
  EXPECT_EQ(ParseCollectBody(R"({"day":"2026-11-01","to":"2026-11-02"})").error().parameter, "day");
}

}  // namespace
}  // namespace fleet::service::api
