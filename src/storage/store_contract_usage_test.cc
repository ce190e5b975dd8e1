// Store contract: daily usage, unrecoverable days and the monthly totals. Instantiated per backend.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/store_contract_test.h"

namespace fleet::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

DailyUsage MakeUsage(const std::string& server, const std::string& day, int64_t total,
                     int64_t failed = 0) {
  DailyUsage usage;
  usage.server = server;
  usage.day = day;
  usage.total = total;
  usage.failed = failed;
  usage.failure_rate = total > 0 ? static_cast<double>(failed) / static_cast<double>(total) : 0;
  usage.collected_at = 1770000000;
  return usage;
}

// "server/day=total" of every pulled row in the store, in the store's order.
std::vector<std::string> Rows(Store& store, const UsageFilter& filter = {}) {
  std::vector<std::string> rows;
  auto usage = store.ListDailyUsage(filter);
  EXPECT_TRUE(usage.has_value()) << usage.error().message;
  for (const DailyUsage& row : usage.value_or(std::vector<DailyUsage>{})) {
    rows.push_back(row.server + "/" + row.day + "=" + std::to_string(row.total));
  }
  return rows;
}

// "group customer servers total failed collected expected".
std::string Describe(const MonthlyRow& row) {
  return row.group + " " + row.customer + " " + std::to_string(row.servers) + " " +
         std::to_string(row.total) + " " + std::to_string(row.failed) + " " +
         std::to_string(row.days_collected) + " " + std::to_string(row.days_expected);
}

std::vector<std::string> Totals(Store& store, GroupBy group_by,
                                const std::string& from = "2026-03-01",
                                const std::string& to = "2026-03-31") {
  std::vector<std::string> rows;
  auto totals = store.UsageTotals(from, to, group_by);
  EXPECT_TRUE(totals.has_value()) << totals.error().message;
  for (const MonthlyRow& row : totals.value_or(std::vector<MonthlyRow>{})) {
    rows.push_back(Describe(row));
  }
  return rows;
}

TEST_P(StoreContractTest, UpsertDailyUsageRoundTripsEveryField) {
  AddServer("alpha", "acme");
  DailyUsage usage = MakeUsage("alpha", "2026-03-05", 120, 6);
  usage.customer = "ignored: the server's customer is stored";
  usage.time_saved_minutes = 42.5;
  usage.average_run_time_ms = 812.25;
  usage.raw_json = R"({"total":{"value":120}})";
  usage.run_id = 7;
  usage.n8n_version = "1.110.1";

  ASSERT_TRUE(store_->UpsertDailyUsage({usage}).has_value());
  auto rows = store_->ListDailyUsage({});

  ASSERT_TRUE(rows.has_value()) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  const DailyUsage& read = rows->front();
  EXPECT_EQ(read.server, "alpha");
  EXPECT_EQ(read.customer, "acme");
  EXPECT_EQ(read.day, "2026-03-05");
  EXPECT_EQ(read.total, 120);
  EXPECT_EQ(read.failed, 6);
  EXPECT_DOUBLE_EQ(read.failure_rate, 0.05);
  EXPECT_DOUBLE_EQ(read.time_saved_minutes, 42.5);
  EXPECT_DOUBLE_EQ(read.average_run_time_ms, 812.25);
  EXPECT_EQ(read.raw_json, usage.raw_json);
  EXPECT_EQ(read.collected_at, 1770000000);
  EXPECT_EQ(read.run_id, 7);
  EXPECT_EQ(read.n8n_version, "1.110.1");
  EXPECT_EQ(read.source, "pull");
  EXPECT_EQ(store_->Status().value().usage_rows, 1);
}

