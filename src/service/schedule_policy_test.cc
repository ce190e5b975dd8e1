#include "service/schedule_policy.h"

#include <gtest/gtest.h>

namespace fleet::service {
namespace {

int64_t At(const char* timestamp) { return *ParseTimestamp(timestamp); }
Day D(const char* day) { return *ParseDay(day); }

FetchAttempt Failed(std::string server, std::string day, std::string outcome = "timeout") {
  FetchAttempt a;
  a.server = std::move(server);
  a.day = std::move(day);
  a.outcome = std::move(outcome);
  return a;
}

TEST(SchedulePolicyTest, NextDailyRunIsTodayUntilItRan) {
  EXPECT_EQ(NextDailyRun(At("2026-11-24T00:10:00Z"), 90, std::nullopt), At("2026-11-24T01:30:00Z"));
  // After the time with no run today: due (in the past), e.g. a restart at noon.
  EXPECT_EQ(NextDailyRun(At("2026-11-24T12:00:00Z"), 90, std::nullopt), At("2026-11-24T01:30:00Z"));
  EXPECT_EQ(NextDailyRun(At("2026-11-24T12:00:00Z"), 90, D("2026-11-23")),
            At("2026-11-24T01:30:00Z"));
  EXPECT_EQ(NextDailyRun(At("2026-11-24T01:30:00Z"), 90, D("2026-11-24")),
            At("2026-11-25T01:30:00Z"));
  EXPECT_EQ(NextDailyRun(At("2026-11-24T23:59:59Z"), 0, D("2026-11-24")),
            At("2026-11-25T00:00:00Z"));
  EXPECT_EQ(DailySlot(D("2026-11-24"), 23 * 60 + 59), At("2026-11-24T23:59:00Z"));
}

TEST(SchedulePolicyTest, RetryDelayDoublesUpToTheCap) {
  EXPECT_EQ(RetryDelaySeconds(1, 300, 7200), 300);
  EXPECT_EQ(RetryDelaySeconds(2, 300, 7200), 600);
  EXPECT_EQ(RetryDelaySeconds(3, 300, 7200), 1200);
  EXPECT_EQ(RetryDelaySeconds(5, 300, 7200), 4800);
  EXPECT_EQ(RetryDelaySeconds(6, 300, 7200), 7200);
  EXPECT_EQ(RetryDelaySeconds(1000000, 300, 7200), 7200);  // no overflow
  EXPECT_EQ(RetryDelaySeconds(1, 300, 100), 100);
}

TEST(SchedulePolicyTest, RetriesGroupServersByTheirFailedDays) {
  std::vector<FetchAttempt> failures = {
      Failed("b", "2026-11-22"),
      Failed("b", "2026-11-23", "http_status"),
      Failed("a", "2026-11-23"),
      Failed("a", "2026-11-22", "unreachable"),
      Failed("c", "2026-11-23"),
      Failed("a", "2026-11-23"),  // twice: once
      Failed("d", "2025-01-01", "beyond_history"),
      Failed("e", "2026-11-23", "ok"),
  };
  auto requests = PlanRetries(failures);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].servers, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(requests[0].days, (std::vector<Day>{D("2026-11-22"), D("2026-11-23")}));
  EXPECT_EQ(requests[1].servers, (std::vector<std::string>{"c"}));
  EXPECT_EQ(requests[1].days, (std::vector<Day>{D("2026-11-23")}));
  for (const auto& r : requests) {
    EXPECT_FALSE(r.backfill);
    EXPECT_EQ(r.origin, "retry");
    EXPECT_TRUE(r.customer.empty());
  }
  EXPECT_TRUE(PlanRetries({Failed("d", "2025-01-01", "beyond_history")}).empty());
  EXPECT_FALSE(IsRetryable(Failed("x", "2026-11-23", "ok")));
  EXPECT_TRUE(IsRetryable(Failed("x", "2026-11-23", "auth_error")));
}

}  // namespace
}  // namespace fleet::service
