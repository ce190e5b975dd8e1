// The fake n8n's Insights summary with n8n 2.40.7's window rules (n8n-reference.md section 2),
// decided by rules::DecideInsightsWindow (insights_rules.cc, shared with the fake fleet). Figures
// are stored per UTC day.

#include <cstdio>
#include <cstdlib>

#include "testing/fake_n8n_internal.h"
#include "testing/n8n_rules.h"

namespace fleet::testing::fake {
namespace {

Day Today(const State& state) { return state.today.value_or(DayOf(UnixNow())); }

// With SetToday(), "now" is that day at the real time of day.
int64_t Now(const State& state) {
  int64_t real = UnixNow();
  return StartOfDay(Today(state)) + (real - StartOfDay(DayOf(real)));
}

rules::InsightsTotals Sum(const State& state, rules::Window window) {
  rules::InsightsTotals totals;
  for (const auto& [day, figures] : state.insights) {
    if (!window.Contains(day)) continue;
    totals.Add(
        {figures.total, figures.failed, figures.time_saved_minutes, figures.total_runtime_ms});
  }
  return totals;
}

std::optional<std::string> Param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  return req.get_param_value(name);
}

}  // namespace

Day DayOrDie(const std::string& day) {
  std::optional<Day> parsed = ParseDay(day);
  if (!parsed) {
    std::fprintf(stderr, "FakeN8n: '%s' is not a YYYY-MM-DD day\n", day.c_str());
    std::abort();
  }
  return *parsed;
}

// GET /api/v1/insights/summary?startDate=&endDate=[&projectId=] (projectId is accepted; the
// fake keeps no per-project figures).
void HandleInsightsSummary(State& state, Call& call) {
  std::optional<std::string> role = Authorize(state, call);
  if (!role) return;
  if (*role != "global:owner" && *role != "global:admin") {
    return SendMessage(call, 403, "Forbidden");  // insights:read is an admin scope
  }
  rules::InsightsQuery query{call.req.target, Param(call.req, "startDate"),
                             Param(call.req, "endDate")};
  std::lock_guard lock(state.mu);
  rules::WindowAnswer answer =
      rules::DecideInsightsWindow(query, Today(state), Now(state), state.history_days);
  if (answer.status != 200) return SendMessage(call, answer.status, answer.message);
  SendJson(call, 200,
           rules::InsightsSummaryJson(Sum(state, answer.current), Sum(state, answer.previous)));
}

}  // namespace fleet::testing::fake