TEST_P(StoreContractTest, UpsertingADayAgainReplacesItsFiguresInsteadOfAddingThem) {
  AddServer("alpha");
  ASSERT_TRUE(store_->UpsertDailyUsage({MakeUsage("alpha", "2026-03-05", 100, 10)}));
  DailyUsage again = MakeUsage("alpha", "2026-03-05", 130, 3);
  again.collected_at = 1770009999;
  again.run_id = 2;

  ASSERT_TRUE(store_->UpsertDailyUsage({again}).has_value());

  const std::vector<DailyUsage> rows = store_->ListDailyUsage({}).value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].total, 130);
  EXPECT_EQ(rows[0].failed, 3);
  EXPECT_EQ(rows[0].collected_at, 1770009999);
  EXPECT_EQ(rows[0].run_id, 2);
  EXPECT_THAT(Totals(*store_, GroupBy::kCustomer), ElementsAre("acme acme 1 130 3 1 31"));
}

TEST_P(StoreContractTest, WithinOneBatchTheLaterRowForADayWins) {
  AddServer("alpha");

  ASSERT_TRUE(store_->UpsertDailyUsage(
      {MakeUsage("alpha", "2026-03-05", 1), MakeUsage("alpha", "2026-03-05", 2)}));

  EXPECT_THAT(Rows(*store_), ElementsAre("alpha/2026-03-05=2"));
}

