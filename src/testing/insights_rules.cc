// n8n 2.40.7's Insights summary rules (n8n-reference.md section 2; insights.service
// validateDateFiltersLicense and insights-by-period-query.helper), shared by the fake n8n and the
// fake fleet.

#include <algorithm>
#include <cmath>
#include <tuple>

#include "testing/n8n_rules.h"

namespace fleet::testing::rules {
namespace {

constexpr int64_t kDaySeconds = 86400;
constexpr int64_t kDefaultWindowDays = 7;

// n8n refuses a date whose raw query value is not URL-encoded (':' or '+' as sent).
bool SentUnencoded(std::string_view target, std::string_view name) {
  size_t query = target.find('?');
  if (query == std::string_view::npos) return false;
  std::string_view rest = target.substr(query + 1);
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

double Round(double value, double scale) { return std::round(value * scale) / scale; }

double FailureRate(const InsightsTotals& t) {
  return t.total > 0 ? Round(static_cast<double>(t.failed) / static_cast<double>(t.total), 1000)
                     : 0;
}

double AverageRunTime(const InsightsTotals& t) {
  return t.total > 0 ? Round(t.runtime / static_cast<double>(t.total), 100) : 0;
}

WindowAnswer Refuse(int status, std::string message) { return {status, std::move(message)}; }

}  // namespace

void InsightsTotals::Add(const InsightsTotals& other) {
  total += other.total;
  failed += other.failed;
  time_saved += other.time_saved;
  runtime += other.runtime;
}

bool Window::Contains(Day day) const {
  int64_t at = StartOfDay(day);
  return at >= start && at < end;
}

WindowAnswer DecideInsightsWindow(const InsightsQuery& query, Day today, int64_t now,
                                  int history_days) {
  for (const char* name : {"startDate", "endDate"}) {
    if (SentUnencoded(query.target, name)) {
      return Refuse(400, std::string("Parameter '") + name + "' must be url encoded");
    }
  }
  int64_t start = now - kDefaultWindowDays * kDaySeconds;
  int64_t end = now;
  for (auto [name, value, target] : {std::tuple{"startDate", &query.start_date, &start},
                                     std::tuple{"endDate", &query.end_date, &end}}) {
    if (!*value) continue;
    std::optional<int64_t> parsed = ParseDate(**value);
    if (!parsed) return Refuse(400, std::string("Parameter '") + name + "' must be a valid date");
    *target = *parsed;
  }
  if (end < start) return Refuse(400, "endDate must be on or after startDate");
  if (end - start < kDaySeconds) {
    return Refuse(403, "Hourly data is not available with your current license");
  }
  if (today - DayOf(start) > history_days) {
    return Refuse(403,
                  "The selected date range exceeds the maximum history allowed by your license");
  }
  Window current{start, end};
  if (DayOf(end) != today) {  // a past or future endDate widens to whole days, one day more
    current = {StartOfDay(DayOf(start)), StartOfDay(DayOf(end) + 1)};
  }
  Window previous{current.start - (current.end - current.start), current.start};
  return {200, "", current, previous};
}

Json InsightsSummaryJson(const InsightsTotals& now, const InsightsTotals& before) {
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

}  // namespace fleet::testing::rules
