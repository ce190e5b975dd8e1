#pragma once

// The usage rows of the SQLite store; private to the storage module. UpsertUsage expects to run
// inside a transaction (SqliteStore wraps it in one). Reads consider source 'pull' (the Insights
// figures) unless they say otherwise; rows pushed by instances are stored beside them, never
// summed with them.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/types.h"
#include "storage/sqlite_db.h"
#include "storage/store.h"

namespace fleet::storage {

// Checks every row (day, source, 0 <= failed <= total) before anything is written:
// kInvalidArgument naming the server and day of the first bad row.
[[nodiscard]] Result<void> ValidateUsage(const std::vector<DailyUsage>& rows);
// Inserts or replaces each row with one reused statement; kNotFound for an unknown server.
[[nodiscard]] Result<void> UpsertUsage(Database& db, const std::vector<DailyUsage>& rows);
// Rows of filter.source ("" = both); kInvalidArgument for another source or a malformed day.
Result<std::vector<DailyUsage>> SelectDailyUsage(Database& db, const UsageFilter& filter);
Result<std::map<std::string, std::set<std::string>>> SelectCollectedDays(Database& db,
                                                                         std::string_view from_day);
[[nodiscard]] Result<void> UpsertUnrecoverable(Database& db, const UnrecoverableDay& day);
Result<std::vector<UnrecoverableDay>> SelectUnrecoverable(Database& db, std::string_view from_day);
Result<std::vector<MonthlyRow>> SelectUsageTotals(Database& db, std::string_view from_day,
                                                  std::string_view to_day, GroupBy group_by);
// Registered servers with a pull row: the newest one's collected_at.
Result<std::map<std::string, int64_t>> SelectLastCollectedAt(Database& db);

}  // namespace fleet::storage
