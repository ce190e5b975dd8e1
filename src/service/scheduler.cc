#include "service/scheduler.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "service/schedule_policy.h"

namespace fleet::service {
namespace {

constexpr size_t kMaxUnmatched = 8;

}  // namespace

bool ConditionWaiter::WaitUntil(int64_t unix_seconds) {
  std::unique_lock lock(mu_);
  auto deadline = std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds));
  cv_.wait_until(lock, deadline, [this] { return woken_ || stopped_; });
  woken_ = false;
  return !stopped_;
}

void ConditionWaiter::Wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

void ConditionWaiter::Stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  cv_.notify_all();
}

Scheduler::Scheduler(CollectionRunner& runner, const Clock& clock, Waiter& waiter,
                     SchedulerOptions options, Logger* log)
    : runner_(runner),
      clock_(clock),
      waiter_(waiter),
      log_(log),
      heartbeat_(clock.NowUnixSeconds()),
      options_(options) {}

void Scheduler::Run() {
  while (true) {
    int64_t now = clock_.NowUnixSeconds();
    heartbeat_.store(now);
    AbandonIfGone();
    Kind kind = Kind::kNone;
    int64_t slot = 0;
    int64_t wake = 0;
    collector::CollectionRequest request;
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
      slot = NextDailyRun(now, options_.collect_minute_of_day, last_slot_day_);
      int64_t daily_due = std::max(slot, daily_not_before_);
      if (retry_due_ && retry_batches_.empty()) retry_due_.reset();
      if (daily_due <= now) {
        kind = Kind::kDaily;
        request.backfill = options_.backfill;
        request.origin = "schedule";
        request.slot = "daily:" + FormatDay(DayOf(slot));
      } else if (retry_due_ && *retry_due_ <= now) {
        kind = Kind::kRetry;
        request = std::move(retry_batches_.front());
        retry_batches_.pop_front();
        retry_due_.reset();
      }
      wake = std::min(daily_due, now + std::max(options_.heartbeat_seconds, 1));
      if (retry_due_) wake = std::min(wake, *retry_due_);
    }
    if (kind == Kind::kDaily) {
      StartDaily(now, slot, request);
    } else if (kind == Kind::kRetry) {
      StartRetry(now, std::move(request));
    } else if (!waiter_.WaitUntil(wake)) {
      return;
    }
  }
}

void Scheduler::StartDaily(int64_t now, int64_t slot, const collector::CollectionRequest& request) {
  auto id = runner_.Start(request);
  std::lock_guard lock(mu_);
  if (id) {
    last_slot_day_ = DayOf(slot);
    daily_not_before_ = 0;
    retry_batches_.clear();  // the daily run covers them again
    round_failures_.clear();
    retry_round_ = 0;
    retry_due_.reset();
    Note(LogLevel::kInfo, "daily collection started",
         {{"run", *id}, {"backfill", request.backfill}});
    AwaitLocked(*id);
  } else if (id.error().code == ErrorCode::kAlreadyExists) {
    // Another service on this database started today's run: it retries its failures too.
    last_slot_day_ = DayOf(slot);
    daily_not_before_ = 0;
    Note(LogLevel::kInfo, "daily collection already started by another service",
         {{"reason", id.error().message}});
  } else if (id.error().code == ErrorCode::kFailedPrecondition) {
    daily_not_before_ = now + options_.busy_retry_seconds;
    Note(LogLevel::kInfo, "daily collection waits: the runner is busy",
         {{"retry_in_seconds", options_.busy_retry_seconds}, {"reason", id.error().message}});
  } else {
    daily_not_before_ = now + options_.retry_base_seconds;
    Note(LogLevel::kError, "daily collection could not start",
         {{"retry_in_seconds", options_.retry_base_seconds}, {"error", id.error().message}});
  }
}

void Scheduler::StartRetry(int64_t now, collector::CollectionRequest request) {
  auto id = runner_.Start(request);
  std::lock_guard lock(mu_);
  if (id) {
    Note(LogLevel::kInfo, "retry started",
         {{"run", *id},
          {"round", retry_round_},
          {"servers", request.servers.size()},
          {"days", request.days.size()}});
    AwaitLocked(*id);
  } else if (id.error().code == ErrorCode::kFailedPrecondition) {
    retry_batches_.push_front(std::move(request));
    retry_due_ = now + options_.busy_retry_seconds;
  } else {
    Note(LogLevel::kWarn, "retry could not start; left to the next daily run",
         {{"servers", request.servers.size()}, {"error", id.error().message}});
    HandleFinishedLocked({}, now);
  }
}

