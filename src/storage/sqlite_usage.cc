#include "storage/sqlite_usage.h"

#include <optional>

#include "core/time.h"
#include "storage/sqlite_rows.h"

namespace fleet::storage {
namespace {

constexpr std::string_view kUsageColumns =
    "server_name, customer, day, total, failed, failure_rate, time_saved_minutes, "
    "average_run_time_ms, raw_json, collected_at, run_id, n8n_version, source";

// The server's id and current customer come from `servers`: a row for an unknown name selects
// nothing, inserts nothing, and the caller sees zero changes. Replacing sets every column, so a
// re-collected day holds the new figures, never the sum.
constexpr std::string_view kUpsertUsage =
    "INSERT INTO usage_daily (server_id, server_name, customer, day, total, failed, failure_rate, "
    "time_saved_minutes, average_run_time_ms, raw_json, collected_at, run_id, n8n_version, source) "
    "SELECT id, name, customer, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 "
    "FROM servers WHERE name = $1 "
    "ON CONFLICT (server_name, day, source) DO UPDATE SET server_id = excluded.server_id, "
    "customer = excluded.customer, total = excluded.total, failed = excluded.failed, "
    "failure_rate = excluded.failure_rate, time_saved_minutes = excluded.time_saved_minutes, "
    "average_run_time_ms = excluded.average_run_time_ms, raw_json = excluded.raw_json, "
    "collected_at = excluded.collected_at, run_id = excluded.run_id, "
    "n8n_version = excluded.n8n_version";

// Per group: the pulled sums (rows in range) beside the expected (server, day) count, which
// counts each active server's days in [max(from, tracking_since), to] (an empty tracking_since
// counts from `from`), and the pushed figures, grouped by the customer of the push row, with
// the push rows whose (server, day) has a pull row of another total. Groups present on one side
// only still appear (a removed server's rows, an active server without rows, a server that only
// pushes). Only covering indexes are read, never the rows: usage_daily_by_day for pull rows,
// usage_daily_push_by_day for push rows, each of which looks its pull row up in
// usage_daily_by_day (named: the planner would otherwise take the primary key and read rows).
constexpr std::string_view kTotalsByCustomer = R"sql(
WITH
collected AS (
  SELECT customer AS grp, COUNT(DISTINCT server_name) AS servers, SUM(total) AS total,
         SUM(failed) AS failed, COUNT(*) AS days
  FROM usage_daily WHERE source = 'pull' AND day >= $1 AND day <= $2
  GROUP BY customer),
pushed AS (
  SELECT p.customer AS grp, SUM(p.total) AS total, COUNT(*) AS days,
         SUM(CASE WHEN q.total <> p.total THEN 1 ELSE 0 END) AS disagreements
  FROM usage_daily p INDEXED BY usage_daily_push_by_day
    LEFT JOIN usage_daily q INDEXED BY usage_daily_by_day
    ON q.source = 'pull' AND q.day = p.day AND q.server_name = p.server_name
  WHERE p.source = 'push' AND p.day >= $1 AND p.day <= $2
  GROUP BY p.customer),
expected AS (
  SELECT customer AS grp,
         SUM(MAX(0, CAST(julianday($2) - julianday(MAX($1, tracking_since)) AS INTEGER) + 1))
           AS days
  FROM servers WHERE active = 1 GROUP BY customer),
groups AS (SELECT grp FROM collected UNION SELECT grp FROM expected UNION SELECT grp FROM pushed)
SELECT g.grp, g.grp, COALESCE(c.servers, 0), COALESCE(c.total, 0), COALESCE(c.failed, 0),
       COALESCE(c.days, 0), COALESCE(e.days, 0), COALESCE(p.total, 0), COALESCE(p.days, 0),
       COALESCE(p.disagreements, 0)
FROM groups g LEFT JOIN collected c ON c.grp = g.grp LEFT JOIN expected e ON e.grp = g.grp
  LEFT JOIN pushed p ON p.grp = g.grp
ORDER BY g.grp)sql";

// As above per server. The customer is the server's current one, or for a removed server the
// one its latest pull row in range was collected under (else that of its latest push row):
// SQLite gives a bare column the value of the row MAX() picked.
constexpr std::string_view kTotalsByServer = R"sql(
WITH
collected AS (
  SELECT server_name AS grp, customer, MAX(day) AS last_day, SUM(total) AS total,
         SUM(failed) AS failed, COUNT(*) AS days
  FROM usage_daily WHERE source = 'pull' AND day >= $1 AND day <= $2
  GROUP BY server_name),
pushed AS (
  SELECT p.server_name AS grp, p.customer, MAX(p.day) AS last_day, SUM(p.total) AS total,
         COUNT(*) AS days, SUM(CASE WHEN q.total <> p.total THEN 1 ELSE 0 END) AS disagreements
  FROM usage_daily p INDEXED BY usage_daily_push_by_day
    LEFT JOIN usage_daily q INDEXED BY usage_daily_by_day
    ON q.source = 'pull' AND q.day = p.day AND q.server_name = p.server_name
  WHERE p.source = 'push' AND p.day >= $1 AND p.day <= $2
  GROUP BY p.server_name),
expected AS (
  SELECT name AS grp,
         MAX(0, CAST(julianday($2) - julianday(MAX($1, tracking_since)) AS INTEGER) + 1) AS days
  FROM servers WHERE active = 1),
groups AS (SELECT grp FROM collected UNION SELECT grp FROM expected UNION SELECT grp FROM pushed)
SELECT g.grp, COALESCE(s.customer, c.customer, p.customer, ''),
       CASE WHEN c.grp IS NULL THEN 0 ELSE 1 END, COALESCE(c.total, 0), COALESCE(c.failed, 0),
       COALESCE(c.days, 0), COALESCE(e.days, 0), COALESCE(p.total, 0), COALESCE(p.days, 0),
       COALESCE(p.disagreements, 0)
FROM groups g LEFT JOIN collected c ON c.grp = g.grp LEFT JOIN expected e ON e.grp = g.grp
  LEFT JOIN pushed p ON p.grp = g.grp LEFT JOIN servers s ON s.name = g.grp
ORDER BY g.grp)sql";

