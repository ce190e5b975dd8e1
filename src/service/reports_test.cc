#include "service/reports.h"

#include <gtest/gtest.h>

#include "core/csv.h"
#include "storage/sqlite_store.h"

namespace fleet::service {
namespace {

Day D(const char* text) { return *ParseDay(text); }

TEST(ReportsTest, MonthRangeCoversAFinishedMonth) {
  auto range = MonthRangeOf("2024-02", D("2026-11-24"));
  ASSERT_TRUE(range);
  EXPECT_EQ(range->from, "2024-02-01");
  EXPECT_EQ(range->to, "2024-02-29");
  auto december = MonthRangeOf("2025-12", D("2026-11-24"));
  ASSERT_TRUE(december);
  EXPECT_EQ(december->to, "2025-12-31");
}

TEST(ReportsTest, MonthInProgressEndsYesterdayOrOnItsFirstDay) {
  EXPECT_EQ(MonthRangeOf("2026-11", D("2026-11-24"))->to, "2026-11-23");
  EXPECT_EQ(MonthRangeOf("2026-11", D("2026-11-01"))->to, "2026-11-01");
  EXPECT_EQ(MonthRangeOf("2026-10", D("2026-11-01"))->to, "2026-10-31");
}

TEST(ReportsTest, MonthRangeRefusesMalformedAndFutureMonths) {
  for (const char* bad : {"2026-13", "2026-00", "2026-1", "26-11", "2026/11", "2026-11-01", "",
                          "abcd-ef", "2026-12"}) {
    auto range = MonthRangeOf(bad, D("2026-11-24"));
    ASSERT_FALSE(range) << bad;
    EXPECT_EQ(range.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(ReportsTest, CsvHasTheHeaderAndOneQuotedLinePerRow) {
  MonthlyReport report;
  report.range = {"2026-10", "2026-10-01", "2026-10-31"};
  report.by = storage::GroupBy::kCustomer;
  storage::MonthlyRow row;
  row.group = "Acme, Inc.";
  row.customer = "Acme, Inc.";
  row.servers = 2;
  row.total = 1000;
  row.failed = 10;
  row.days_collected = 62;
  row.days_expected = 62;
  row.push_total = 990;
  row.push_days = 31;
  row.disagreements = 1;
  report.rows.push_back(row);
  std::string csv = MonthlyReportCsv(report);
  auto records = ParseCsv(csv);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ(
      (*records)[0].fields,
      (std::vector<std::string>{"group", "customer", "servers", "total", "failed", "days_collected",
                                "days_expected", "push_total", "push_days", "disagreements"}));
  EXPECT_EQ((*records)[1].fields, (std::vector<std::string>{"Acme, Inc.", "Acme, Inc.", "2", "1000",
                                                            "10", "62", "62", "990", "31", "1"}));
  EXPECT_EQ(MonthlyReportFilename(report), "fleet-usage-2026-10-by-customer.csv");
  auto json = MonthlyReportJson(report);
  EXPECT_EQ(json["rows"][0]["complete"], true);
  EXPECT_EQ(json["by"], "customer");
}

TEST(ReportsTest, BuildSumsTheStoreTotals) {
  auto store = storage::OpenSqliteStore({":memory:"});
  ASSERT_TRUE(store);
  Server server;
  server.name = "a";
  server.url = "https://a.example.com";
  server.customer = "acme";
  server.tracking_since = "2026-10-01";
  ASSERT_TRUE((*store)->CreateServer(server, 0));
  DailyUsage row;
  row.server = "a";
  row.day = "2026-10-05";
  row.total = 40;
  row.failed = 4;
  ASSERT_TRUE((*store)->UpsertDailyUsage({row}));
  row.day = "2026-11-01";  // another month
  ASSERT_TRUE((*store)->UpsertDailyUsage({row}));
  auto report = BuildMonthlyReport(**store, "2026-10", storage::GroupBy::kServer, D("2026-11-24"));
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->rows.size(), 1u);
  EXPECT_EQ(report->rows[0].group, "a");
  EXPECT_EQ(report->rows[0].days_expected, 31);
  EXPECT_EQ(report->total, 40);
  EXPECT_EQ(report->failed, 4);
}

}  // namespace
}  // namespace fleet::service
