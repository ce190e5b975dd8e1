#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "collector/run.h"
#include "core/clock.h"
#include "core/time.h"
#include "service/log.h"
#include "service/runner.h"

namespace fleet::service {

struct SchedulerOptions {
  int collect_minute_of_day{90};  // 01:30 UTC
  int retry_base_seconds{300};
  int retry_max_seconds{7200};
  bool backfill{true};
  int busy_retry_seconds{60};  // when the runner is busy
  int heartbeat_seconds{60};   // the loop wakes at least this often (last_heartbeat)
};

// How the scheduler waits: the real one sleeps on a condition variable; tests advance a fake
// clock instead of sleeping.
class Waiter {
 public:
  virtual ~Waiter() = default;
  // Returns at `unix_seconds` or earlier when woken; false when the waiter was stopped.
  virtual bool WaitUntil(int64_t unix_seconds) = 0;
  // Ends the current (or the next) wait early.
  virtual void Wake() = 0;
};

// Waits on the system clock.
class ConditionWaiter final : public Waiter {
 public:
  bool WaitUntil(int64_t unix_seconds) override;
  void Wake() override;
  void Stop();  // every wait from now on returns false at once

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_{false};
  bool stopped_{false};
};

// Starts the daily collection (every active server, with backfill) at the configured minute
// (UTC), once a day, and at start-up when today's time has already passed; retries the (server,
// day) pairs that failed with exponential backoff until the next daily run; tries again after
// `busy_retry_seconds` while the runner is busy. Time comes only from the Clock and the Waiter.
// Thread-safe: Run() on one thread; the rest from any thread.
class Scheduler {
 public:
  // `log` (optional, not owned) gets a line for every run started or refused.
  Scheduler(CollectionRunner& runner, const Clock& clock, Waiter& waiter, SchedulerOptions options,
            Logger* log = nullptr);

  void Run();   // the loop; returns soon after Stop() (or when the waiter stops)
  void Stop();  // Run() returns; runs already started are the runner's business
  // Every finished run (the runner calls it, on any thread); only the scheduler's own count.
  void OnRunFinished(const collector::RunReport& report);
  void Reconfigure(SchedulerOptions options);  // e.g. on SIGHUP; a new time applies at once

  int64_t last_heartbeat() const { return heartbeat_.load(); }  // unix seconds
  // When the loop will next start something (<= now: at once); nullopt once stopped.
  std::optional<int64_t> next_run_at() const;

 private:
  struct Finished {
    int64_t run_id{};
    std::vector<FetchAttempt> failures{};
  };
  enum class Kind { kNone, kDaily, kRetry };

  int64_t DailyDueLocked(int64_t now) const;
  void StartDaily(int64_t now, int64_t slot, const collector::CollectionRequest& request);
  void StartRetry(int64_t now, collector::CollectionRequest request);
  void AwaitLocked(int64_t run_id);
  void HandleFinishedLocked(const std::vector<FetchAttempt>& failures, int64_t now);
  void AbandonIfGone();
  void Note(LogLevel level, std::string_view message, std::vector<LogField> fields);

  CollectionRunner& runner_;
  const Clock& clock_;
  Waiter& waiter_;
  Logger* log_;
  std::atomic<int64_t> heartbeat_;

  mutable std::mutex mu_;
  SchedulerOptions options_;
  bool stopped_{false};
  std::optional<Day> last_slot_day_;  // the day whose daily run was started
  int64_t daily_not_before_{0};       // the runner was busy: not before this
  // Retries of the failures since the last daily run: a round is one run per batch.
  std::deque<collector::CollectionRequest> retry_batches_;  // this round's, not yet started
  std::vector<FetchAttempt> round_failures_;                // this round's, so far
  int retry_round_{0};
  std::optional<int64_t> retry_due_;
  std::optional<int64_t> awaiting_;  // our run in progress
  std::deque<Finished> unmatched_;   // reports that came before we knew their run id
};

}  // namespace fleet::service
