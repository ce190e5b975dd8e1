#include "collector/plan.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace fleet::collector {
namespace {

Day D(const char* text) { return *ParseDay(text); }

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// What an instance counted on one day.
struct DayData {
  int64_t total{};
  int64_t failed{};
  double time_saved_minutes{};
  double run_time_ms{};  // the sum over the day's executions
};

// Plays n8n: S([start, today)) over `per_day`, with averageRunTime rounded to 0.01 ms as n8n
// 2.40.7 does (insights.service.js) when `n8n_rounding`.
n8n::InsightsSummary Window(const std::map<Day, DayData>& per_day, Day start, Day today,
                            bool n8n_rounding) {
  n8n::InsightsSummary sum;
  double run_time = 0;
  for (const auto& [day, data] : per_day) {
    if (day < start || day >= today) continue;
    sum.total += data.total;
    sum.failed += data.failed;
    sum.time_saved_minutes += data.time_saved_minutes;
    run_time += data.run_time_ms;
  }
  if (sum.total > 0) {
    sum.average_run_time_ms = run_time / static_cast<double>(sum.total);
    if (n8n_rounding) sum.average_run_time_ms = std::round(sum.average_run_time_ms * 100) / 100;
  }
  return sum;
}

// The window sums a collection would fetch for `days`, one per planned start.
std::map<Day, n8n::InsightsSummary> Fetch(const std::map<Day, DayData>& per_day,
                                          const std::vector<Day>& days, Day today,
                                          bool n8n_rounding = false) {
  std::map<Day, n8n::InsightsSummary> sums;
  for (Day start : WindowStarts(days, today)) {
    sums[start] = Window(per_day, start, today, n8n_rounding);
  }
  return sums;
}

// The reference's seeded instance: 20th=105, 21st=200, 22nd=307, 23rd=51, today the 24th.
// Run times and time saved are exact binary fractions, so additivity can be checked exactly.
std::map<Day, DayData> ReferenceSeed() {
  return {{D("2026-11-20"), {105, 5, 52.5, 105 * 31.25}},
          {D("2026-11-21"), {200, 0, 100, 200 * 40.0}},
          {D("2026-11-22"), {307, 7, 0, 307 * 12.5}},
          {D("2026-11-23"), {51, 51, 10.25, 51 * 1000.0}}};
}

const Day kToday = D("2026-11-24");
const std::vector<Day> kReferenceDays = {D("2026-11-20"), D("2026-11-21"), D("2026-11-22"),
                                         D("2026-11-23")};

TEST(DeriveDailyFiguresTest, ReproducesEveryDayOfTheReferenceExample) {
  auto sums = Fetch(ReferenceSeed(), kReferenceDays, kToday);
  EXPECT_EQ(sums.at(D("2026-11-20")).total, 663);
  EXPECT_EQ(sums.at(D("2026-11-21")).total, 558);
  EXPECT_EQ(sums.at(D("2026-11-22")).total, 358);
  EXPECT_EQ(sums.at(D("2026-11-23")).total, 51);

  auto derived = DeriveDailyFigures(kReferenceDays, kToday, sums);

  ASSERT_EQ(derived.size(), 4u);
  std::vector<int64_t> totals;
  for (Day day : kReferenceDays) {
    ASSERT_TRUE(derived.at(day)) << FormatDay(day) << ": " << derived.at(day).error().message;
    totals.push_back(derived.at(day)->total);
  }
  EXPECT_EQ(totals, (std::vector<int64_t>{105, 200, 307, 51}));
}

TEST(DeriveDailyFiguresTest, FailedTimeSavedAndRunTimeAreAdditive) {
  auto seed = ReferenceSeed();
  auto derived = DeriveDailyFigures(kReferenceDays, kToday, Fetch(seed, kReferenceDays, kToday));
  for (Day day : kReferenceDays) {
    const DayData& want = seed.at(day);
    ASSERT_TRUE(derived.at(day)) << FormatDay(day);
    const DailyFigures& got = *derived.at(day);
    EXPECT_EQ(got.total, want.total) << FormatDay(day);
    EXPECT_EQ(got.failed, want.failed) << FormatDay(day);
    EXPECT_EQ(got.time_saved_minutes, want.time_saved_minutes) << FormatDay(day);
    EXPECT_EQ(got.average_run_time_ms, want.run_time_ms / static_cast<double>(want.total))
        << FormatDay(day);
    EXPECT_EQ(got.failure_rate, static_cast<double>(want.failed) / static_cast<double>(want.total))
        << FormatDay(day);
  }
  EXPECT_EQ(derived.at(D("2026-11-23"))->failure_rate, 1.0);
  EXPECT_EQ(derived.at(D("2026-11-21"))->failure_rate, 0.0);
}

TEST(DeriveDailyFiguresTest, YesterdayIsItsOwnWindowAndAnIdleDayIsZero) {
  std::map<Day, DayData> seed = {{D("2026-11-22"), {0, 0, 0, 0}}, {D("2026-11-23"), {4, 1, 2, 10}}};
  std::vector<Day> days = {D("2026-11-22"), D("2026-11-23")};
  auto sums = Fetch(seed, days, kToday);
  ASSERT_EQ(sums.size(), 2u);  // no window starts today

  auto derived = DeriveDailyFigures(days, kToday, sums);

  ASSERT_TRUE(derived.at(D("2026-11-23")));
  EXPECT_EQ(derived.at(D("2026-11-23"))->total, 4);
  EXPECT_EQ(derived.at(D("2026-11-23"))->average_run_time_ms, 2.5);
  EXPECT_EQ(derived.at(D("2026-11-23"))->failure_rate, 0.25);
  ASSERT_TRUE(derived.at(D("2026-11-22")));
  EXPECT_EQ(derived.at(D("2026-11-22"))->total, 0);
  EXPECT_EQ(derived.at(D("2026-11-22"))->failure_rate, 0.0);
  EXPECT_EQ(derived.at(D("2026-11-22"))->average_run_time_ms, 0.0);
}

// n8n rounds averageRunTime to 0.01 ms: average x total misses the true run time by up to
// 0.005 ms per execution, which on big windows exceeds a quiet day's whole run time.
TEST(DeriveDailyFiguresTest, N8nsRoundedAveragesNeverFailAQuietDay) {
  std::map<Day, n8n::InsightsSummary> sums;
  sums[D("2026-11-22")] = {100001, 0, 0, 123.45};  // true run time 12345501 ms: 123.4537...
  sums[D("2026-11-23")] = {100000, 0, 0, 123.46};  // true run time 12345500 ms: 123.455 -> .46

  auto derived = DeriveDailyFigures({D("2026-11-22")}, kToday, sums);

  ASSERT_TRUE(derived.at(D("2026-11-22"))) << derived.at(D("2026-11-22")).error().message;
  EXPECT_EQ(derived.at(D("2026-11-22"))->total, 1);
  EXPECT_GE(derived.at(D("2026-11-22"))->average_run_time_ms, 0.0);
  EXPECT_LE(derived.at(D("2026-11-22"))->average_run_time_ms, 0.005 * 200001 + 1);
}

TEST(DeriveDailyFiguresTest, TwoMonthsOfBackfillStayExactUnderN8nsRounding) {
  // A deterministic pseudo-random instance: 60 days of uneven traffic, some idle.
  Day first = D("2026-09-25");
  std::map<Day, DayData> seed;
  uint64_t state = 42;
  auto next = [&state](uint64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % bound;
  };
  for (Day day = first; day < kToday; day = day + 1) {
    DayData data;
    data.total = next(7) == 0 ? 0 : static_cast<int64_t>(next(50000));
    data.failed = data.total > 0 ? static_cast<int64_t>(next(data.total + 1)) : 0;
    data.time_saved_minutes = static_cast<double>(next(4000)) * 0.25;
    for (int64_t i = 0; i < data.total; i += 997)
      data.run_time_ms += static_cast<double>(next(90000)) * 997;
    seed[day] = data;
  }
  std::vector<Day> days = DaysDue(first, kToday - 1, {}, {}, 2);
  ASSERT_EQ(days.size(), 60u);

  auto sums = Fetch(seed, days, kToday, /*n8n_rounding=*/true);
  auto derived = DeriveDailyFigures(days, kToday, sums);

  EXPECT_EQ(sums.size(), 60u);  // K days ending yesterday: K requests
  for (Day day : days) {
    const DayData& want = seed.at(day);
    ASSERT_TRUE(derived.at(day)) << FormatDay(day) << ": " << derived.at(day).error().message;
    EXPECT_EQ(derived.at(day)->total, want.total) << FormatDay(day);
    EXPECT_EQ(derived.at(day)->failed, want.failed) << FormatDay(day);
    EXPECT_EQ(derived.at(day)->time_saved_minutes, want.time_saved_minutes) << FormatDay(day);
    if (want.total > 0) {
      double bound = 0.005 *
                     static_cast<double>(sums.at(day).total +
                                         (day + 1 < kToday ? sums.at(day + 1).total : 0)) /
                     static_cast<double>(want.total);
      EXPECT_NEAR(derived.at(day)->average_run_time_ms,
                  want.run_time_ms / static_cast<double>(want.total), bound + 1e-6)
          << FormatDay(day);
    }
  }
}

TEST(DeriveDailyFiguresTest, ANegativeDifferenceFailsThatDayOnly) {
  std::map<Day, n8n::InsightsSummary> sums;
  sums[D("2026-11-21")] = {100, 0, 0, 0};
  sums[D("2026-11-22")] = {120, 0, 0, 0};  // more than the wider window: the data changed
  sums[D("2026-11-23")] = {20, 0, 0, 0};
  std::vector<Day> days = {D("2026-11-21"), D("2026-11-22"), D("2026-11-23")};

  auto derived = DeriveDailyFigures(days, kToday, sums);

  ASSERT_FALSE(derived.at(D("2026-11-21")));
  EXPECT_EQ(derived.at(D("2026-11-21")).error().code, ErrorCode::kBadResponse);
  const std::string& message = derived.at(D("2026-11-21")).error().message;
  EXPECT_TRUE(Contains(message, "2026-11-21")) << message;
  EXPECT_TRUE(Contains(message, "total -20")) << message;
  EXPECT_TRUE(Contains(message, "negative")) << message;
  EXPECT_TRUE(Contains(message, "retried")) << message;
  ASSERT_TRUE(derived.at(D("2026-11-22")));
  EXPECT_EQ(derived.at(D("2026-11-22"))->total, 100);
  ASSERT_TRUE(derived.at(D("2026-11-23")));
  EXPECT_EQ(derived.at(D("2026-11-23"))->total, 20);
}

TEST(DeriveDailyFiguresTest, InconsistentDifferencesAreNeverStored) {
  std::map<Day, n8n::InsightsSummary> sums;
  sums[D("2026-11-20")] = {30, 20, 5, 10};  // day 20th: 10 executions, 15 failures
  sums[D("2026-11-21")] = {20, 5, 1, 10};   // day 21st: time saved -1
  sums[D("2026-11-22")] = {10, 0, 2, 10};   // day 22nd: run time 0 - 2000 ms, beyond rounding
  sums[D("2026-11-23")] = {10, 0, 0, 200};
  auto derived = DeriveDailyFigures(kReferenceDays, kToday, sums);
  for (const char* day : {"2026-11-20", "2026-11-21", "2026-11-22"}) {
    ASSERT_FALSE(derived.at(D(day))) << day;
    EXPECT_EQ(derived.at(D(day)).error().code, ErrorCode::kBadResponse) << day;
  }
  EXPECT_TRUE(Contains(derived.at(D("2026-11-20")).error().message, "failed 15"));
  ASSERT_TRUE(derived.at(D("2026-11-23")));
  EXPECT_EQ(derived.at(D("2026-11-23"))->average_run_time_ms, 200.0);
}

TEST(DeriveDailyFiguresTest, AMissingWindowFailsTheDaysThatNeedIt) {
  std::map<Day, n8n::InsightsSummary> sums;
  sums[D("2026-11-20")] = {10, 0, 0, 0};
  sums[D("2026-11-23")] = {3, 0, 0, 0};

  auto derived = DeriveDailyFigures(kReferenceDays, kToday, sums);

  ASSERT_FALSE(derived.at(D("2026-11-20")));  // needs the 21st
  EXPECT_EQ(derived.at(D("2026-11-20")).error().code, ErrorCode::kBadResponse);
  EXPECT_TRUE(Contains(derived.at(D("2026-11-20")).error().message, "starting 2026-11-21"));
  ASSERT_FALSE(derived.at(D("2026-11-21")));  // its own window
  EXPECT_TRUE(Contains(derived.at(D("2026-11-21")).error().message, "starting 2026-11-21"));
  ASSERT_FALSE(derived.at(D("2026-11-22")));
  ASSERT_TRUE(derived.at(D("2026-11-23")));
  EXPECT_EQ(derived.at(D("2026-11-23"))->total, 3);
}

TEST(DeriveDailyFiguresTest, TodayAndLaterAreNotDerived) {
  std::map<Day, n8n::InsightsSummary> sums;
  sums[kToday] = {5, 0, 0, 0};
  auto derived = DeriveDailyFigures({kToday, kToday + 1}, kToday, sums);
  for (Day day : {kToday, kToday + 1}) {
    ASSERT_FALSE(derived.at(day));
    EXPECT_EQ(derived.at(day).error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(Contains(derived.at(day).error().message, "not a past day"));
  }
}

TEST(WindowStartsTest, ABackfillEndingYesterdayCostsOneRequestPerDay) {
  EXPECT_EQ(WindowStarts(kReferenceDays, kToday), kReferenceDays);
  EXPECT_EQ(WindowStarts({D("2026-11-23")}, kToday), (std::vector<Day>{D("2026-11-23")}));
}

TEST(WindowStartsTest, AGapNotEndingYesterdayCostsOneMore) {
  EXPECT_EQ(WindowStarts({D("2026-11-18"), D("2026-11-19"), D("2026-11-20")}, kToday),
            (std::vector<Day>{D("2026-11-18"), D("2026-11-19"), D("2026-11-20"), D("2026-11-21")}));
  EXPECT_EQ(WindowStarts({D("2026-11-20")}, kToday),
            (std::vector<Day>{D("2026-11-20"), D("2026-11-21")}));
}

TEST(WindowStartsTest, SharedStartsAreAskedOnceInOrder) {
  // Two gaps and yesterday: 18th needs 19th, 21st needs 22nd, 22nd is shared with 21st's need.
  std::vector<Day> days = {D("2026-11-23"), D("2026-11-21"), D("2026-11-18"), D("2026-11-22"),
                           D("2026-11-21")};
  EXPECT_EQ(WindowStarts(days, kToday),
            (std::vector<Day>{D("2026-11-18"), D("2026-11-19"), D("2026-11-21"), D("2026-11-22"),
                              D("2026-11-23")}));
}

TEST(WindowStartsTest, TodayAndLaterNeedNoPastWindow) {
  EXPECT_TRUE(WindowStarts({}, kToday).empty());
  EXPECT_TRUE(WindowStarts({kToday, kToday + 3}, kToday).empty());
  EXPECT_EQ(WindowStarts({kToday - 1, kToday}, kToday), (std::vector<Day>{kToday - 1}));
}

TEST(DaysDueTest, AFreshServerBackfillsEveryDayOldestFirst) {
  auto due = DaysDue(D("2026-11-20"), D("2026-11-23"), {}, {}, 2);
  EXPECT_EQ(due, kReferenceDays);
}

TEST(DaysDueTest, ListsGapsOldestFirstPlusTheLastDays) {
  Day since = D("2026-11-01"), yesterday = D("2026-11-10");
  std::set<Day> collected;
  for (Day d = since; d <= yesterday; d = d + 1) collected.insert(d);
  collected.erase(D("2026-11-03"));
  collected.erase(D("2026-11-05"));

  EXPECT_EQ(DaysDue(since, yesterday, collected, {}, 2),
            (std::vector<Day>{D("2026-11-03"), D("2026-11-05"), D("2026-11-09"), D("2026-11-10")}));
  EXPECT_EQ(DaysDue(since, yesterday, collected, {}, 0),
            (std::vector<Day>{D("2026-11-03"), D("2026-11-05")}));
  // Recollecting more days than are tracked never reaches before tracking_since.
  EXPECT_EQ(DaysDue(D("2026-11-09"), yesterday, collected, {}, 30),
            (std::vector<Day>{D("2026-11-09"), D("2026-11-10")}));
}

TEST(DaysDueTest, UnrecoverableDaysAreNeverDue) {
  Day since = D("2026-11-01"), yesterday = D("2026-11-10");
  std::set<Day> lost = {D("2026-11-01"), D("2026-11-02"), D("2026-11-10")};
  auto due = DaysDue(since, yesterday, {}, lost, 3);
  EXPECT_EQ(due.size(), 7u);
  EXPECT_EQ(due.front(), D("2026-11-03"));
  EXPECT_EQ(due.back(), D("2026-11-09"));
}

TEST(DaysDueTest, NothingIsDueBeforeTrackingStarts) {
  Day yesterday = D("2026-11-23");
  EXPECT_TRUE(DaysDue(kToday, yesterday, {}, {}, 2).empty());
  EXPECT_TRUE(DaysDue(kToday + 10, yesterday, {}, {}, 2).empty());
  EXPECT_EQ(DaysDue(yesterday, yesterday, {}, {}, 2), (std::vector<Day>{yesterday}));
}

TEST(FiguresOfTest, ReadsOneWindowAsOneDay) {
  DailyFigures live = FiguresOf({8, 2, 1.5, 31.3});
  EXPECT_EQ(live.total, 8);
  EXPECT_EQ(live.failed, 2);
  EXPECT_EQ(live.failure_rate, 0.25);
  EXPECT_EQ(live.time_saved_minutes, 1.5);
  EXPECT_EQ(live.average_run_time_ms, 31.3);
  DailyFigures idle = FiguresOf({});
  EXPECT_EQ(idle.total, 0);
  EXPECT_EQ(idle.failure_rate, 0.0);
  EXPECT_EQ(idle.average_run_time_ms, 0.0);
}

TEST(SameUtcDayTest, ChangesAtMidnight) {
  int64_t midnight = StartOfDay(kToday);
  EXPECT_TRUE(SameUtcDay(midnight, midnight + 86399));
  EXPECT_FALSE(SameUtcDay(midnight - 1, midnight));
  EXPECT_FALSE(SameUtcDay(midnight, midnight + 86400));
}

}  // namespace
}  // namespace fleet::collector
