#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "collector/engine.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/time.h"
#include "core/types.h"
#include "n8n/http.h"
#include "registry/authenticator.h"
#include "storage/store.h"

namespace fleet::collector {

// What to collect. `collect` on the command line and POST /api/v1/collect (and the scheduler)
// all describe a run with this.
struct CollectionRequest {
  std::vector<std::string> servers{};  // names (must exist); empty = every active server
  std::string customer{};              // with no `servers`: only this customer's servers
  // Explicit days; empty = the default: the last two finished days (yesterday is not final until
  // the instance compacted it), plus, with `backfill`, every missing day since tracking began.
  std::vector<Day> days{};
  bool backfill{false};
  std::string origin{"cli"};  // who asked: "cli", "schedule", "api"; goes into the description
  // A decision to take once across processes (e.g. "daily:2026-11-24"): the run is created only
  // if nobody took the slot before (else kAlreadyExists). "" = none.
  std::string slot{};
};

// Checks a request against `today` (explicit days must have begun; at most ten years).
[[nodiscard]] Result<void> ValidateRequest(const CollectionRequest& request, Day today);

// The servers a request covers: its names (kNotFound for a missing one), else every active
// server, optionally of one customer.
Result<std::vector<Server>> SelectServers(storage::Store& store, const CollectionRequest& request);

// The (server, days) jobs of a request on `today`; servers with nothing due are left out.
Result<std::vector<ServerJob>> PlanJobs(storage::Store& store, const std::vector<Server>& servers,
                                        const CollectionRequest& request, Day today);

// Every (server, day) from each active server's tracking start (or `from`, the later) to `to`
// that has no pulled row, ordered by server then day. Days marked unrecoverable (beyond the
// instance's history) are left out unless `with_unrecoverable`, which returns them with a reason.
struct Gap {
  std::string server{};
  std::string customer{};
  Day day{};
  std::string unrecoverable{};  // the reason, for a day that can no longer be collected
};
Result<std::vector<Gap>> FindGaps(storage::Store& store, Day from, Day to,
                                  bool with_unrecoverable = false);

// A planned run whose row exists (status running): its id can be handed out before it executes.
struct PreparedRun {
  CollectionRun run{};
  std::vector<ServerJob> jobs{};
  int64_t server_days{};
};

struct PrepareOptions {
  // The caller holds the database's CollectLock (SQLite): nobody else is collecting, so runs
  // still marked running were interrupted. Without it (PostgreSQL, where several collectors
  // share the work), a running run is in progress (kFailedPrecondition) while any of its servers
  // is leased or it began less than `lease_seconds` ago; older ones are interrupted.
  bool exclusive{true};
  int64_t lease_seconds{300};
};

// Plans the request, creates its run row and queues its (server, day) items (Store::EnqueueWork)
// in one transaction, after dealing with runs still marked running (see PrepareOptions).
Result<PreparedRun> PrepareRun(storage::Store& store, const CollectionRequest& request, int64_t now,
                               const PrepareOptions& prepare = {});

struct RunReport {
  CollectionRun run{};  // as finished
  EngineStats stats{};
  int64_t days_stored{};
  int64_t days_failed{};
  int64_t days_unrecoverable{};
  std::vector<FetchAttempt> failures{};  // attempts whose outcome was not ok (for retries)
};

struct RunOptions {
  EngineOptions engine{};
  std::string owner{};  // this collector's name in the work queue; "" = NewWorkerId()
  int64_t lease_seconds{300};
  int claim_servers{0};  // servers per claim; 0 = twice the engine's concurrency
  // While other collectors hold some of the run's servers: how often to look again.
  std::chrono::milliseconds poll{std::chrono::seconds(1)};
  // Set (from another thread) to stop starting servers: servers in flight finish, what arrived
  // is stored and the run is marked interrupted.
  const std::atomic<bool>* stop{nullptr};
  // Every (server, day) attempt as its server finishes (e.g. for metrics); on the run's thread.
  std::function<void(const FetchAttempt&)> on_attempt{};
};

// Executes a prepared run through the work queue: claims its servers (other collectors may claim
// some too), fetches, stores in batches, and returns once the run is closed (succeeded, partial,
// failed; interrupted when `stop` was set: its unclaimed servers are cancelled). The counters of
// the report are this process's; the run's are everyone's. An error only when the figures could
// not be stored.
Result<RunReport> ExecuteRun(PreparedRun prepared, storage::Store& store,
                             registry::Authenticator& auth, n8n::HttpTransport& transport,
                             const Clock& clock, const RunOptions& options);

// One collection at a time per SQLite database: a second `collect` (or service) would fetch
// twice. An advisory lock (flock) on "<database>.<purpose>.lock" ("collect" per run, "serve" for
// a service's lifetime: one scheduler per database); released when the object goes. On
// PostgreSQL (a postgresql:// location) collectors share the work through leases instead and
// the lock is not held (held() is false).
class CollectLock {
 public:
  // kFailedPrecondition (naming the lock file and `purpose`) when another process holds it.
  static Result<CollectLock> Acquire(const std::string& database_path,
                                     const std::string& purpose = "collect");
  CollectLock(CollectLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  CollectLock& operator=(CollectLock&& other) noexcept;
  CollectLock(const CollectLock&) = delete;
  CollectLock& operator=(const CollectLock&) = delete;
  ~CollectLock();

  bool held() const { return fd_ >= 0; }

 private:
  explicit CollectLock(int fd) : fd_(fd) {}
  int fd_{-1};
};

}  // namespace fleet::collector