TEST_P(StoreContractTest, ABatchNamingAnUnknownServerStoresNothing) {
  AddServer("alpha");
  ASSERT_TRUE(store_->UpsertDailyUsage({MakeUsage("alpha", "2026-03-01", 5)}));

  auto stored = store_->UpsertDailyUsage({MakeUsage("alpha", "2026-03-01", 50),
                                          MakeUsage("alpha", "2026-03-02", 60),
                                          MakeUsage("ghost", "2026-03-02", 70)});

  ASSERT_FALSE(stored.has_value());
  EXPECT_EQ(stored.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(stored.error().message, HasSubstr("'ghost'"));
  EXPECT_THAT(Rows(*store_), ElementsAre("alpha/2026-03-01=5"));
}

TEST_P(StoreContractTest, ImpossibleFiguresAreInvalidAndStoreNothing) {
  AddServer("alpha");
  DailyUsage bad_source = MakeUsage("alpha", "2026-03-03", 1);
  bad_source.source = "guess";
  const std::vector<DailyUsage> bad_rows = {MakeUsage("alpha", "2026-03-01", 3, 5),
                                            MakeUsage("alpha", "2026-03-01", -1, 0),
                                            MakeUsage("alpha", "2026-3-1", 3, 0), bad_source};

  for (const DailyUsage& bad : bad_rows) {
    auto stored = store_->UpsertDailyUsage({MakeUsage("alpha", "2026-03-02", 9), bad});

    ASSERT_FALSE(stored.has_value()) << bad.day << " " << bad.total << "/" << bad.failed;
    EXPECT_EQ(stored.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(stored.error().message, HasSubstr("'alpha'"));
  }
  EXPECT_THAT(Rows(*store_), IsEmpty());
}

TEST_P(StoreContractTest, ListDailyUsageFiltersByServerCustomerAndDayRange) {
  AddServer("alpha", "acme");
  AddServer("beta", "acme");
  AddServer("gamma", "globex");
  ASSERT_TRUE(store_->UpsertDailyUsage(
      {MakeUsage("gamma", "2026-03-02", 3), MakeUsage("beta", "2026-03-02", 2),
       MakeUsage("alpha", "2026-03-02", 1), MakeUsage("alpha", "2026-03-01", 4),
       MakeUsage("alpha", "2026-03-03", 5)}));

  EXPECT_THAT(Rows(*store_),
              ElementsAre("alpha/2026-03-01=4", "alpha/2026-03-02=1", "beta/2026-03-02=2",
                          "gamma/2026-03-02=3", "alpha/2026-03-03=5"));
  EXPECT_THAT(Rows(*store_, {.server = "alpha"}),
              ElementsAre("alpha/2026-03-01=4", "alpha/2026-03-02=1", "alpha/2026-03-03=5"));
  EXPECT_THAT(Rows(*store_, {.customer = "globex"}), ElementsAre("gamma/2026-03-02=3"));
  EXPECT_THAT(Rows(*store_, {.from_day = "2026-03-02", .to_day = "2026-03-02"}),
              ElementsAre("alpha/2026-03-02=1", "beta/2026-03-02=2", "gamma/2026-03-02=3"));
  EXPECT_THAT(Rows(*store_, {.customer = "acme", .from_day = "2026-03-02"}),
              ElementsAre("alpha/2026-03-02=1", "beta/2026-03-02=2", "alpha/2026-03-03=5"));
  EXPECT_THAT(Rows(*store_, {.server = "beta", .to_day = "2026-03-01"}), IsEmpty());
  EXPECT_EQ(store_->ListDailyUsage({.from_day = "March"}).error().code,
            ErrorCode::kInvalidArgument);
}

TEST_P(StoreContractTest, CollectedDaysMapsEachServerToItsDaysFromADay) {
  AddServer("alpha");
  AddServer("beta");
  AddServer("idle");
  ASSERT_TRUE(store_->UpsertDailyUsage(
      {MakeUsage("alpha", "2026-02-28", 1), MakeUsage("alpha", "2026-03-01", 1),
       MakeUsage("alpha", "2026-03-04", 1), MakeUsage("beta", "2026-03-02", 1)}));

  auto days = store_->CollectedDays("2026-03-01");

  ASSERT_TRUE(days.has_value()) << days.error().message;
  EXPECT_THAT(*days, ElementsAre(Pair("alpha", ElementsAre("2026-03-01", "2026-03-04")),
                                 Pair("beta", ElementsAre("2026-03-02"))));
  EXPECT_EQ(store_->CollectedDays("").value().at("alpha").size(), 3u);
}

TEST_P(StoreContractTest, PushedFiguresAreStoredBesidePulledOnesButNotReadAsThem) {
  AddServer("alpha");
  DailyUsage pushed = MakeUsage("alpha", "2026-03-05", 999);
  pushed.source = "push";

  ASSERT_TRUE(store_->UpsertDailyUsage({MakeUsage("alpha", "2026-03-05", 100), pushed}));
  pushed.day = "2026-03-06";
  ASSERT_TRUE(store_->UpsertDailyUsage({pushed}));

  EXPECT_EQ(store_->Status().value().usage_rows, 3);
  EXPECT_THAT(Rows(*store_), ElementsAre("alpha/2026-03-05=100"));
  EXPECT_THAT(store_->CollectedDays("").value().at("alpha"), ElementsAre("2026-03-05"));
  EXPECT_THAT(Totals(*store_, GroupBy::kServer), ElementsAre("alpha acme 1 100 0 1 31"));
}

TEST_P(StoreContractTest, UnrecoverableDaysAreMarkedAndClearedByALaterUpsert) {
  AddServer("alpha");
  AddServer("beta");
  ASSERT_TRUE(store_->MarkUnrecoverable({"alpha", "2026-01-03", "beyond history", 10}));
  ASSERT_TRUE(store_->MarkUnrecoverable({"beta", "2026-01-02", "beyond history", 11}));
  ASSERT_TRUE(store_->MarkUnrecoverable({"alpha", "2026-01-02", "first", 12}));
  ASSERT_TRUE(store_->MarkUnrecoverable({"alpha", "2026-01-02", "insights disabled", 13}));

  auto marks = store_->ListUnrecoverable("2026-01-01");
  ASSERT_TRUE(marks.has_value()) << marks.error().message;
  ASSERT_EQ(marks->size(), 3u);
  EXPECT_EQ((*marks)[0].server, "alpha");
  EXPECT_EQ((*marks)[0].day, "2026-01-02");
  EXPECT_EQ((*marks)[0].reason, "insights disabled");
  EXPECT_EQ((*marks)[0].recorded_at, 13);
  EXPECT_EQ((*marks)[1].server, "beta");
  EXPECT_EQ((*marks)[2].day, "2026-01-03");
  EXPECT_EQ(store_->ListUnrecoverable("2026-01-03").value().size(), 1u);

  ASSERT_TRUE(store_->UpsertDailyUsage({MakeUsage("alpha", "2026-01-02", 8)}));

  marks = store_->ListUnrecoverable("");
  ASSERT_TRUE(marks.has_value()) << marks.error().message;
  ASSERT_EQ(marks->size(), 2u);
  EXPECT_EQ((*marks)[0].server, "beta");
  EXPECT_EQ((*marks)[1].day, "2026-01-03");
  EXPECT_EQ(store_->MarkUnrecoverable({"ghost", "2026-01-02", "x", 1}).error().code,
            ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, UsageHistorySurvivesRemovingTheServer) {
  AddServer("churned", "initech");
  ASSERT_TRUE(store_->UpsertDailyUsage({MakeUsage("churned", "2026-03-30", 77)}));

  ASSERT_TRUE(store_->DeleteServer("churned", false).has_value());

  const std::vector<DailyUsage> rows = store_->ListDailyUsage({.customer = "initech"}).value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].server, "churned");
  EXPECT_EQ(rows[0].total, 77);
  EXPECT_EQ(store_->UpsertDailyUsage({MakeUsage("churned", "2026-03-31", 1)}).error().code,
            ErrorCode::kNotFound);
}

// March 2026 (31 days). acme: "steady" tracked since January (31 expected), "newcomer" since
// the 16th (16), "paused" inactive (0 expected, its rows still count). globex: "future" tracked
// from April (0). initech: "churned", removed, rows only. Rows outside March or pushed are
// ignored.
void SeedMarch(Store& store) {
  const auto server = [](const std::string& name, const std::string& customer,
                         const std::string& since, bool active) {
    Server server;
    server.name = name;
    server.url = "https://" + name + ".example.com";
    server.customer = customer;
    server.tracking_since = since;
    server.active = active;
    return server;
  };
  for (const Server& s : {server("steady", "acme", "2026-01-01", true),
                          server("newcomer", "acme", "2026-03-16", true),
                          server("paused", "acme", "2026-01-01", false),
                          server("future", "globex", "2026-04-05", true),
                          server("churned", "initech", "2026-01-01", true)}) {
    ASSERT_TRUE(store.CreateServer(s, 1).has_value()) << s.name;
  }
  DailyUsage pushed = MakeUsage("steady", "2026-03-10", 5000);
  pushed.source = "push";
  ASSERT_TRUE(store.UpsertDailyUsage(
      {MakeUsage("steady", "2026-02-28", 1000), MakeUsage("steady", "2026-03-01", 10, 1),
       MakeUsage("steady", "2026-03-02", 20, 2), MakeUsage("steady", "2026-03-31", 30, 3),
       MakeUsage("steady", "2026-04-01", 1000), MakeUsage("newcomer", "2026-03-16", 5, 5),
       MakeUsage("paused", "2026-03-03", 7), MakeUsage("paused", "2026-03-04", 8),
       MakeUsage("churned", "2026-03-20", 40, 4), pushed}));
  ASSERT_TRUE(store.DeleteServer("churned", false).has_value());
}

TEST_P(StoreContractTest, UsageTotalsByCustomerSumsRowsAndCountsExpectedDaysOfActiveServers) {
  ASSERT_NO_FATAL_FAILURE(SeedMarch(*store_));

  EXPECT_THAT(Totals(*store_, GroupBy::kCustomer),
              ElementsAre("acme acme 3 80 11 6 47", "globex globex 0 0 0 0 0",
                          "initech initech 1 40 4 1 0"));
}

TEST_P(StoreContractTest, UsageTotalsByServerKeepsRemovedAndInactiveServersWithTheirCustomer) {
  ASSERT_NO_FATAL_FAILURE(SeedMarch(*store_));
  EXPECT_THAT(
      Totals(*store_, GroupBy::kServer),
      ElementsAre("churned initech 1 40 4 1 0", "future globex 0 0 0 0 0",
                  "newcomer acme 1 5 5 1 16", "paused acme 1 15 0 2 0", "steady acme 1 60 6 3 31"));
}

TEST_P(StoreContractTest, UsageTotalsCountOnlyTheDaysOfTheRange) {
  ASSERT_NO_FATAL_FAILURE(SeedMarch(*store_));
  EXPECT_THAT(Totals(*store_, GroupBy::kServer, "2026-03-31", "2026-04-06"),
              ElementsAre("future globex 0 0 0 0 2", "newcomer acme 0 0 0 0 7",
                          "steady acme 1 1030 3 2 7"));
}

TEST_P(StoreContractTest, UsageTotalsAnEmptyTrackingSinceCountsFromTheRangeStart) {
  ASSERT_NO_FATAL_FAILURE(SeedMarch(*store_));
  Server untracked = MakeServer("untracked", "umbrella");
  untracked.tracking_since = "";
  ASSERT_TRUE(store_->CreateServer(untracked, kNow).has_value());

  EXPECT_THAT(Totals(*store_, GroupBy::kCustomer, "2026-03-01", "2026-03-10"),
              ElementsAre("acme acme 2 45 3 4 10", "globex globex 0 0 0 0 0",
                          "umbrella umbrella 0 0 0 0 10"));
}

TEST_P(StoreContractTest, UsageTotalsRefusesABackwardsOrMalformedRange) {
  for (const auto& [from, to] : {std::pair{"2026-03-31", "2026-03-01"},
                                 std::pair{"2026-03", "2026-03-31"}, std::pair{"", ""}}) {
    auto totals = store_->UsageTotals(from, to, GroupBy::kCustomer);

    ASSERT_FALSE(totals.has_value()) << from << " .. " << to;
    EXPECT_EQ(totals.error().code, ErrorCode::kInvalidArgument);
  }
}

DailyUsage Pushed(const std::string& server, const std::string& day, int64_t total) {
  DailyUsage usage = MakeUsage(server, day, total);
  usage.source = "push";
  return usage;
}

TEST_P(StoreContractTest, ListDailyUsageReadsTheSourceItIsAskedFor) {
  AddServer("alpha");
  AddServer("beta");
  ASSERT_TRUE(store_->UpsertDailyUsage(
      {MakeUsage("alpha", "2026-03-01", 10), Pushed("alpha", "2026-03-01", 11),
       Pushed("beta", "2026-03-01", 20), MakeUsage("alpha", "2026-03-02", 12)}));

  EXPECT_THAT(Rows(*store_), ElementsAre("alpha/2026-03-01=10", "alpha/2026-03-02=12"));
  EXPECT_THAT(Rows(*store_, {.source = "push"}),
              ElementsAre("alpha/2026-03-01=11", "beta/2026-03-01=20"));
  EXPECT_THAT(Rows(*store_, {.server = "alpha", .to_day = "2026-03-01", .source = ""}),
              ElementsAre("alpha/2026-03-01=10", "alpha/2026-03-01=11"));
  const std::vector<DailyUsage> both = store_->ListDailyUsage({.source = ""}).value();
  ASSERT_EQ(both.size(), 4u);
  EXPECT_EQ(both[0].source, "pull");
  EXPECT_EQ(both[1].source, "push");
  auto bad = store_->ListDailyUsage({.source = "guess"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(bad.error().message, HasSubstr("'guess'"));
}

// "group customer servers total failed collected expected | push_total push_days disagreements".
std::vector<std::string> PushTotals(Store& store, GroupBy group_by) {
  std::vector<std::string> rows;
  auto totals = store.UsageTotals("2026-03-01", "2026-03-31", group_by);
  EXPECT_TRUE(totals.has_value()) << totals.error().message;
  for (const MonthlyRow& row : totals.value_or(std::vector<MonthlyRow>{})) {
    rows.push_back(Describe(row) + " | " + std::to_string(row.push_total) + " " +
                   std::to_string(row.push_days) + " " + std::to_string(row.disagreements));
  }
  return rows;
}

// March 2026. "agree" (acme): pulls and pushes the same totals but for the 2nd, pushes the 3rd
// only, and a February push that is out of range. "pusher" (globex): pushes only, then removed.
// "drifted" (initech): one day whose totals differ, then removed. "quiet" (umbrella): neither.
void SeedPushAndPull(Store& store) {
  const auto server = [](const std::string& name, const std::string& customer) {
    Server server;
    server.name = name;
    server.url = "https://" + name + ".example.com";
    server.customer = customer;
    server.tracking_since = "2026-01-01";
    return server;
  };
  for (const Server& s : {server("agree", "acme"), server("pusher", "globex"),
                          server("drifted", "initech"), server("quiet", "umbrella")}) {
    ASSERT_TRUE(store.CreateServer(s, 1).has_value()) << s.name;
  }
  ASSERT_TRUE(store.UpsertDailyUsage(
      {MakeUsage("agree", "2026-03-01", 10, 1), Pushed("agree", "2026-03-01", 10),
       MakeUsage("agree", "2026-03-02", 20, 2), Pushed("agree", "2026-03-02", 25),
       Pushed("agree", "2026-03-03", 7), Pushed("agree", "2026-02-28", 1000),
       Pushed("pusher", "2026-03-05", 4), Pushed("pusher", "2026-03-06", 6),
       MakeUsage("drifted", "2026-03-07", 5), Pushed("drifted", "2026-03-07", 3)}));
  ASSERT_TRUE(store.DeleteServer("pusher", false).has_value());
  ASSERT_TRUE(store.DeleteServer("drifted", false).has_value());
}

TEST_P(StoreContractTest, UsageTotalsByCustomerReportPushFiguresBesideThePulledOnes) {
  ASSERT_NO_FATAL_FAILURE(SeedPushAndPull(*store_));

  EXPECT_THAT(
      PushTotals(*store_, GroupBy::kCustomer),
      ElementsAre("acme acme 1 30 3 2 31 | 42 3 1", "globex globex 0 0 0 0 0 | 10 2 0",
                  "initech initech 1 5 0 1 0 | 3 1 1", "umbrella umbrella 0 0 0 0 31 | 0 0 0"));
}

TEST_P(StoreContractTest, UsageTotalsByServerKeepPushOnlyAndRemovedServersWithTheirCustomer) {
  ASSERT_NO_FATAL_FAILURE(SeedPushAndPull(*store_));

  EXPECT_THAT(PushTotals(*store_, GroupBy::kServer),
              ElementsAre("agree acme 1 30 3 2 31 | 42 3 1", "drifted initech 1 5 0 1 0 | 3 1 1",
                          "pusher globex 0 0 0 0 0 | 10 2 0", "quiet umbrella 0 0 0 0 31 | 0 0 0"));
}

TEST_P(StoreContractTest, LastCollectedAtIsTheNewestPullOfEachRegisteredServer) {
  AddServer("alpha");
  AddServer("beta");
  AddServer("idle");
  AddServer("churned");
  DailyUsage late_backfill = MakeUsage("alpha", "2026-03-01", 1);
  late_backfill.collected_at = 300;
  DailyUsage newest_day = MakeUsage("alpha", "2026-03-09", 1);
  newest_day.collected_at = 200;
  DailyUsage pushed_later = Pushed("alpha", "2026-03-10", 1);
  pushed_later.collected_at = 999;
  DailyUsage beta_pushed = Pushed("beta", "2026-03-10", 1);
  DailyUsage churned = MakeUsage("churned", "2026-03-10", 1);
  ASSERT_TRUE(
      store_->UpsertDailyUsage({late_backfill, newest_day, pushed_later, beta_pushed, churned}));
  ASSERT_TRUE(store_->DeleteServer("churned", false).has_value());

  auto last = store_->LastCollectedAt();

  ASSERT_TRUE(last.has_value()) << last.error().message;
  EXPECT_THAT(*last, ElementsAre(Pair("alpha", 300)));
}

}  // namespace
}  // namespace fleet::storage
