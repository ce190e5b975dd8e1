#include "collector/plan.h"

#include <algorithm>
#include <cmath>

namespace fleet::collector {
namespace {

// Float sums carry binary noise (n8n sums in SQL and JavaScript); figures are rounded to this,
// and differences within it are zero.
constexpr double kFloatNoise = 1e-6;
constexpr double kPerUnit = 1e6;  // 1 / kFloatNoise, exact
// n8n rounds averageRunTime to 0.01 ms, so average x total is off by up to 0.005 ms per execution.
constexpr double kRunTimeSlackPerExecution = 0.005;

double Clean(double value) {
  double rounded = std::round(value * kPerUnit) / kPerUnit;
  return std::fabs(rounded) < kFloatNoise ? 0.0 : rounded;
}

double Ratio(int64_t part, int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

Error NotRead(Day start) {
  return Error{ErrorCode::kBadResponse,
               "the Insights window starting " + FormatDay(start) + " was not read"};
}

// One past day from S([day, today)) - S([day+1, today)).
Result<DailyFigures> DeriveDay(Day day, Day today,
                               const std::map<Day, n8n::InsightsSummary>& sums) {
  if (day >= today) {
    return MakeError(ErrorCode::kInvalidArgument,
                     FormatDay(day) + " is not a past day (today is " + FormatDay(today) +
                         "): only days before today are derived from windows ending today");
  }
  auto from = sums.find(day);
  if (from == sums.end()) return tl::unexpected(NotRead(day));
  n8n::InsightsSummary later;  // S([day+1, today)): zero when day is yesterday
  if (day + 1 < today) {
    auto next = sums.find(day + 1);
    if (next == sums.end()) return tl::unexpected(NotRead(day + 1));
    later = next->second;
  }
  const n8n::InsightsSummary& earlier = from->second;
  int64_t total = earlier.total - later.total;
  int64_t failed = earlier.failed - later.failed;
  double saved = Clean(earlier.time_saved_minutes - later.time_saved_minutes);
  double run_time = earlier.total_run_time_ms() - later.total_run_time_ms();
  double slack =
      kRunTimeSlackPerExecution * static_cast<double>(earlier.total + later.total) + kFloatNoise;
  if (total < 0 || failed < 0 || failed > total || saved < 0 || run_time < -slack) {
    return MakeError(
        ErrorCode::kBadResponse,
        "the Insights windows for " + FormatDay(day) + " disagree: S([" + FormatDay(day) +
            ", today)) - S([" + FormatDay(day + 1) + ", today)) gives total " +
            std::to_string(total) + ", failed " + std::to_string(failed) + ", time saved " +
            std::to_string(saved) + " min, run time " + std::to_string(run_time) +
            " ms, a negative or inconsistent difference (the instance's data changed between "
            "the two requests, e.g. compaction or pruning ran); nothing is stored for the day and "
            "it is retried");
  }
  DailyFigures figures;
  figures.total = total;
  figures.failed = failed;
  figures.failure_rate = Ratio(failed, total);
  figures.time_saved_minutes = saved;
  // Within the rounding slack a small negative run time is n8n's rounding, not a change.
  run_time = std::max(0.0, run_time);
  figures.average_run_time_ms = total > 0 ? Clean(run_time / static_cast<double>(total)) : 0.0;
  return figures;
}

}  // namespace

std::vector<Day> DaysDue(Day tracking_since, Day yesterday, const std::set<Day>& collected,
                         const std::set<Day>& unrecoverable, int recollect_last) {
  std::vector<Day> due;
  for (Day day = tracking_since; day <= yesterday; day = day + 1) {
    bool recent = yesterday - day < recollect_last;
    if (unrecoverable.count(day)) continue;
    if (recent || !collected.count(day)) due.push_back(day);
  }
  return due;
}

std::vector<Day> WindowStarts(const std::vector<Day>& days, Day today) {
  std::set<Day> starts;
  for (Day day : days) {
    if (day >= today) continue;
    starts.insert(day);
    if (day + 1 < today) starts.insert(day + 1);
  }
  return {starts.begin(), starts.end()};
}

DailyFigures FiguresOf(const n8n::InsightsSummary& summary) {
  DailyFigures figures;
  figures.total = summary.total;
  figures.failed = summary.failed;
  figures.failure_rate = Ratio(summary.failed, summary.total);
  figures.time_saved_minutes = Clean(summary.time_saved_minutes);
  figures.average_run_time_ms = summary.total > 0 ? Clean(summary.average_run_time_ms) : 0.0;
  return figures;
}

std::map<Day, Result<DailyFigures>> DeriveDailyFigures(
    const std::vector<Day>& days, Day today, const std::map<Day, n8n::InsightsSummary>& sums) {
  std::map<Day, Result<DailyFigures>> out;
  for (Day day : days) out.emplace(day, DeriveDay(day, today, sums));
  return out;
}

bool SameUtcDay(int64_t a_unix, int64_t b_unix) { return DayOf(a_unix) == DayOf(b_unix); }

}  // namespace fleet::collector
