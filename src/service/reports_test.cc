#include "service/reports.h"

#include <gtest/gtest.h>

#include <thread>

#include "core/csv.h"
#include "service/api_test_util.h"
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

// A store with server "a" (customer acme, tracking since 2026-08-01) and `total` executions on
// 2026-10-05.
class ReportCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/fleet.db";
    auto store = storage::OpenSqliteStore({path_});
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    Server server;
    server.name = "a";
    server.url = "https://a.example.com";
    server.customer = "acme";
    server.tracking_since = "2026-08-01";
    ASSERT_TRUE(store_->CreateServer(server, 0));
    AddUsage("a", "2026-10-05", 40);
  }

  void AddUsage(const std::string& server, const std::string& day, int64_t total) {
    DailyUsage row;
    row.server = server;
    row.day = day;
    row.total = total;
    ASSERT_TRUE(store_->UpsertDailyUsage({row}));
  }

  std::shared_ptr<const RenderedReport> Get(MonthlyReportCache& cache, const char* month,
                                            storage::GroupBy by = storage::GroupBy::kCustomer,
                                            const char* today = "2026-11-24") {
    auto report = cache.Get(*store_, month, by, D(today));
    EXPECT_TRUE(report) << report.error().message;
    return report.value_or(nullptr);
  }

  testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<storage::Store> store_;
};

TEST_F(ReportCacheTest, ServesTheKeptReportUntilTheDataChanges) {
  MonthlyReportCache cache(1 << 20);

  auto first = Get(cache, "2026-10");
  auto second = Get(cache, "2026-10");
  AddUsage("a", "2026-10-06", 2);
  auto third = Get(cache, "2026-10");

  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->total, 40);
  EXPECT_EQ(second.get(), first.get());
  EXPECT_EQ(third->total, 42);
  EXPECT_NE(third->json.find("\"total\":42"), std::string::npos) << third->json;
  EXPECT_NE(third->csv.find("acme,acme,1,42,"), std::string::npos) << third->csv;
  EXPECT_EQ(third->filename, "fleet-usage-2026-10-by-customer.csv");
  auto stats = cache.stats();
  EXPECT_EQ(stats.hits, 1);
  EXPECT_EQ(stats.misses, 2);
  EXPECT_EQ(stats.entries, 1u);  // the report at the older version is dropped
}

TEST_F(ReportCacheTest, ServerChangesInvalidateTooAndTheBodiesMatchAFreshBuild) {
  MonthlyReportCache cache(1 << 20);
  ASSERT_TRUE(Get(cache, "2026-10", storage::GroupBy::kServer));
  Server a = store_->GetServer("a").value();
  a.customer = "globex";
  ASSERT_TRUE(store_->UpdateServer(a, 1));

  auto cached = Get(cache, "2026-10", storage::GroupBy::kServer);

  auto fresh = BuildMonthlyReport(*store_, "2026-10", storage::GroupBy::kServer, D("2026-11-24"));
  ASSERT_TRUE(cached && fresh);
  EXPECT_EQ(cached->csv, MonthlyReportCsv(*fresh));
  EXPECT_EQ(cached->json, MonthlyReportJson(*fresh).dump() + "\n");
  EXPECT_NE(cached->csv.find("a,globex,"), std::string::npos) << cached->csv;
  EXPECT_EQ(cache.stats().misses, 2);
}

TEST_F(ReportCacheTest, MonthGroupingAndTodayAreEachPartOfTheKey) {
  MonthlyReportCache cache(1 << 20);

  auto october = Get(cache, "2026-10");
  auto september = Get(cache, "2026-09");
  auto by_server = Get(cache, "2026-10", storage::GroupBy::kServer);
  auto tomorrow = Get(cache, "2026-10", storage::GroupBy::kCustomer, "2026-11-25");

  ASSERT_TRUE(october && september && by_server && tomorrow);
  EXPECT_EQ(september->total, 0);
  EXPECT_EQ(by_server->filename, "fleet-usage-2026-10-by-server.csv");
  EXPECT_EQ(cache.stats().misses, 4);
  EXPECT_EQ(cache.stats().hits, 0);
  EXPECT_EQ(cache.stats().entries, 4u);
}

