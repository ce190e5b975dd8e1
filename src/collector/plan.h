#pragma once

#include <map>
#include <set>
#include <vector>

#include "core/error.h"
#include "core/time.h"
#include "n8n/insights.h"

namespace fleet::collector {

// What a day costs and what it is worth: pure functions, no I/O, `today` (the UTC day now)
// passed in. The recipe follows n8n-reference.md section 2, where n8n's Insights window is NOT the
// one sent: a request whose endDate falls on a past day is widened by a day.
//
// Exact recipe for past days: every window ends at today 00:00Z, where n8n sums exactly
// [start, today). Then day(D) = S([D, today)) - S([D+1, today)), and for D = yesterday
// S([yesterday, today)) alone (S([today, today)) is 0; n8n refuses a zero-length window).
// K days ending yesterday cost K requests, any K days at most 2K, usually K+1.
//
// Today (the live, partial day) is read from [today 00:00Z, tomorrow 00:00Z): n8n widens that to
// [today, today+2), whose future part is empty, so the figure is today's so far.
//
// The engine must discard a server's windows if the UTC day changed between its first request and
// its last (the windows' meaning changes at midnight), and redo them: see SameUtcDay().

struct DailyFigures {
  int64_t total{};
  int64_t failed{};
  double failure_rate{};  // failed / total, 0 when total is 0
  double time_saved_minutes{};
  double average_run_time_ms{};  // run time / total, 0 when total is 0 (approximate when derived:
                                 // n8n rounds averageRunTime to 0.01 ms before we multiply back)
};

// The days to collect for one server: every day in [tracking_since, yesterday] without a stored
// row, plus always the last `recollect_last` days up to yesterday (a day is not final until the
// instance's compaction has run), minus days recorded as unrecoverable. Oldest first.
std::vector<Day> DaysDue(Day tracking_since, Day yesterday, const std::set<Day>& collected,
                         const std::set<Day>& unrecoverable, int recollect_last);

// The distinct window starts (each window is [start, today 00:00Z)) needed to derive `days`,
// which must all be before `today`; ascending. `today` itself is never a start.
std::vector<Day> WindowStarts(const std::vector<Day>& days, Day today);

// Per requested day: its figures from the window sums (keyed by start), or why it cannot be
// derived: a window missing from `sums`, or a negative difference (the instance's data changed
// between the requests, e.g. compaction or pruning) -> kBadResponse, so that day is retried
// rather than stored wrong. One bad day never hides the others.
std::map<Day, Result<DailyFigures>> DeriveDailyFigures(
    const std::vector<Day>& days, Day today, const std::map<Day, n8n::InsightsSummary>& sums);

// A single summary read as one day's figures (yesterday's window, or today's live window).
DailyFigures FiguresOf(const n8n::InsightsSummary& summary);

bool SameUtcDay(int64_t a_unix, int64_t b_unix);

}  // namespace fleet::collector
