#pragma once

// How the PostgreSQL store maps rows; private to the storage module. Column lists, error
// messages and comparisons are the SQLite store's (sqlite_rows.h), so both say the same.

#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "core/types.h"
#include "storage/postgres_db.h"
#include "storage/sqlite_rows.h"

namespace fleet::storage {

// Rows selected with kServerColumns / kKeyColumns.
Server ServerFromRow(const PgRow& row);
ApiKey KeyFromRow(const PgRow& row);
// $1 = name and $2..$10 = the mutable columns, in kServerColumns order.
PgParams ServerParams(const Server& server);

// The id of the server named `name`; kNotFound (NoServer) when there is none.
Result<int64_t> PgServerId(PgConnection& db, std::string_view name);

// kInvalidArgument unless `day` is empty (when `allow_empty`) or a YYYY-MM-DD day.
[[nodiscard]] Result<void> RequireDay(std::string_view day, std::string_view what, bool allow_empty);

}  // namespace fleet::storage
