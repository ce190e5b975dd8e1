#include "service/scheduler.h"

#include <chrono>
#include <cstdio>
#include <functional>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "testing/fake_clock.h"

namespace fleet::service {
namespace {

int64_t At(const char* timestamp) { return *ParseTimestamp(timestamp); }

// Runs finish `duration` seconds after they start (at once, inside Start, when 0) and report the
// failures `failures_for` gives; like LocalRunner, a run is reported before it stops being current.
class FakeRunner final : public CollectionRunner {
 public:
  struct Call {
    int64_t at{};
    collector::CollectionRequest request{};
    bool accepted{};
  };

  explicit FakeRunner(const Clock& clock) : clock_(clock) {}

  Result<int64_t> Start(const collector::CollectionRequest& request) override {
    int64_t now = clock_.NowUnixSeconds();
    bool busy = now < busy_until || running_id_.has_value();
    calls.push_back({now, request, !busy});
    if (!busy && !request.slot.empty() && !slots_taken.insert(request.slot).second) {
      calls.back().accepted = false;
      return MakeError(ErrorCode::kAlreadyExists, "the run for " + request.slot + " was started");
    }
    if (busy) return MakeError(ErrorCode::kFailedPrecondition, "collection run 7 is in progress");
    if (request.origin == "retry" && refuse_retries) {
      calls.back().accepted = false;
      return MakeError(ErrorCode::kNotFound, "server 'a' not found");
    }
    running_id_ = ++last_id_;
    running_request_ = request;
    ends_at_ = now + duration;
    if (duration == 0) Finish();
    return last_id_;
  }
  std::optional<int64_t> Current() const override { return running_id_; }

  std::optional<int64_t> ends_at() const {
    return running_id_ ? std::optional<int64_t>(ends_at_) : std::nullopt;
  }
  void Tick() {
    if (running_id_ && clock_.NowUnixSeconds() >= ends_at_) Finish();
  }
  std::vector<Call> Accepted() const {
    std::vector<Call> out;
    for (const auto& c : calls) {
      if (c.accepted) out.push_back(c);
    }
    return out;
  }

  Scheduler* scheduler{nullptr};
  int64_t duration{0};
  int64_t busy_until{0};
  bool refuse_retries{false};
  std::set<std::string> slots_taken{};  // as the database's schedule slots: one run per slot
  std::function<std::vector<FetchAttempt>(const collector::CollectionRequest&)> failures_for{};
  std::vector<Call> calls;

 private:
  void Finish() {
    collector::RunReport report;
    report.run.id = *running_id_;
    if (failures_for) report.failures = failures_for(running_request_);
    scheduler->OnRunFinished(report);
    running_id_.reset();
  }

  const Clock& clock_;
  int64_t last_id_{0};
  std::optional<int64_t> running_id_;
  collector::CollectionRequest running_request_;
  int64_t ends_at_{0};
};

// Advances the fake clock to the requested time (or to the end of the run in progress, when the
// real runner would wake the scheduler) instead of sleeping; stops the loop at `end_at`.
class FakeWaiter final : public Waiter {
 public:
  FakeWaiter(testing::FakeClock& clock, FakeRunner& runner, int64_t end_at)
      : clock_(clock), runner_(runner), end_at_(end_at) {}

  bool WaitUntil(int64_t unix_seconds) override {
    if (++waits > 1'000'000) return false;
    int64_t target = unix_seconds;
    if (auto ends = runner_.ends_at()) target = std::min(target, *ends);
    target = std::max(target, clock_.NowUnixSeconds());
    if (target > end_at_) return false;
    clock_.Set(target);
    runner_.Tick();
    if (on_tick) on_tick(target);
    return true;
  }
  void Wake() override { ++wakes; }

  std::function<void(int64_t)> on_tick{};
  int waits{0};
  int wakes{0};

