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
// Consistency is the engine's part:
// - Midnight: the windows' meaning changes when the UTC day does, so the engine discards a
//   server's windows if SameUtcDay(first request's start, last answer's arrival) is false, and
//   redoes them with the new `today`.
// - Late data: n8n compacts raw executions into buckets periodically (hourly by default), so the
//   sums can grow while a server's windows are read. A growth inside [D+1, today) between the
//   reads of S([D, today)) and S([D+1, today)) understates day D, silently unless it is big
//   enough to turn the difference negative. Growth only ever adds, so the engine should re-read
//   the earliest window after all the others and redo the server if it changed (it contains
//   every bucket involved).
//   Recollecting the last days on later runs (DaysDue's `recollect_last`) repairs the recent
//   days in any case.

struct DailyFigures {
  int64_t total{};  // billable executions: successes + failures
  int64_t failed{};
  double failure_rate{};  // failed / total, 0 when total is 0
  // Rounded to 1e-6 to drop float noise. Exact for integral minutes.
  double time_saved_minutes{};
  // Run time / total, 0 when total is 0, rounded to 1e-6. Approximate when derived: n8n rounds
  // averageRunTime to 0.01 ms, so a derived day's average is off by up to
  // 0.005 x (S([D]).total + S([D+1]).total) / total ms; read only yesterday's and today's
  // averages as n8n's own. Never billed.
  double average_run_time_ms{};
};

// The days to collect for one server: every day in [tracking_since, yesterday] without a stored
// row in `collected`, plus always the last `recollect_last` days up to yesterday (a day is not
// final until the instance's compaction has run), minus days recorded as unrecoverable (beyond
// the instance's Insights history). Oldest first; empty when tracking_since > yesterday.
std::vector<Day> DaysDue(Day tracking_since, Day yesterday, const std::set<Day>& collected,
                         const std::set<Day>& unrecoverable, int recollect_last);

// The distinct window starts needed to derive `days`, ascending; each window is
// [start 00:00Z, today 00:00Z). Day D needs D and D+1, except that D+1 == today is never a start
// (S([today, today)) is 0, and n8n refuses a zero-length window). K contiguous days ending
// yesterday cost K requests, K contiguous days ending earlier K+1; shared starts are asked once.
// Days >= today are ignored here: today is read from its own live window (see above).
std::vector<Day> WindowStarts(const std::vector<Day>& days, Day today);

// Per requested day, its figures from the window sums (keyed by start, each S([start, today))),
// or why it cannot be derived, so one bad day never hides the others:
// - a window the day needs is missing from `sums` -> kBadResponse;
// - a negative or inconsistent difference (the instance's data changed between the requests,
//   e.g. compaction or pruning ran) -> kBadResponse: never stored, the day is retried. A run-time
//   difference within n8n's rounding of averageRunTime is not an inconsistency;
// - a day >= today -> kInvalidArgument (read today with FiguresOf on its live window).
std::map<Day, Result<DailyFigures>> DeriveDailyFigures(
    const std::vector<Day>& days, Day today, const std::map<Day, n8n::InsightsSummary>& sums);

// A single summary read as one day's figures: today's live window [today, tomorrow), or
// yesterday's [yesterday, today).
DailyFigures FiguresOf(const n8n::InsightsSummary& summary);

// True when both instants fall on the same UTC day (the midnight guard above).
bool SameUtcDay(int64_t a_unix, int64_t b_unix);

}  // namespace fleet::collector
