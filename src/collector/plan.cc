#include "collector/plan.h"

#include <algorithm>
#include <cmath>

namespace fleet::collector {
namespace {

// Float sums carry n8n's rounding and binary noise; differences within this are zero.
constexpr double kFloatNoise = 1e-6;

double Clean(double value) {
  double rounded = std::round(value * 1e6) / 1e6;
  return std::fabs(rounded) < kFloatNoise ? 0.0 : rounded;
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
  figures.failure_rate =
      summary.total > 0 ? static_cast<double>(summary.failed) / static_cast<double>(summary.total)
                        : 0.0;
  figures.time_saved_minutes = Clean(summary.time_saved_minutes);
  figures.average_run_time_ms = summary.total > 0 ? Clean(summary.average_run_time_ms) : 0.0;
  return figures;
}

std::map<Day, Result<DailyFigures>> DeriveDailyFigures(
    const std::vector<Day>& days, Day today, const std::map<Day, n8n::InsightsSummary>& sums) {
  std::map<Day, Result<DailyFigures>> out;
  for (Day day : days) {
    auto from = sums.find(day);
    if (day >= today || from == sums.end()) {
      out.emplace(day, MakeError(ErrorCode::kBadResponse, "the Insights window starting " +
                                                              FormatDay(day) + " was not read"));
      continue;
    }
    n8n::InsightsSummary later;  // S([day+1, today)): zero when day is yesterday
    if (day + 1 < today) {
      auto next = sums.find(day + 1);
      if (next == sums.end()) {
        out.emplace(
            day, MakeError(ErrorCode::kBadResponse,
                           "the Insights window starting " + FormatDay(day + 1) + " was not read"));
        continue;
      }
      later = next->second;
    }
    const n8n::InsightsSummary& earlier = from->second;
    int64_t total = earlier.total - later.total;
    int64_t failed = earlier.failed - later.failed;
    double saved = Clean(earlier.time_saved_minutes - later.time_saved_minutes);
    double run_time = Clean(earlier.total_run_time_ms() - later.total_run_time_ms());
    if (total < 0 || failed < 0 || failed > total || saved < 0 || run_time < 0) {
      out.emplace(day, MakeError(ErrorCode::kBadResponse,
                                 "the instance's Insights changed between the two windows for " +
                                     FormatDay(day) + " (a negative difference: total " +
                                     std::to_string(total) + ", failed " + std::to_string(failed) +
                                     "); the day is retried"));
      continue;
    }
    DailyFigures figures;
    figures.total = total;
    figures.failed = failed;
    figures.failure_rate =
        total > 0 ? static_cast<double>(failed) / static_cast<double>(total) : 0.0;
    figures.time_saved_minutes = saved;
    figures.average_run_time_ms = total > 0 ? Clean(run_time / static_cast<double>(total)) : 0.0;
    out.emplace(day, figures);
  }
  return out;
}

bool SameUtcDay(int64_t a_unix, int64_t b_unix) { return DayOf(a_unix) == DayOf(b_unix); }

}  // namespace fleet::collector