 private:
  testing::FakeClock& clock_;
  FakeRunner& runner_;
  int64_t end_at_;
};

FetchAttempt Failed(std::string server, std::string day) {
  FetchAttempt a;
  a.server = std::move(server);
  a.day = std::move(day);
  a.outcome = "timeout";
  return a;
}

std::vector<int64_t> TimesOf(const std::vector<FakeRunner::Call>& calls) {
  std::vector<int64_t> times;
  for (const auto& c : calls) times.push_back(c.at);
  return times;
}

class SchedulerTest : public ::testing::Test {
 protected:
  void Simulate(const char* from, const char* until, SchedulerOptions options = {}) {
    clock_.Set(At(from));
    waiter_ = std::make_unique<FakeWaiter>(clock_, runner_, At(until));
    waiter_->on_tick = [this](int64_t now) {
      max_heartbeat_age_ = std::max(max_heartbeat_age_, now - scheduler_->last_heartbeat());
      if (on_tick_) on_tick_(now);
    };
    scheduler_ = std::make_unique<Scheduler>(runner_, clock_, *waiter_, options);
    runner_.scheduler = scheduler_.get();
    first_next_run_ = scheduler_->next_run_at();
    scheduler_->Run();
  }

  testing::FakeClock clock_;
  FakeRunner runner_{clock_};
  std::unique_ptr<FakeWaiter> waiter_;
  std::unique_ptr<Scheduler> scheduler_;
  std::function<void(int64_t)> on_tick_;
  std::optional<int64_t> first_next_run_;
  int64_t max_heartbeat_age_{0};
};

TEST_F(SchedulerTest, RunsOnceADayAtTheConfiguredMinute) {
  runner_.duration = 1200;
  Simulate("2026-11-24T00:00:00Z", "2026-11-29T00:00:00Z");
  EXPECT_EQ(TimesOf(runner_.calls),
            (std::vector<int64_t>{At("2026-11-24T01:30:00Z"), At("2026-11-25T01:30:00Z"),
                                  At("2026-11-26T01:30:00Z"), At("2026-11-27T01:30:00Z"),
                                  At("2026-11-28T01:30:00Z")}));
  for (const auto& call : runner_.calls) {
    EXPECT_TRUE(call.accepted);
    EXPECT_TRUE(call.request.backfill);
    EXPECT_EQ(call.request.origin, "schedule");
    EXPECT_TRUE(call.request.servers.empty());
    EXPECT_TRUE(call.request.days.empty());  // the default: the last two days, plus gaps
  }
  EXPECT_EQ(first_next_run_, At("2026-11-24T01:30:00Z"));
  EXPECT_LE(max_heartbeat_age_, 60);
  EXPECT_GT(waiter_->waits, 5 * 24 * 60 - 10);  // woke at least once a minute
  EXPECT_EQ(scheduler_->next_run_at(), At("2026-11-29T01:30:00Z"));
}

TEST_F(SchedulerTest, NamesTheDaySlotSoTheDailyRunIsStartedOnceAcrossServices) {
  runner_.failures_for = [](const collector::CollectionRequest&) {
    return std::vector<FetchAttempt>{Failed("a", "2026-11-23")};
  };
  runner_.slots_taken.insert("daily:2026-11-24");  // another service took today's run

  Simulate("2026-11-24T00:00:00Z", "2026-11-25T02:00:00Z");

  ASSERT_GE(runner_.calls.size(), 3u);
  EXPECT_EQ(runner_.calls[0].at, At("2026-11-24T01:30:00Z"));
  EXPECT_EQ(runner_.calls[0].request.slot, "daily:2026-11-24");
  EXPECT_FALSE(runner_.calls[0].accepted);  // taken: not tried again that day, no retries
  EXPECT_EQ(runner_.calls[1].at, At("2026-11-25T01:30:00Z"));
  EXPECT_EQ(runner_.calls[1].request.slot, "daily:2026-11-25");
  EXPECT_TRUE(runner_.calls[1].accepted);
  for (size_t i = 2; i < runner_.calls.size(); ++i) {
    EXPECT_EQ(runner_.calls[i].request.origin, "retry");  // its own run's failures
    EXPECT_TRUE(runner_.calls[i].request.slot.empty());
  }
}

TEST_F(SchedulerTest, BackfillFollowsTheOption) {
  Simulate("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z", {.backfill = false});
  ASSERT_EQ(runner_.calls.size(), 1u);
  EXPECT_FALSE(runner_.calls[0].request.backfill);
}

TEST_F(SchedulerTest, CatchesUpAtStartUpWhenTodaysTimeHasPassed) {
  Simulate("2026-11-24T12:00:00Z", "2026-11-26T00:00:00Z");
  EXPECT_EQ(first_next_run_, At("2026-11-24T01:30:00Z"));  // due already
  EXPECT_EQ(TimesOf(runner_.calls),
            (std::vector<int64_t>{At("2026-11-24T12:00:00Z"), At("2026-11-25T01:30:00Z")}));
}

TEST_F(SchedulerTest, RetriesFailuresWithDoublingBackoffUntilTheNextDailyRun) {
  runner_.failures_for = [](const collector::CollectionRequest&) {
    return std::vector<FetchAttempt>{Failed("a", "2026-11-23")};
  };
  Simulate("2026-11-24T00:00:00Z", "2026-11-25T03:00:00Z",
           {.retry_base_seconds = 300, .retry_max_seconds = 1200});
  std::vector<int64_t> expected;
  for (int64_t daily : {At("2026-11-24T01:30:00Z"), At("2026-11-25T01:30:00Z")}) {
    expected.push_back(daily);
    int64_t t = daily;
    for (int64_t delay : {300, 600, 1200}) expected.push_back(t += delay);
    while (t + 1200 < daily + 86400 && t + 1200 <= At("2026-11-25T03:00:00Z")) {
      expected.push_back(t += 1200);
    }
  }
  EXPECT_EQ(TimesOf(runner_.calls), expected);
  // The last retry of the first day comes before the next daily run, which starts the series again.
  ASSERT_GT(runner_.calls.size(), 10u);
  for (const auto& call : runner_.calls) {
    EXPECT_TRUE(call.accepted);
    if (call.request.origin == "schedule") continue;
    EXPECT_EQ(call.request.origin, "retry");
    EXPECT_EQ(call.request.servers, (std::vector<std::string>{"a"}));
    EXPECT_EQ(call.request.days, (std::vector<Day>{*ParseDay("2026-11-23")}));
    EXPECT_FALSE(call.request.backfill);
  }
}

TEST_F(SchedulerTest, RetriesEachBatchAfterTheRunFinishesAndStopsWhenAllSucceed) {
  runner_.duration = 600;
  runner_.failures_for = [](const collector::CollectionRequest& request) {
    if (request.origin != "schedule") return std::vector<FetchAttempt>{};
    return std::vector<FetchAttempt>{Failed("a", "2026-11-22"), Failed("a", "2026-11-23"),
                                     Failed("b", "2026-11-23")};
  };
  Simulate("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z");
  ASSERT_EQ(runner_.calls.size(), 3u);
  EXPECT_EQ(runner_.calls[0].at, At("2026-11-24T01:30:00Z"));
  EXPECT_EQ(runner_.calls[1].at, At("2026-11-24T01:45:00Z"));  // finished 01:40, + 300 s
  EXPECT_EQ(runner_.calls[1].request.servers, (std::vector<std::string>{"a"}));
  EXPECT_EQ(runner_.calls[1].request.days.size(), 2u);
  EXPECT_EQ(runner_.calls[2].at, At("2026-11-24T01:55:00Z"));  // right after the first batch
  EXPECT_EQ(runner_.calls[2].request.servers, (std::vector<std::string>{"b"}));
  EXPECT_EQ(runner_.calls[2].request.days, (std::vector<Day>{*ParseDay("2026-11-23")}));
  EXPECT_EQ(scheduler_->next_run_at(), At("2026-11-25T01:30:00Z"));
}

TEST_F(SchedulerTest, BusyRunnerIsTriedAgainAfterAMinute) {
  runner_.busy_until = At("2026-11-24T01:32:30Z");
  Simulate("2026-11-24T00:00:00Z", "2026-11-26T00:00:00Z");
  ASSERT_EQ(runner_.calls.size(), 5u);
  EXPECT_EQ(TimesOf(runner_.calls),
            (std::vector<int64_t>{At("2026-11-24T01:30:00Z"), At("2026-11-24T01:31:00Z"),
                                  At("2026-11-24T01:32:00Z"), At("2026-11-24T01:33:00Z"),
                                  At("2026-11-25T01:30:00Z")}));
  EXPECT_FALSE(runner_.calls[2].accepted);
  EXPECT_TRUE(runner_.calls[3].accepted);
  EXPECT_TRUE(runner_.calls[4].accepted);
}

TEST_F(SchedulerTest, RetryRefusedForAnotherReasonIsLeftToTheNextDailyRun) {
  runner_.refuse_retries = true;
  runner_.failures_for = [](const collector::CollectionRequest&) {
    return std::vector<FetchAttempt>{Failed("a", "2026-11-23")};
  };
  Simulate("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z");
  EXPECT_EQ(TimesOf(runner_.calls),
            (std::vector<int64_t>{At("2026-11-24T01:30:00Z"), At("2026-11-24T01:35:00Z")}));
  EXPECT_FALSE(runner_.calls[1].accepted);
}

TEST_F(SchedulerTest, ReconfigureMovesTheDailyTime) {
  bool done = false;
  on_tick_ = [&](int64_t now) {
    if (!done && now >= At("2026-11-24T01:00:00Z")) {
      scheduler_->Reconfigure({.collect_minute_of_day = 3 * 60});
      done = true;
    }
  };
  Simulate("2026-11-24T00:00:00Z", "2026-11-26T00:00:00Z");
  EXPECT_EQ(TimesOf(runner_.calls),
            (std::vector<int64_t>{At("2026-11-24T03:00:00Z"), At("2026-11-25T03:00:00Z")}));
}

TEST_F(SchedulerTest, ReconfigureAfterTodaysRunAppliesFromTomorrow) {
  bool done = false;
  on_tick_ = [&](int64_t now) {
    if (!done && now >= At("2026-11-24T02:00:00Z")) {
      scheduler_->Reconfigure({.collect_minute_of_day = 60});
      EXPECT_EQ(scheduler_->next_run_at(), At("2026-11-25T01:00:00Z"));
      done = true;
    }
  };
  Simulate("2026-11-24T00:00:00Z", "2026-11-26T00:00:00Z");
  EXPECT_TRUE(done);
  EXPECT_EQ(TimesOf(runner_.calls),
            (std::vector<int64_t>{At("2026-11-24T01:30:00Z"), At("2026-11-25T01:00:00Z")}));
}

TEST_F(SchedulerTest, LogsWhatItStarts) {
  FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  testing::FakeClock clock(At("2026-11-24T01:29:00Z"));
  FakeRunner runner(clock);
  runner.busy_until = At("2026-11-24T01:31:00Z");
  FakeWaiter waiter(clock, runner, At("2026-11-24T02:00:00Z"));
  Logger log(out, LogFormat::kText, LogLevel::kInfo, &clock);
  Scheduler scheduler(runner, clock, waiter, {}, &log);
  runner.scheduler = &scheduler;
  scheduler.Run();
  std::rewind(out);
  std::string text;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, out)) text.append(buffer, n);
  std::fclose(out);
  EXPECT_EQ(text,
            "2026-11-24T01:30:00Z INFO daily collection waits: the runner is busy "
            "retry_in_seconds=60 reason=\"collection run 7 is in progress\"\n"
            "2026-11-24T01:31:00Z INFO daily collection started run=1 backfill=true\n");
}