// Per registered server, the newest pull row's collected_at: one seek per server in
// usage_daily_last_collected.
constexpr std::string_view kLastCollectedAt = R"sql(
WITH last AS MATERIALIZED (
  SELECT s.name AS name,
         (SELECT MAX(u.collected_at) FROM usage_daily u
          WHERE u.server_name = s.name AND u.source = 'pull') AS at
  FROM servers s)
SELECT name, at FROM last WHERE at IS NOT NULL)sql";

Error BadUsage(const DailyUsage& row, const std::string& problem) {
  return Error{ErrorCode::kInvalidArgument, "usage of server '" + row.server + "' for day '" +
                                                row.day + "': " + problem +
                                                "; nothing of this batch was stored"};
}

// kInvalidArgument unless `day` is empty (when `allow_empty`) or a YYYY-MM-DD day.
Result<void> CheckDay(std::string_view day, std::string_view what, bool allow_empty) {
  if ((allow_empty && day.empty()) || ParseDay(day).has_value()) return {};
  return MakeError(ErrorCode::kInvalidArgument,
                   std::string(what) + " '" + std::string(day) + "' is not a day; use YYYY-MM-DD");
}

DailyUsage ReadUsage(const Statement& row) {
  DailyUsage usage;
  usage.server = row.ColumnText(0);
  usage.customer = row.ColumnText(1);
  usage.day = row.ColumnText(2);
  usage.total = row.ColumnInt(3);
  usage.failed = row.ColumnInt(4);
  usage.failure_rate = row.ColumnDouble(5);
  usage.time_saved_minutes = row.ColumnDouble(6);
  usage.average_run_time_ms = row.ColumnDouble(7);
  usage.raw_json = row.ColumnText(8);
  usage.collected_at = row.ColumnInt(9);
  usage.run_id = row.ColumnInt(10);
  usage.n8n_version = row.ColumnText(11);
  usage.source = row.ColumnText(12);
  return usage;
}

