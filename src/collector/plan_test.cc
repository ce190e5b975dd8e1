#include "collector/plan.h"

#include <gtest/gtest.h>

namespace fleet::collector {
namespace {

Day D(const char* text) { return *ParseDay(text); }

// The reference's seeded instance: daily totals 20th=105, 21st=200, 22nd=307, 23rd=51, today the
// 24th. Window sums S([start, 24th)) as n8n returns them for windows ending today.
struct Seed {
  std::map<Day, n8n::InsightsSummary> per_day;
  std::map<Day, n8n::InsightsSummary> WindowSums(Day today) const {
    std::map<Day, n8n::InsightsSummary> sums;
    for (const auto& [start, unused] : per_day) {
      n8n::InsightsSummary s;
      double run_time = 0;
      for (const auto& [day, fig] : per_day) {
        if (day < start || day >= today) continue;
        s.total += fig.total;
        s.failed += fig.failed;
        s.time_saved_minutes += fig.time_saved_minutes;
        run_time += fig.total_run_time_ms();
      }
      s.average_run_time_ms = s.total ? run_time / static_cast<double>(s.total) : 0;
      sums[start] = s;
    }
    return sums;
  }
};

Seed ReferenceSeed() {
  Seed seed;
  seed.per_day[D("2026-11-20")] = {105, 5, 52.5, 31.25};
  seed.per_day[D("2026-11-21")] = {200, 0, 100, 40};
  seed.per_day[D("2026-11-22")] = {307, 7, 0, 12.5};
  seed.per_day[D("2026-11-23")] = {51, 51, 10.25, 1000};
  return seed;
}

TEST(DeriveDailyFiguresTest, ReproducesEveryDayOfTheReferenceExample) {
  Day today = D("2026-11-24");
  Seed seed = ReferenceSeed();
  auto sums = seed.WindowSums(today);
  EXPECT_EQ(sums[D("2026-11-20")].total, 663);
  EXPECT_EQ(sums[D("2026-11-21")].total, 558);
  std::vector<Day> days = {D("2026-11-20"), D("2026-11-21"), D("2026-11-22"), D("2026-11-23")};
  auto derived = DeriveDailyFigures(days, today, sums);
  for (Day day : days) {
    ASSERT_TRUE(derived.at(day)) << FormatDay(day) << ": " << derived.at(day).error().message;
    const auto& want = seed.per_day[day];
    EXPECT_EQ(derived.at(day)->total, want.total) << FormatDay(day);
    EXPECT_EQ(derived.at(day)->failed, want.failed);
    EXPECT_DOUBLE_EQ(derived.at(day)->time_saved_minutes, want.time_saved_minutes);
    EXPECT_NEAR(derived.at(day)->average_run_time_ms, want.average_run_time_ms, 1e-6);
    EXPECT_DOUBLE_EQ(derived.at(day)->failure_rate,
                     static_cast<double>(want.failed) / static_cast<double>(want.total));
  }
  EXPECT_EQ(derived.at(D("2026-11-20"))->total, 105);  // 663 - 558
}

TEST(WindowStartsTest, ABackfillEndingYesterdayCostsOneRequestPerDay) {
  Day today = D("2026-11-24");
  auto starts =
      WindowStarts({D("2026-11-20"), D("2026-11-21"), D("2026-11-22"), D("2026-11-23")}, today);
  EXPECT_EQ(starts,
            (std::vector<Day>{D("2026-11-20"), D("2026-11-21"), D("2026-11-22"), D("2026-11-23")}));
}

TEST(WindowStartsTest, AnIsolatedPastDayNeedsItsNextDayToo) {
  Day today = D("2026-11-24");
  EXPECT_EQ(WindowStarts({D("2026-11-20")}, today),
            (std::vector<Day>{D("2026-11-20"), D("2026-11-21")}));
  EXPECT_EQ(WindowStarts({D("2026-11-23")}, today), (std::vector<Day>{D("2026-11-23")}));
  // K days not ending yesterday: K+1 requests; shared starts are asked once.
  EXPECT_EQ(WindowStarts({D("2026-11-18"), D("2026-11-19"), D("2026-11-20")}, today).size(), 4u);
  EXPECT_EQ(WindowStarts({D("2026-11-18"), D("2026-11-21")}, today).size(), 4u);
  EXPECT_TRUE(WindowStarts({today}, today).empty());
}

TEST(DeriveDailyFiguresTest, ANegativeDifferenceFailsThatDayOnly) {
  Day today = D("2026-11-24");
  std::map<Day, n8n::InsightsSummary> sums;
  sums[D("2026-11-21")] = {100, 0, 0, 0};
  sums[D("2026-11-22")] = {120, 0, 0, 0};  // more than the wider window: data changed
  sums[D("2026-11-23")] = {20, 0, 0, 0};
  auto derived =
      DeriveDailyFigures({D("2026-11-21"), D("2026-11-22"), D("2026-11-23")}, today, sums);
  ASSERT_FALSE(derived.at(D("2026-11-21")));
  EXPECT_EQ(derived.at(D("2026-11-21")).error().code, ErrorCode::kBadResponse);
  EXPECT_NE(derived.at(D("2026-11-21")).error().message.find("negative"), std::string::npos);
  ASSERT_TRUE(derived.at(D("2026-11-22")));
  EXPECT_EQ(derived.at(D("2026-11-22"))->total, 100);
  ASSERT_TRUE(derived.at(D("2026-11-23")));
  EXPECT_EQ(derived.at(D("2026-11-23"))->total, 20);
}

TEST(DeriveDailyFiguresTest, AMissingWindowFailsTheDaysThatNeedIt) {
  Day today = D("2026-11-24");
  std::map<Day, n8n::InsightsSummary> sums;
  sums[D("2026-11-20")] = {10, 0, 0, 0};
  auto derived = DeriveDailyFigures({D("2026-11-20")}, today, sums);
  ASSERT_FALSE(derived.at(D("2026-11-20")));
  EXPECT_NE(derived.at(D("2026-11-20")).error().message.find("2026-11-21"), std::string::npos);
}

TEST(DaysDueTest, ListsGapsOldestFirstAndAlwaysTheLastDays) {
  Day since = D("2026-11-01"), yesterday = D("2026-11-10");
  std::set<Day> collected;
  for (Day d = since; d <= yesterday; d = d + 1) collected.insert(d);
  collected.erase(D("2026-11-03"));
  collected.erase(D("2026-11-05"));
  auto due = DaysDue(since, yesterday, collected, {}, 2);
  EXPECT_EQ(due,
            (std::vector<Day>{D("2026-11-03"), D("2026-11-05"), D("2026-11-09"), D("2026-11-10")}));
  EXPECT_EQ(DaysDue(since, yesterday, collected, {D("2026-11-03")}, 0),
            (std::vector<Day>{D("2026-11-05")}));
  EXPECT_EQ(DaysDue(D("2026-11-09"), yesterday, {}, {}, 2).size(), 2u);
  EXPECT_TRUE(DaysDue(D("2026-11-11"), yesterday, {}, {}, 2).empty());
  EXPECT_EQ(DaysDue(since, yesterday, {}, {}, 2).size(), 10u);
}

TEST(SameUtcDayTest, ChangesAtMidnight) {
  int64_t midnight = StartOfDay(D("2026-11-24"));
  EXPECT_TRUE(SameUtcDay(midnight, midnight + 86399));
  EXPECT_FALSE(SameUtcDay(midnight - 1, midnight));
}

}  // namespace
}  // namespace fleet::collector
