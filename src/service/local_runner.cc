#include "service/local_runner.h"

namespace fleet::service {

LocalRunner::LocalRunner(registry::Registry& registry, n8n::HttpTransport& transport,
                         const Clock& clock, LocalRunnerOptions options)
    : registry_(registry),
      transport_(transport),
      clock_(clock),
      options_(std::move(options)),
      auth_(registry, clock),
      owner_(options_.owner.empty() ? collector::NewWorkerId() : options_.owner) {
  worker_ = std::thread([this] { Loop(); });
}

LocalRunner::~LocalRunner() { Shutdown(std::chrono::milliseconds(0)); }

Result<int64_t> LocalRunner::Start(const collector::CollectionRequest& request) {
  std::unique_lock lock(mu_);
  if (closed_) {
    return MakeError(ErrorCode::kFailedPrecondition, "the service is shutting down");
  }
  if (current_) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "collection run " + std::to_string(*current_) +
                         " is in progress; try again when it has finished");
  }
  // Validate before taking the lock, so a bad request says what is wrong with it.
  int64_t now = clock_.NowUnixSeconds();
  if (auto ok = collector::ValidateRequest(request, DayOf(now)); !ok) {
    return tl::unexpected(ok.error());
  }
  if (!control_store_) {
    if (!options_.open_store) {
      return MakeError(ErrorCode::kFailedPrecondition, "the runner has no database connection");
    }
    auto store = options_.open_store();
    if (!store) return tl::unexpected(store.error());
    control_store_ = std::move(*store);
  }
  auto file_lock = collector::CollectLock::Acquire(options_.database_path);
  if (!file_lock) return tl::unexpected(file_lock.error());
  auto prepared = collector::PrepareRun(
      *control_store_, request, now,
      {.exclusive = file_lock->held(), .lease_seconds = options_.lease_seconds});
  if (!prepared) {
    if (prepared.error().code == ErrorCode::kIo) control_store_.reset();  // reconnect next time
    return tl::unexpected(prepared.error());
  }
  current_ = prepared->run.id;
  lock_.emplace(std::move(*file_lock));
  wake_ = true;
  cv_.notify_all();
  return prepared->run.id;
}

std::optional<int64_t> LocalRunner::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

void LocalRunner::Loop() {
  storage::Store& store = registry_.store();
  collector::WorkOptions work;
  work.owner = owner_;
  work.lease_seconds = options_.lease_seconds;
  work.claim_servers = options_.claim_servers;
  work.engine = options_.engine;
  work.stop = &stop_;
  work.on_attempt = options_.on_attempt;
  while (!stop_.load()) {
    int exchanges_before = auth_.exchanges();
    auto drained = collector::DrainWork(store, auth_, transport_, clock_, work);
    if (options_.on_token_exchanges && auth_.exchanges() != exchanges_before) {
      options_.on_token_exchanges(auth_.exchanges() - exchanges_before);
    }
    if (!drained && options_.on_error) options_.on_error(0, drained.error());
    if (drained && drained->claims > 0 && options_.on_work) options_.on_work(*drained);
    CloseFinishedRuns();
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, options_.poll, [this] { return wake_ || stop_.load(); });
    wake_ = false;
  }
  InterruptOwnRun();
  std::lock_guard lock(mu_);
  worker_done_ = true;
  idle_cv_.notify_all();
}

// Closes every running run whose work is done (whoever did it: a service that finished the last
// server and crashed before closing leaves that to the others), and reports the own run once it
// is no longer running.
void LocalRunner::CloseFinishedRuns() {
  storage::Store& store = registry_.store();
  int64_t now = clock_.NowUnixSeconds();
  if (auto runs = store.ListRuns(100)) {
    for (const auto& run : *runs) {
      if (run.status != RunStatus::kRunning) continue;
      auto closed = store.CloseRunIfDone(run.id, now);
      if (!closed && options_.on_error) options_.on_error(run.id, closed.error());
    }
  }
  std::optional<int64_t> own;
  {
    std::lock_guard lock(mu_);
    own = current_;
  }
  if (!own) return;
  auto run = store.GetRun(*own);
  if (!run) {
    if (run.error().code != ErrorCode::kNotFound) return;  // try again next time
    run = CollectionRun{.id = *own, .status = RunStatus::kFailed};
  }
  if (run->status == RunStatus::kRunning) return;
  Report(*run);
}

void LocalRunner::Report(const CollectionRun& run) {
  collector::RunReport report;
  report.run = run;
  report.days_stored = run.days_stored;
  if (auto failures = collector::RunFailures(registry_.store(), run.id)) {
    report.failures = std::move(*failures);
  }
  // Reported before it stops being current (the scheduler relies on that order).
  if (options_.on_finished) options_.on_finished(report);
  std::lock_guard lock(mu_);
  current_.reset();
  lock_.reset();
  idle_cv_.notify_all();
}

// Shutting down: on SQLite nobody else will finish the own run, so it ends interrupted (what
// arrived is stored; the next run collects the rest). On PostgreSQL other services go on with it.
void LocalRunner::InterruptOwnRun() {
  std::optional<int64_t> own;
  bool exclusive = false;
  {
    std::lock_guard lock(mu_);
    own = current_;
    exclusive = lock_ && lock_->held();
  }
  if (!own || !exclusive) return;
  storage::Store& store = registry_.store();
  int64_t now = clock_.NowUnixSeconds();
  (void)store.CancelWork(*own, now);
  (void)store.CloseRunIfDone(*own, now);
  auto run = store.GetRun(*own);
  if (!run) return;
  if (run->status == RunStatus::kRunning) {
    run->status = RunStatus::kInterrupted;
    run->finished_at = now;
    (void)store.FinishRun(*run);
  }
  Report(*run);
}

void LocalRunner::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return !current_.has_value() || worker_done_; });
}

void LocalRunner::Shutdown(std::chrono::milliseconds grace) {
  std::unique_lock lock(mu_);
  closed_ = true;
  stop_.store(true);
  cv_.notify_all();
  if (!idle_cv_.wait_for(lock, grace, [this] { return worker_done_; })) {
    transport_.Abort();  // requests still in flight after the grace period are abandoned
    idle_cv_.wait(lock, [this] { return worker_done_; });
  }
  lock.unlock();
  if (worker_.joinable()) worker_.join();
}

}  // namespace fleet::service
