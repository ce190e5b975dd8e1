#pragma once

// The collection runs and fetch attempts of the SQLite store; private to the storage module.
// InsertAttempts expects to run inside a transaction (SqliteStore wraps it in one).

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/types.h"
#include "storage/sqlite_db.h"

namespace fleet::storage {

Result<int64_t> InsertRun(Database& db, const CollectionRun& run);  // returns the new id
// Replaces everything but id and started_at; kNotFound when no run has `run.id`.
[[nodiscard]] Result<void> UpdateRun(Database& db, const CollectionRun& run);
// kNotFound (nothing stored) when an attempt names a run that does not exist.
[[nodiscard]] Result<void> InsertAttempts(Database& db, const std::vector<FetchAttempt>& attempts);
Result<std::vector<CollectionRun>> SelectRuns(Database& db, int limit);  // newest first
Result<CollectionRun> SelectRun(Database& db, int64_t id);
Result<std::vector<FetchAttempt>> SelectAttempts(Database& db, int64_t run_id);

}  // namespace fleet::storage
