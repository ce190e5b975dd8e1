#pragma once

// The usage rows of the PostgreSQL store; private to the storage module. UpsertUsage expects to
// run inside a transaction (PostgresStore wraps it in one) and rows checked by ValidateUsage
// (sqlite_usage.h: one validation for both backends). Reads consider source 'pull' (the
// Insights figures) unless they say otherwise; rows pushed by instances are stored beside them,
// never summed with them.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/types.h"
#include "storage/postgres_db.h"
#include "storage/store.h"

namespace fleet::storage {

// Inserts or replaces the rows with one statement (a later row of the batch for the same
// (server, day, source) wins); kNotFound for an unknown server.
[[nodiscard]] Result<void> UpsertUsage(PgConnection& db, const std::vector<DailyUsage>& rows);
// Rows of filter.source ("" = both); kInvalidArgument for another source or a malformed day.
Result<std::vector<DailyUsage>> SelectDailyUsage(PgConnection& db, const UsageFilter& filter);
Result<std::map<std::string, std::set<std::string>>> SelectCollectedDays(PgConnection& db,
                                                                         std::string_view from_day);
[[nodiscard]] Result<void> UpsertUnrecoverable(PgConnection& db, const UnrecoverableDay& day);
Result<std::vector<UnrecoverableDay>> SelectUnrecoverable(PgConnection& db,
                                                          std::string_view from_day);
Result<std::vector<MonthlyRow>> SelectUsageTotals(PgConnection& db, std::string_view from_day,
                                                  std::string_view to_day, GroupBy group_by);
// Registered servers with a pull row: the newest one's collected_at.
Result<std::map<std::string, int64_t>> SelectLastCollectedAt(PgConnection& db);

}  // namespace fleet::storage
