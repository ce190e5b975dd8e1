#pragma once

// The batches instances push (instance reports) in the SQLite store; private to the storage
// module. InsertInstanceReport expects to run inside a transaction (SqliteStore wraps it in one).

#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/types.h"
#include "storage/sqlite_db.h"

namespace fleet::storage {

// The rows a report may store: copies of `rows` with source "push". kInvalidArgument (naming the
// batch) for a row of another server, a malformed row (see ValidateUsage) or an empty batch id.
Result<std::vector<DailyUsage>> PushRows(const InstanceReport& report,
                                         const std::vector<DailyUsage>& rows);
// Stores the batch, then upserts `push_rows` (from PushRows). kNotFound for an unknown server,
// kAlreadyExists when the server already sent this batch id.
[[nodiscard]] Result<void> InsertInstanceReport(Database& db, const InstanceReport& report,
                                                const std::vector<DailyUsage>& push_rows);
// Newest first (received_at, then insertion); `server` "" = every server (else kNotFound for an
// unknown one); `limit` <= 0 = all.
Result<std::vector<InstanceReport>> SelectInstanceReports(Database& db, std::string_view server,
                                                          int limit);

}  // namespace fleet::storage
