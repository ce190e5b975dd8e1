#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "collector/run.h"
#include "core/clock.h"
#include "n8n/http.h"
#include "registry/authenticator.h"
#include "registry/registry.h"
#include "service/runner.h"
#include "storage/store.h"

namespace fleet::service {

struct LocalRunnerOptions {
  std::string database_path{};  // for the CollectLock ("<db>.collect.lock")
  collector::EngineOptions engine{};
  // Called on the worker thread as things happen.
  std::function<void(const FetchAttempt&)> on_attempt{};
  std::function<void(const collector::RunReport&)> on_finished{};
  std::function<void(int64_t run_id, const Error&)> on_error{};
  std::function<void(int64_t exchanges)> on_token_exchanges{};
};

// Runs collections in this process, one at a time, on a worker thread, over its own store
// connection (`registry` must be built on a store no other thread uses) and its own transport.
class LocalRunner final : public CollectionRunner {
 public:
  LocalRunner(registry::Registry& registry, n8n::HttpTransport& transport, const Clock& clock,
              LocalRunnerOptions options);
  ~LocalRunner() override;  // Shutdown(0s) if still running

  Result<int64_t> Start(const collector::CollectionRequest& request) override;
  std::optional<int64_t> Current() const override;

  // Stops taking runs; a run in progress starts no more servers, and the requests in flight get
  // `grace` to finish before they are aborted. What arrived is stored and the run is marked
  // interrupted. Returns once the worker has finished.
  void Shutdown(std::chrono::milliseconds grace);
  // Blocks until no run is in progress (tests, one-shot use).
  void WaitIdle();

 private:
  void Work(collector::PreparedRun prepared, collector::CollectLock lock);

  registry::Registry& registry_;
  n8n::HttpTransport& transport_;
  const Clock& clock_;
  LocalRunnerOptions options_;
  registry::Authenticator auth_;  // worker thread only; keeps exchanged tokens between runs
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  std::optional<int64_t> current_;
  bool closed_{false};
  std::atomic<bool> stop_{false};
  std::thread worker_;
};

}  // namespace fleet::service
