#pragma once

// Collecting through the database's work queue (Store::ClaimWork): a run's (server, day) items
// are leased per server to whichever collector claims them, so several processes over one
// database (`serve` replicas, a `collect` on the command line) share a run without fetching a
// server twice while its lease runs, and a crashed collector's servers are claimed again once
// its lease expires.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "collector/engine.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/types.h"
#include "n8n/http.h"
#include "registry/authenticator.h"
#include "storage/store.h"

namespace fleet::collector {

// A name for this collector, unique among the processes sharing a database:
// "<host>:<pid>:<8 random hex>".
std::string NewWorkerId();

struct WorkOptions {
  std::string owner{};  // NewWorkerId()
  int64_t run_id{0};    // only this run's work; 0 = any running run
  int64_t lease_seconds{300};
  int claim_servers{0};  // servers per claim; 0 = twice the engine's concurrency
  EngineOptions engine{};
  // Set (from another thread) to stop claiming and starting servers; those in flight finish,
  // what arrived is stored and the leases of servers not collected are given back.
  const std::atomic<bool>* stop{nullptr};
  // Every (server, day) attempt as its server finishes; on the caller's thread.
  std::function<void(const FetchAttempt&)> on_attempt{};
};

// What one DrainWork() did in this process.
struct WorkReport {
  EngineStats stats{};
  int64_t claims{};       // servers claimed
  int64_t lost_leases{};  // servers finished after another collector had claimed them again
  int64_t days_stored{};
  int64_t days_failed{};
  int64_t days_unrecoverable{};
  std::vector<int64_t> runs{};  // the runs it worked on, ascending
};

// Claims and collects work until nothing is claimable (or `stop`), then gives back any lease it
// still holds. Leases are renewed as servers finish. An error only when the figures could not be
// stored (the leases are given back first, so another collector can take the work).
Result<WorkReport> DrainWork(storage::Store& store, registry::Authenticator& auth,
                             n8n::HttpTransport& transport, const Clock& clock,
                             const WorkOptions& options);

// Adds `more` to `total` (stats, counters and runs).
void Accumulate(WorkReport& total, const WorkReport& more);

// The failed attempts of a run that are worth a retry: the last attempt of each (server, day)
// whose outcome was not ok and not beyond the instance's history, unless a later attempt of that
// (server, day) succeeded (another collector's, say).
Result<std::vector<FetchAttempt>> RunFailures(storage::Store& store, int64_t run_id);

}  // namespace fleet::collector
