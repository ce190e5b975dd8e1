#pragma once

// The work queue of the SQLite store (Store::EnqueueWork and the rest); private to the storage
// module. A unit row per (run, server) carries the lease, an item row per (run, server, day) how
// that day ended. Every function that runs more than one statement expects to run inside a
// transaction (SqliteStore wraps it in one): for LeaseWork that is what keeps two connections
// from leasing the same unit, since the store's transactions begin with BEGIN IMMEDIATE.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/types.h"
#include "storage/sqlite_db.h"
#include "storage/store.h"

namespace fleet::storage {

// Queues items (and their units) for a running run; queued ones are left as they are.
[[nodiscard]] Result<void> InsertWork(Database& db, int64_t run_id,
                                      const std::vector<WorkItem>& items);
Result<std::vector<WorkClaim>> LeaseWork(Database& db, const ClaimRequest& request);
Result<int64_t> RenewLeases(Database& db, std::string_view owner, int64_t now,
                            int64_t lease_seconds);
[[nodiscard]] Result<void> FinishUnit(Database& db, std::string_view owner, int64_t run_id,
                                      std::string_view server,
                                      const std::vector<WorkDayResult>& days);
Result<int64_t> ReleaseLeases(Database& db, std::string_view owner);
Result<int64_t> CancelUnits(Database& db, int64_t run_id, int64_t now);
Result<WorkProgress> SelectWorkProgress(Database& db, int64_t run_id, int64_t now);
Result<std::optional<CollectionRun>> CloseRunWhenDone(Database& db, int64_t run_id, int64_t now);
Result<bool> InsertSlot(Database& db, std::string_view slot, int64_t run_id, int64_t now);

}  // namespace fleet::storage
