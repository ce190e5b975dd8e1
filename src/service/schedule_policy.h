#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "collector/run.h"
#include "core/time.h"
#include "core/types.h"

namespace fleet::service {

// The scheduler's decisions, pure: the loop in scheduler.h only applies them.

// Unix seconds of `minute_of_day` (UTC) on `day`.
int64_t DailySlot(Day day, int minute_of_day);

// The next daily run's slot: today's unless today's already ran (`last_slot_day`), else
// tomorrow's. The result is <= now when a run is due now (e.g. at start-up after the time).
int64_t NextDailyRun(int64_t now, int minute_of_day, std::optional<Day> last_slot_day);

// The delay before retry round `round` (1 = first after a run): base, 2 x base, 4 x base, ...,
// at most `max_seconds`.
int64_t RetryDelaySeconds(int round, int base_seconds, int max_seconds);

// Whether a failed attempt is worth retrying: everything but days beyond the instance's history.
bool IsRetryable(const FetchAttempt& attempt);

// The runs that retry the retryable failures: one request per distinct set of failed days, each
// naming the servers that failed exactly those days (so no server is asked for a day it did not
// fail). Sorted by days, servers sorted; origin "retry".
std::vector<collector::CollectionRequest> PlanRetries(const std::vector<FetchAttempt>& failures);

}  // namespace fleet::service
