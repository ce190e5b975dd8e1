#include "service/local_runner.h"

namespace fleet::service {

LocalRunner::LocalRunner(registry::Registry& registry, n8n::HttpTransport& transport,
                         const Clock& clock, LocalRunnerOptions options)
    : registry_(registry),
      transport_(transport),
      clock_(clock),
      options_(std::move(options)),
      auth_(registry, clock) {}

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
  if (worker_.joinable()) worker_.join();  // the previous run's thread, finished
  // Validate before taking the lock, so a bad request says what is wrong with it.
  int64_t now = clock_.NowUnixSeconds();
  if (auto ok = collector::ValidateRequest(request, DayOf(now)); !ok) {
    return tl::unexpected(ok.error());
  }
  auto file_lock = collector::CollectLock::Acquire(options_.database_path);
  if (!file_lock) return tl::unexpected(file_lock.error());
  auto prepared = collector::PrepareRun(registry_.store(), request, now);
  if (!prepared) return tl::unexpected(prepared.error());
  int64_t id = prepared->run.id;
  current_ = id;
  worker_ = std::thread([this, p = std::move(*prepared), l = std::move(*file_lock)]() mutable {
    Work(std::move(p), std::move(l));
  });
  return id;
}

std::optional<int64_t> LocalRunner::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

void LocalRunner::Work(collector::PreparedRun prepared, collector::CollectLock lock) {
  int64_t id = prepared.run.id;
  int exchanges_before = auth_.exchanges();
  collector::RunOptions options;
  options.engine = options_.engine;
  options.stop = &stop_;
  options.on_attempt = options_.on_attempt;
  auto report = collector::ExecuteRun(std::move(prepared), registry_.store(), auth_, transport_,
                                      clock_, options);
  if (options_.on_token_exchanges)
    options_.on_token_exchanges(auth_.exchanges() - exchanges_before);
  if (!report) {
    if (options_.on_error) options_.on_error(id, report.error());
  } else if (options_.on_finished) {
    options_.on_finished(*report);
  }
  {
    // Released before we say we are idle, so the next Start() can take it.
    collector::CollectLock released = std::move(lock);
  }
  std::lock_guard guard(mu_);
  current_.reset();
  idle_cv_.notify_all();
}

void LocalRunner::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return !current_.has_value(); });
}

void LocalRunner::Shutdown(std::chrono::milliseconds grace) {
  std::unique_lock lock(mu_);
  closed_ = true;
  stop_.store(true);
  if (current_ && !idle_cv_.wait_for(lock, grace, [this] { return !current_.has_value(); })) {
    transport_.Abort();  // requests still in flight after the grace period are abandoned
    idle_cv_.wait(lock, [this] { return !current_.has_value(); });
  }
  lock.unlock();
  if (worker_.joinable()) worker_.join();
}

}  // namespace fleet::service