// Steps `stmt` to the end, appending read(row) for each row.
template <class T, class Read>
Result<std::vector<T>> ReadAll(Statement& stmt, Read read) {
  std::vector<T> out;
  while (true) {
    auto row = stmt.Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return out;
    out.push_back(read(stmt));
  }
}

}  // namespace

Result<void> ValidateUsage(const std::vector<DailyUsage>& rows) {
  for (const DailyUsage& row : rows) {
    if (!ParseDay(row.day).has_value()) {
      return tl::unexpected(BadUsage(row, "the day is not YYYY-MM-DD"));
    }
    if (row.source != "pull" && row.source != "push") {
      return tl::unexpected(BadUsage(row, "source '" + row.source + "' is not pull or push"));
    }
    if (row.total < 0 || row.failed < 0 || row.failed > row.total) {
      return tl::unexpected(BadUsage(row, "failed (" + std::to_string(row.failed) +
                                              ") must be between 0 and total (" +
                                              std::to_string(row.total) + ")"));
    }
  }
  return {};
}

Result<void> UpsertUsage(Database& db, const std::vector<DailyUsage>& rows) {
  const std::string what = "store " + std::to_string(rows.size()) + " usage rows";
  auto upsert = db.Prepare(kUpsertUsage, what);
  if (!upsert) return tl::unexpected(upsert.error());
  auto clear =
      db.Prepare("DELETE FROM usage_unrecoverable WHERE server_name = $1 AND day = $2", what);
  if (!clear) return tl::unexpected(clear.error());
  for (const DailyUsage& row : rows) {
    upsert->Reset()
        .BindText(1, row.server)
        .BindText(2, row.day)
        .BindInt(3, row.total)
        .BindInt(4, row.failed)
        .BindDouble(5, row.failure_rate)
        .BindDouble(6, row.time_saved_minutes)
        .BindDouble(7, row.average_run_time_ms)
        .BindText(8, row.raw_json)
        .BindInt(9, row.collected_at)
        .BindOptionalInt(10, row.run_id != 0 ? std::optional<int64_t>(row.run_id) : std::nullopt)
        .BindText(11, row.n8n_version)
        .BindText(12, row.source);
    if (auto done = upsert->Run(); !done) return done;
    if (db.Changes() == 0) {
      return tl::unexpected(WithContext(NoServer(row.server), "usage for day " + row.day +
                                                                  " not stored (nor the rest of "
                                                                  "its batch)"));
    }
    // A pushed day says nothing about what Insights can still answer: its mark stays.
    if (row.source != "pull") continue;
    if (auto done = clear->Reset().BindText(1, row.server).BindText(2, row.day).Run(); !done) {
      return done;
    }
  }
  return {};
}

Result<std::vector<DailyUsage>> SelectDailyUsage(Database& db, const UsageFilter& filter) {
  if (auto ok = CheckDay(filter.from_day, "from day", true); !ok) return tl::unexpected(ok.error());
  if (auto ok = CheckDay(filter.to_day, "to day", true); !ok) return tl::unexpected(ok.error());
  if (filter.source != "pull" && filter.source != "push" && !filter.source.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "usage source '" + filter.source + "' is not pull, push or empty (both)");
  }
  std::string sql = "SELECT " + std::string(kUsageColumns) + " FROM usage_daily WHERE 1 = 1";
  if (!filter.source.empty()) sql += " AND source = $5";
  if (filter.server.has_value()) sql += " AND server_name = $1";
  if (filter.customer.has_value()) sql += " AND customer = $2";
  if (!filter.from_day.empty()) sql += " AND day >= $3";
  if (!filter.to_day.empty()) sql += " AND day <= $4";
  sql += " ORDER BY day, server_name, source";
  auto stmt = db.Prepare(sql, "list usage");
  if (!stmt) return tl::unexpected(stmt.error());
  // Only parameters present in the SQL are bound ("$N" resolves by name).
  if (filter.server.has_value()) stmt->BindText(1, *filter.server);
  if (filter.customer.has_value()) stmt->BindText(2, *filter.customer);
  if (!filter.from_day.empty()) stmt->BindText(3, filter.from_day);
  if (!filter.to_day.empty()) stmt->BindText(4, filter.to_day);
  if (!filter.source.empty()) stmt->BindText(5, filter.source);
  return ReadAll<DailyUsage>(*stmt, ReadUsage);
}

