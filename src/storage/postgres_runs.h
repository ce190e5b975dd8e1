#pragma once

// The collection runs and fetch attempts of the PostgreSQL store; private to the storage module.
// InsertAttempts expects to run inside a transaction (PostgresStore wraps it in one).

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/types.h"
#include "storage/postgres_db.h"

namespace fleet::storage {

Result<int64_t> InsertRun(PgConnection& db, const CollectionRun& run);  // returns the new id
// Replaces everything but id and started_at; kNotFound when no run has `run.id`.
[[nodiscard]] Result<void> UpdateRun(PgConnection& db, const CollectionRun& run);
// kNotFound (nothing stored) when an attempt names a run that does not exist.
[[nodiscard]] Result<void> InsertAttempts(PgConnection& db,
                                          const std::vector<FetchAttempt>& attempts);
Result<std::vector<CollectionRun>> SelectRuns(PgConnection& db, int limit);  // newest first
Result<CollectionRun> SelectRun(PgConnection& db, int64_t id);
Result<std::vector<FetchAttempt>> SelectAttempts(PgConnection& db, int64_t run_id);

// Shared with the work queue (postgres_work.cc).
inline constexpr std::string_view kRunColumns =
    "id, started_at, finished_at, status, description, servers_attempted, servers_succeeded, "
    "servers_failed, days_stored";
CollectionRun RunFromRow(const PgRow& row);  // a row of kRunColumns
Error NoRun(int64_t id);

}  // namespace fleet::storage
