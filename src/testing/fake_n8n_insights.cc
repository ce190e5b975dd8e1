// The fake n8n's Insights summary with n8n 2.40.7's window rules (n8n-reference.md section 2;
// insights.service validateDateFiltersLicense and insights-by-period-query.helper). Figures are
// stored per UTC day; a day counts in a window when its 00:00Z lies inside it, the way n8n's
// compacted buckets (keyed by periodStart) do.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "testing/fake_n8n_internal.h"

namespace fleet::testing::fake {
namespace {

constexpr int64_t kDaySeconds = 86400;
constexpr int64_t kDefaultWindowDays = 7;

struct Window {
  int64_t start{};  // inclusive, unix seconds
  int64_t end{};    // exclusive
};

struct Totals {
  int64_t total{};
  int64_t failed{};
  double time_saved{};
  double runtime{};
};

Day Today(const State& state) { return state.today.value_or(DayOf(UnixNow())); }

// With SetToday(), "now" is that day at the real time of day.
int64_t Now(const State& state) {
  int64_t real = UnixNow();
  return StartOfDay(Today(state)) + (real - StartOfDay(DayOf(real)));
}

// n8n refuses a date whose raw query value is not URL-encoded (':' or '+' as sent).
bool SentUnencoded(const std::string& target, std::string_view name) {
  size_t query = target.find('?');
  if (query == std::string::npos) return false;
  std::string_view rest = std::string_view(target).substr(query + 1);
  while (!rest.empty()) {
    std::string_view pair = rest.substr(0, rest.find('&'));
    rest.remove_prefix(std::min(rest.size(), pair.size() + 1));
    if (pair.substr(0, pair.find('=')) != name || pair.find('=') == std::string_view::npos) {
      continue;
    }
    std::string_view value = pair.substr(pair.find('=') + 1);
    if (value.find_first_of(":+ ") != std::string_view::npos) return true;
  }
  return false;
}

std::optional<int64_t> ParseDate(const std::string& text) {
  if (auto day = ParseDay(text)) return StartOfDay(*day);
  return ParseTimestamp(text);
}

Totals Sum(const State& state, Window window) {
  Totals totals;
  for (const auto& [day, figures] : state.insights) {
    int64_t at = StartOfDay(day);
    if (at < window.start || at >= window.end) continue;
    totals.total += figures.total;
    totals.failed += figures.failed;
    totals.time_saved += figures.time_saved_minutes;
    totals.runtime += figures.total_runtime_ms;
  }
  return totals;
}

double Round(double value, double scale) { return std::round(value * scale) / scale; }

double FailureRate(const Totals& t) {
  return t.total > 0 ? Round(static_cast<double>(t.failed) / static_cast<double>(t.total), 1000)
                     : 0;
}

double AverageRunTime(const Totals& t) {
  return t.total > 0 ? Round(t.runtime / static_cast<double>(t.total), 100) : 0;
}

// The summary body: current figures; deviation = current - previous (null when the previous
// period had no executions), like n8n.
Json SummaryJson(const Totals& now, const Totals& before) {
  auto field = [&](Json value, const char* unit, Json previous) {
    Json deviation =
        before.total == 0 ? Json(nullptr) : Json(value.get<double>() - previous.get<double>());
    return Json{{"value", value}, {"unit", unit}, {"deviation", deviation}};
  };
  return Json{
      {"total", field(now.total, "count", before.total)},
      {"failed", field(now.failed, "count", before.failed)},
      {"failureRate", field(FailureRate(now), "ratio", FailureRate(before))},
      {"timeSaved", field(now.time_saved, "minute", before.time_saved)},
      {"averageRunTime", field(AverageRunTime(now), "millisecond", AverageRunTime(before))}};
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
  for (const char* name : {"startDate", "endDate"}) {
    if (SentUnencoded(call.req.target, name)) {
      return SendMessage(call, 400, std::string("Parameter '") + name + "' must be url encoded");
    }
  }
  std::lock_guard lock(state.mu);
  const int64_t now = Now(state);
  int64_t start = now - kDefaultWindowDays * kDaySeconds;
  int64_t end = now;
  for (auto [name, target] : {std::pair{"startDate", &start}, std::pair{"endDate", &end}}) {
    if (!call.req.has_param(name)) continue;
    std::optional<int64_t> parsed = ParseDate(call.req.get_param_value(name));
    if (!parsed) {
      return SendMessage(call, 400, std::string("Parameter '") + name + "' must be a valid date");
    }
    *target = *parsed;
  }
  if (end < start) return SendMessage(call, 400, "endDate must be on or after startDate");
  if (end - start < kDaySeconds) {
    return SendMessage(call, 403, "Hourly data is not available with your current license");
  }
  const Day today = Today(state);
  if (today - DayOf(start) > state.history_days) {
    return SendMessage(
        call, 403, "The selected date range exceeds the maximum history allowed by your license");
  }
  Window current{start, end};
  if (DayOf(end) != today) {  // a past or future endDate widens to whole days, one day more
    current = {StartOfDay(DayOf(start)), StartOfDay(DayOf(end) + 1)};
  }
  Window previous{current.start - (current.end - current.start), current.start};
  SendJson(call, 200, SummaryJson(Sum(state, current), Sum(state, previous)));
}

}  // namespace fleet::testing::fake
