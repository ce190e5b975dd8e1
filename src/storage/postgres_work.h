#pragma once

// The work queue of the PostgreSQL store (Store::EnqueueWork and the rest); private to the
// storage module. A unit row per (run, server) carries the lease, an item row per (run, server,
// day) how that day ended. Several collectors, each with its own connection, share the queue:
// claims skip the units other claimers hold locked (FOR UPDATE SKIP LOCKED), and the functions
// that read then write lock what they read. Those that run more than one statement expect to
// run inside a transaction (PostgresStore wraps them in one).

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/types.h"
#include "storage/postgres_db.h"
#include "storage/store.h"

namespace fleet::storage {

// Queues items (and their units) for a running run; queued ones are left as they are.
[[nodiscard]] Result<void> InsertWork(PgConnection& db, int64_t run_id,
                                      const std::vector<WorkItem>& items);
// One statement: concurrent claimers never lease the same unit.
Result<std::vector<WorkClaim>> LeaseWork(PgConnection& db, const ClaimRequest& request);
Result<int64_t> RenewLeases(PgConnection& db, std::string_view owner, int64_t now,
                            int64_t lease_seconds);
[[nodiscard]] Result<void> FinishUnit(PgConnection& db, std::string_view owner, int64_t run_id,
                                      std::string_view server,
                                      const std::vector<WorkDayResult>& days);
Result<int64_t> ReleaseLeases(PgConnection& db, std::string_view owner);
Result<int64_t> CancelUnits(PgConnection& db, int64_t run_id, int64_t now);
Result<WorkProgress> SelectWorkProgress(PgConnection& db, int64_t run_id, int64_t now);
// The closing UPDATE decides: of concurrent closers, exactly one gets the run.
Result<std::optional<CollectionRun>> CloseRunWhenDone(PgConnection& db, int64_t run_id,
                                                      int64_t now);
Result<bool> InsertSlot(PgConnection& db, std::string_view slot, int64_t run_id, int64_t now);

}  // namespace fleet::storage
