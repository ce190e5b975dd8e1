#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "collector/run.h"
#include "collector/work.h"
#include "core/clock.h"
#include "n8n/http.h"
#include "registry/authenticator.h"
#include "registry/registry.h"
#include "service/runner.h"
#include "storage/store.h"

namespace fleet::service {

struct LocalRunnerOptions {
  // The database's location: a SQLite file (runs take its CollectLock, one at a time) or a
  // postgresql:// URL (several services share the work through leases).
  std::string database_path{};
  // Opens another connection to the same database, for Start() (the worker keeps its own).
  std::function<Result<std::unique_ptr<storage::Store>>()> open_store{};
  collector::EngineOptions engine{};
  std::string owner{};  // this collector's name in the work queue; "" = NewWorkerId()
  int64_t lease_seconds{300};
  int claim_servers{0};  // 0 = twice the engine's concurrency
  // How often the worker looks for work that others queued or left behind.
  std::chrono::milliseconds poll{std::chrono::seconds(2)};
  // Called on the worker thread as things happen.
  std::function<void(const FetchAttempt&)> on_attempt{};
  std::function<void(const collector::RunReport&)> on_finished{};
  std::function<void(int64_t run_id, const Error&)> on_error{};
  std::function<void(int64_t exchanges)> on_token_exchanges{};
  std::function<void(const collector::WorkReport&)> on_work{};  // after each pass that claimed
};

// Collects in this process, on one worker thread, through the database's work queue: it claims
// and collects whatever is queued (the runs it started, runs other services started, servers a
// crashed service left behind once their lease expired) and closes runs whose work is done. The
// worker uses `registry`'s store (which no other thread may use); Start() uses a connection of
// its own.
class LocalRunner final : public CollectionRunner {
 public:
  LocalRunner(registry::Registry& registry, n8n::HttpTransport& transport, const Clock& clock,
              LocalRunnerOptions options);
  ~LocalRunner() override;  // Shutdown(0s) if still running

  // Plans the request, creates its run and queues its work; the worker starts on it at once.
  Result<int64_t> Start(const collector::CollectionRequest& request) override;
  // The run this runner started that is still running, if any.
  std::optional<int64_t> Current() const override;

  // Stops claiming; servers in flight get `grace` to finish before their requests are aborted.
  // What arrived is stored and unfinished leases are given back. On SQLite the run this runner
  // started is marked interrupted; on PostgreSQL it is left to the other services. Returns once
  // the worker has finished.
  void Shutdown(std::chrono::milliseconds grace);
  // Blocks until the run this runner started (if any) has closed (tests, one-shot use).
  void WaitIdle();

 private:
  void Loop();
  void CloseFinishedRuns();
  void Report(const CollectionRun& run);
  void InterruptOwnRun();

  registry::Registry& registry_;
  n8n::HttpTransport& transport_;
  const Clock& clock_;
  LocalRunnerOptions options_;
  registry::Authenticator auth_;  // worker thread only; keeps exchanged tokens between runs
  std::string owner_;
  mutable std::mutex mu_;
  std::condition_variable cv_;                     // wakes the worker
  std::condition_variable idle_cv_;                // the own run closed, or the worker ended
  std::unique_ptr<storage::Store> control_store_;  // Start()'s connection, under mu_
  std::optional<int64_t> current_;                 // the run Start() created, until it closes
  std::optional<collector::CollectLock> lock_;     // held while current_ runs (SQLite)
  bool wake_{false};
  bool closed_{false};
  bool worker_done_{false};
  std::atomic<bool> stop_{false};
  std::thread worker_;
};

}  // namespace fleet::service