void Scheduler::AwaitLocked(int64_t run_id) {
  awaiting_ = run_id;
  auto it = std::find_if(unmatched_.begin(), unmatched_.end(),
                         [&](const Finished& f) { return f.run_id == run_id; });
  if (it == unmatched_.end()) return;
  std::vector<FetchAttempt> failures = std::move(it->failures);
  unmatched_.erase(it);
  HandleFinishedLocked(failures, clock_.NowUnixSeconds());
}

void Scheduler::HandleFinishedLocked(const std::vector<FetchAttempt>& failures, int64_t now) {
  awaiting_.reset();
  for (const auto& attempt : failures) {
    if (IsRetryable(attempt)) round_failures_.push_back(attempt);
  }
  if (!retry_batches_.empty()) {  // the round goes on with its next batch
    retry_due_ = now;
    return;
  }
  retry_due_.reset();
  if (round_failures_.empty()) return;
  std::vector<collector::CollectionRequest> batches = PlanRetries(round_failures_);
  size_t pairs = round_failures_.size();
  round_failures_.clear();
  ++retry_round_;
  int64_t due = now + RetryDelaySeconds(retry_round_, options_.retry_base_seconds,
                                        options_.retry_max_seconds);
  int64_t next_daily = NextDailyRun(now, options_.collect_minute_of_day, last_slot_day_);
  if (due >= next_daily) {
    Note(LogLevel::kInfo, "failed collections left to the next daily run",
         {{"pairs", pairs}, {"next_run", FormatTimestamp(next_daily)}});
    return;
  }
  retry_batches_.assign(std::make_move_iterator(batches.begin()),
                        std::make_move_iterator(batches.end()));
  retry_due_ = due;
  Note(LogLevel::kInfo, "failed collections will be retried",
       {{"pairs", pairs}, {"round", retry_round_}, {"at", FormatTimestamp(due)}});
}

void Scheduler::AbandonIfGone() {
  std::optional<int64_t> awaited;
  {
    std::lock_guard lock(mu_);
    awaited = awaiting_;
  }
  if (!awaited) return;
  // The runner reports a run before it stops calling it current, so a run that is no longer
  // current and still awaited ended without a report (it could not store its figures).
  if (runner_.Current() == awaited) return;
  std::lock_guard lock(mu_);
  if (awaiting_ != awaited) return;
  Note(LogLevel::kWarn, "run ended without a report; its failures are left to the next daily run",
       {{"run", *awaited}});
  HandleFinishedLocked({}, clock_.NowUnixSeconds());
}

void Scheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  waiter_.Wake();
}

void Scheduler::OnRunFinished(const collector::RunReport& report) {
  {
    std::lock_guard lock(mu_);
    if (awaiting_ && *awaiting_ == report.run.id) {
      HandleFinishedLocked(report.failures, clock_.NowUnixSeconds());
    } else {
      unmatched_.push_back({report.run.id, report.failures});
      if (unmatched_.size() > kMaxUnmatched) unmatched_.pop_front();
    }
  }
  waiter_.Wake();
}

void Scheduler::Reconfigure(SchedulerOptions options) {
  {
    std::lock_guard lock(mu_);
    options_ = options;
  }
  waiter_.Wake();
}

std::optional<int64_t> Scheduler::next_run_at() const {
  std::lock_guard lock(mu_);
  if (stopped_) return std::nullopt;
  int64_t now = clock_.NowUnixSeconds();
  int64_t due = std::max(NextDailyRun(now, options_.collect_minute_of_day, last_slot_day_),
                         daily_not_before_);
  if (retry_due_ && !retry_batches_.empty()) due = std::min(due, *retry_due_);
  return due;
}

void Scheduler::Note(LogLevel level, std::string_view message, std::vector<LogField> fields) {
  if (log_) log_->Log(level, message, fields);
}

}  // namespace fleet::service