Result<std::map<std::string, std::set<std::string>>> SelectCollectedDays(
    Database& db, std::string_view from_day) {
  if (auto ok = CheckDay(from_day, "from day", true); !ok) return tl::unexpected(ok.error());
  auto stmt =
      db.Prepare("SELECT server_name, day FROM usage_daily WHERE source = 'pull' AND day >= $1",
                 "read the collected days");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->BindText(1, from_day);
  std::map<std::string, std::set<std::string>> days;
  while (true) {
    auto row = stmt->Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return days;
    days[stmt->ColumnText(0)].insert(stmt->ColumnText(1));
  }
}

Result<void> UpsertUnrecoverable(Database& db, const UnrecoverableDay& day) {
  if (auto ok = CheckDay(day.day, "unrecoverable day", false); !ok) return ok;
  auto stmt = db.Prepare(
      "INSERT INTO usage_unrecoverable (server_name, day, reason, recorded_at) "
      "SELECT name, $2, $3, $4 FROM servers WHERE name = $1 "
      "ON CONFLICT (server_name, day) DO UPDATE SET reason = excluded.reason, "
      "recorded_at = excluded.recorded_at",
      "mark day " + day.day + " of server '" + day.server + "' unrecoverable");
  if (!stmt) return tl::unexpected(stmt.error());
  auto done = stmt->BindText(1, day.server)
                  .BindText(2, day.day)
                  .BindText(3, day.reason)
                  .BindInt(4, day.recorded_at)
                  .Run();
  if (!done) return done;
  if (db.Changes() == 0) return tl::unexpected(NoServer(day.server));
  return {};
}

Result<std::vector<UnrecoverableDay>> SelectUnrecoverable(Database& db, std::string_view from_day) {
  if (auto ok = CheckDay(from_day, "from day", true); !ok) return tl::unexpected(ok.error());
  auto stmt = db.Prepare(
      "SELECT server_name, day, reason, recorded_at FROM usage_unrecoverable WHERE day >= $1 "
      "ORDER BY day, server_name",
      "list unrecoverable days");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->BindText(1, from_day);
  return ReadAll<UnrecoverableDay>(*stmt, [](const Statement& row) {
    return UnrecoverableDay{row.ColumnText(0), row.ColumnText(1), row.ColumnText(2),
                            row.ColumnInt(3)};
  });
}

Result<std::vector<MonthlyRow>> SelectUsageTotals(Database& db, std::string_view from_day,
                                                  std::string_view to_day, GroupBy group_by) {
  if (auto ok = CheckDay(from_day, "from day", false); !ok) return tl::unexpected(ok.error());
  if (auto ok = CheckDay(to_day, "to day", false); !ok) return tl::unexpected(ok.error());
  if (from_day > to_day) {
    return MakeError(ErrorCode::kInvalidArgument, "the range " + std::string(from_day) + " .. " +
                                                      std::string(to_day) +
                                                      " ends before it starts");
  }
  auto stmt = db.Prepare(group_by == GroupBy::kCustomer ? kTotalsByCustomer : kTotalsByServer,
                         "sum usage from " + std::string(from_day) + " to " + std::string(to_day));
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->BindText(1, from_day).BindText(2, to_day);
  return ReadAll<MonthlyRow>(*stmt, [](const Statement& row) {
    return MonthlyRow{row.ColumnText(0), row.ColumnText(1), row.ColumnInt(2), row.ColumnInt(3),
                      row.ColumnInt(4),  row.ColumnInt(5),  row.ColumnInt(6), row.ColumnInt(7),
                      row.ColumnInt(8),  row.ColumnInt(9)};
  });
}

Result<std::map<std::string, int64_t>> SelectLastCollectedAt(Database& db) {
  auto stmt = db.Prepare(kLastCollectedAt, "read when each server was last collected");
  if (!stmt) return tl::unexpected(stmt.error());
  std::map<std::string, int64_t> last;
  while (true) {
    auto row = stmt->Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return last;
    last[stmt->ColumnText(0)] = stmt->ColumnInt(1);
  }
}

}  // namespace fleet::storage
