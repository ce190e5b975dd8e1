#pragma once

// The batches instances push (instance reports) in the PostgreSQL store; private to the storage
// module. InsertInstanceReport expects to run inside a transaction (PostgresStore wraps it in
// one) and rows prepared by PushRows (sqlite_reports.h: one check for both backends).

#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/types.h"
#include "storage/postgres_db.h"

namespace fleet::storage {

// Stores the batch, then upserts `push_rows`. kNotFound for an unknown server, kAlreadyExists
// when the server already sent this batch id.
[[nodiscard]] Result<void> InsertInstanceReport(PgConnection& db, const InstanceReport& report,
                                                const std::vector<DailyUsage>& push_rows);
// Newest first (received_at, then insertion); `server` "" = every server (else kNotFound for an
// unknown one); `limit` <= 0 = all.
Result<std::vector<InstanceReport>> SelectInstanceReports(PgConnection& db, std::string_view server,
                                                          int limit);

}  // namespace fleet::storage
