#pragma once

// How the PostgreSQL store maps rows; private to the storage module. Column lists, error
// messages and comparisons are the SQLite store's (sqlite_rows.h), so both say the same.

#include <cstdint>
#include <string_view>
#include <vector>

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

// The mutable columns of several servers for kServerArrays: $1 = names .. $10, one array each.
PgParams ServerArrays(const std::vector<const Server*>& servers);
// Those arrays back as rows u (name, url, ..., tracking_since, n), n counting from 1.
inline constexpr std::string_view kServerArrays =
    "unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[], $6::TEXT[], $7::TEXT[], "
    "$8::TEXT[], $9::BIGINT[], $10::TEXT[]) WITH ORDINALITY AS u (name, url, customer, "
    "description, skip_tls_verify, auth, subject_email, subject_role, active, tracking_since, n)";

// The id of the server named `name`; kNotFound (NoServer) when there is none.
Result<int64_t> PgServerId(PgConnection& db, std::string_view name);

// kInvalidArgument unless `day` is empty (when `allow_empty`) or a YYYY-MM-DD day.
[[nodiscard]] Result<void> RequireDay(std::string_view day, std::string_view what,
                                      bool allow_empty);

}  // namespace fleet::storage