TEST(SchedulerStopTest, StopEndsRunPromptly) {
  SystemClock clock;
  FakeRunner runner(clock);
  ConditionWaiter waiter;
  int64_t now = clock.NowUnixSeconds();
  // Today's time is two hours away (or passed, then a catch-up run starts at once).
  int minute = static_cast<int>((now % 86400) / 60 + 120) % 1440;
  Scheduler scheduler(runner, clock, waiter, {.collect_minute_of_day = minute});
  runner.scheduler = &scheduler;
  std::thread loop([&] { scheduler.Run(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto stop_at = std::chrono::steady_clock::now();
  scheduler.Stop();
  loop.join();
  auto took = std::chrono::steady_clock::now() - stop_at;
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_LE(runner.calls.size(), 1u);
  EXPECT_EQ(scheduler.next_run_at(), std::nullopt);
  EXPECT_GE(scheduler.last_heartbeat(), now);
}

TEST(ConditionWaiterTest, WakesEarlyAndStops) {
  ConditionWaiter waiter;
  int64_t now = SystemClock().NowUnixSeconds();
  EXPECT_TRUE(waiter.WaitUntil(now - 1));  // in the past: at once
  waiter.Wake();                           // before the wait: not lost
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(waiter.WaitUntil(now + 3600));
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    waiter.Wake();
  });
  EXPECT_TRUE(waiter.WaitUntil(now + 3600));
  waker.join();
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    waiter.Stop();
  });
  EXPECT_FALSE(waiter.WaitUntil(now + 3600));
  stopper.join();
  EXPECT_FALSE(waiter.WaitUntil(now + 3600));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace fleet::service
