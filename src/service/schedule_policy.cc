#include "service/schedule_policy.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace fleet::service {

int64_t DailySlot(Day day, int minute_of_day) {
  return StartOfDay(day) + int64_t{minute_of_day} * 60;
}

int64_t NextDailyRun(int64_t now, int minute_of_day, std::optional<Day> last_slot_day) {
  Day today = DayOf(now);
  if (last_slot_day && *last_slot_day >= today) return DailySlot(*last_slot_day + 1, minute_of_day);
  return DailySlot(today, minute_of_day);
}

int64_t RetryDelaySeconds(int round, int base_seconds, int max_seconds) {
  int64_t delay = std::max(base_seconds, 1);
  for (int i = 1; i < round && delay < max_seconds; ++i) delay *= 2;
  return std::min<int64_t>(delay, std::max(max_seconds, 1));
}

bool IsRetryable(const FetchAttempt& attempt) {
  return attempt.outcome != "ok" && attempt.outcome != "beyond_history";
}

std::vector<collector::CollectionRequest> PlanRetries(const std::vector<FetchAttempt>& failures) {
  std::map<std::string, std::set<Day>> days_of;  // server -> failed days
  for (const auto& attempt : failures) {
    if (!IsRetryable(attempt)) continue;
    auto day = ParseDay(attempt.day);
    if (!day || attempt.server.empty()) continue;
    days_of[attempt.server].insert(*day);
  }
  std::map<std::set<Day>, std::vector<std::string>> servers_of;  // days -> servers
  for (const auto& [server, days] : days_of) servers_of[days].push_back(server);
  std::vector<collector::CollectionRequest> requests;
  for (auto& [days, servers] : servers_of) {
    collector::CollectionRequest request;
    request.servers = std::move(servers);
    request.days.assign(days.begin(), days.end());
    request.backfill = false;
    request.origin = "retry";
    requests.push_back(std::move(request));
  }
  return requests;
}

}  // namespace fleet::service