TEST_F(ReportCacheTest, EvictsTheLeastRecentlyUsedBeyondItsBytes) {
  MonthlyReportCache sizing(1 << 20);
  ASSERT_TRUE(Get(sizing, "2026-10"));
  const size_t one = sizing.stats().bytes;
  MonthlyReportCache cache(2 * one + one / 2);  // room for two reports of this size
  ASSERT_TRUE(Get(cache, "2026-08"));
  ASSERT_TRUE(Get(cache, "2026-09"));
  ASSERT_TRUE(Get(cache, "2026-08"));  // now the most recently used

  ASSERT_TRUE(Get(cache, "2026-10"));  // evicts 2026-09

  EXPECT_EQ(cache.stats().entries, 2u);
  EXPECT_LE(cache.stats().bytes, 2 * one + one / 2);
  const int64_t misses = cache.stats().misses;
  ASSERT_TRUE(Get(cache, "2026-08"));
  EXPECT_EQ(cache.stats().misses, misses);
  ASSERT_TRUE(Get(cache, "2026-09"));
  EXPECT_EQ(cache.stats().misses, misses + 1);
}

TEST_F(ReportCacheTest, AReportLargerThanTheBudgetIsServedButNotKept) {
  MonthlyReportCache cache(16);

  auto report = Get(cache, "2026-10");

  ASSERT_TRUE(report);
  EXPECT_EQ(report->total, 40);
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_EQ(cache.stats().bytes, 0u);
}

TEST_F(ReportCacheTest, ErrorsArePassedOnAndNotKept) {
  MonthlyReportCache cache(1 << 20);

  auto future = cache.Get(*store_, "2026-12", storage::GroupBy::kCustomer, D("2026-11-24"));

  ASSERT_FALSE(future);
  EXPECT_EQ(future.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST_F(ReportCacheTest, ThreadsOnTheirOwnConnectionsShareItAndSeeEveryWrite) {
  MonthlyReportCache cache(1 << 20);
  constexpr int kThreads = 4;
  constexpr int kReads = 50;
  std::vector<std::unique_ptr<storage::Store>> stores;
  for (int t = 0; t < kThreads; ++t) {
    auto store = storage::OpenSqliteStore({path_});
    ASSERT_TRUE(store) << store.error().message;
    stores.push_back(std::move(*store));
  }
  std::vector<int> wrong(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kReads; ++i) {
        auto report =
            cache.Get(*stores[t], "2026-10", storage::GroupBy::kCustomer, D("2026-11-24"));
        if (!report || (*report)->total != 40) ++wrong[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(wrong, std::vector<int>(kThreads, 0));
  auto stats = cache.stats();
  EXPECT_EQ(stats.hits + stats.misses, kThreads * kReads);
  EXPECT_GE(stats.hits, kThreads * kReads - kThreads);  // at most one miss per thread
  AddUsage("a", "2026-10-07", 5);  // written on another connection: every reader sees it next
  EXPECT_EQ(
      (*cache.Get(*stores[0], "2026-10", storage::GroupBy::kCustomer, D("2026-11-24")))->total, 45);
}

// The route over HTTP: a write between two requests shows in the second answer, in both formats.
class MonthlyReportRouteTest : public ApiTest {};

TEST_F(MonthlyReportRouteTest, AnswersFollowEveryWriteBetweenRequests) {
  Start();
  const std::string token = Token("billing");
  AddServer("a", "acme", "2026-10-01");
  AddUsage("a", "2026-10-05", 40, 4);
  httplib::Headers csv_headers = Auth(token);
  csv_headers.emplace("Accept", "text/csv");

  auto before = Json(Get("/api/v1/reports/monthly?month=2026-10", token));
  auto again = Json(Get("/api/v1/reports/monthly?month=2026-10", token));
  auto csv_before = Client().Get("/api/v1/reports/monthly?month=2026-10", csv_headers);
  AddUsage("a", "2026-10-06", 2, 0);
  auto after = Json(Get("/api/v1/reports/monthly?month=2026-10", token));
  auto csv_after = Client().Get("/api/v1/reports/monthly?month=2026-10", csv_headers);

  EXPECT_EQ(before["totals"]["total"], 40);
  EXPECT_EQ(again, before);
  EXPECT_EQ(after["totals"]["total"], 42);
  EXPECT_EQ(after["rows"][0]["days_collected"], 2);
  ASSERT_TRUE(csv_before && csv_after);
  EXPECT_NE(csv_before->body.find("acme,acme,1,40,4,1,31"), std::string::npos) << csv_before->body;
  EXPECT_NE(csv_after->body.find("acme,acme,1,42,4,2,31"), std::string::npos) << csv_after->body;
  EXPECT_EQ(csv_after->get_header_value("Content-Disposition"),
            "attachment; filename=\"fleet-usage-2026-10-by-customer.csv\"");
  EXPECT_EQ(csv_after->get_header_value("Cache-Control"), "no-store");
}

}  // namespace
}  // namespace fleet::service
