#include "storage/postgres_usage.h"

#include <optional>

#include "storage/postgres_rows.h"

namespace fleet::storage {
namespace {

constexpr std::string_view kUsageColumns =
    "server_name, customer, day, total, failed, failure_rate, time_saved_minutes, "
    "average_run_time_ms, raw_json, collected_at, run_id, n8n_version, source";

// The batch arrives as one array per column. `input` keeps the last row of each (server, day,
// source) (ON CONFLICT may not touch a row twice in one statement, and a later row wins); the
// server's id and current customer come from `servers`, so a row of an unknown server inserts
// nothing and the counts differ. Replacing sets every column: a re-collected day holds the new
// figures, never the sum. Storing a pulled day clears its unrecoverable mark.
constexpr std::string_view kUpsertUsage = R"sql(
WITH input AS (
  SELECT DISTINCT ON (server_name, day, source) *
  FROM unnest($1::TEXT[], $2::TEXT[], $3::BIGINT[], $4::BIGINT[], $5::DOUBLE PRECISION[],
              $6::DOUBLE PRECISION[], $7::DOUBLE PRECISION[], $8::TEXT[], $9::BIGINT[],
              $10::BIGINT[], $11::TEXT[], $12::TEXT[])
    WITH ORDINALITY AS i (server_name, day, total, failed, failure_rate, time_saved_minutes,
                          average_run_time_ms, raw_json, collected_at, run_id, n8n_version,
                          source, n)
  ORDER BY server_name, day, source, n DESC),
upserted AS (
  INSERT INTO usage_daily (server_id, server_name, customer, day, total, failed, failure_rate,
                           time_saved_minutes, average_run_time_ms, raw_json, collected_at,
                           run_id, n8n_version, source)
  SELECT s.id, s.name, s.customer, i.day, i.total, i.failed, i.failure_rate,
         i.time_saved_minutes, i.average_run_time_ms, i.raw_json, i.collected_at, i.run_id,
         i.n8n_version, i.source
  FROM input i JOIN servers s ON s.name = i.server_name
  ON CONFLICT (server_name, day, source) DO UPDATE SET server_id = excluded.server_id,
    customer = excluded.customer, total = excluded.total, failed = excluded.failed,
    failure_rate = excluded.failure_rate, time_saved_minutes = excluded.time_saved_minutes,
    average_run_time_ms = excluded.average_run_time_ms, raw_json = excluded.raw_json,
    collected_at = excluded.collected_at, run_id = excluded.run_id,
    n8n_version = excluded.n8n_version
  RETURNING 1),
cleared AS (
  DELETE FROM usage_unrecoverable u USING input i
  WHERE i.source = 'pull' AND u.server_name = i.server_name AND u.day = i.day)
SELECT (SELECT COUNT(*) FROM upserted), (SELECT COUNT(*) FROM input))sql";

// The first row (in batch order) whose server is not registered.
constexpr std::string_view kFirstUnknownServer = R"sql(
SELECT i.server_name, i.day
FROM unnest($1::TEXT[], $2::TEXT[]) WITH ORDINALITY AS i (server_name, day, n)
WHERE NOT EXISTS (SELECT 1 FROM servers s WHERE s.name = i.server_name)
ORDER BY i.n LIMIT 1)sql";

// Per group: the pulled sums (rows in range) beside the expected (server, day) count, which
// counts each active server's days in [max(from, tracking_since), to] (an empty tracking_since
// sorts first, so it counts from `from`), and the pushed figures, grouped by the customer of the
// push row, with the push rows whose (server, day) has a pull row of another total. Groups
// present on one side only still appear. The pulled rows are summed per (customer, server) first
// and then per customer: two hash aggregations instead of the sort COUNT(DISTINCT) needs. Pull
// rows are read from usage_daily_by_day, push rows from usage_daily_push_by_day (both partial
// and covering), each push row's pull row through the primary key.
constexpr std::string_view kTotalsByCustomer = R"sql(
WITH
per_server AS (
  SELECT customer, server_name, SUM(total) AS total, SUM(failed) AS failed, COUNT(*) AS days
  FROM usage_daily WHERE source = 'pull' AND day >= $1::TEXT AND day <= $2::TEXT
  GROUP BY customer, server_name),
collected AS (
  SELECT customer AS grp, COUNT(*) AS servers, SUM(total) AS total, SUM(failed) AS failed,
         SUM(days) AS days
  FROM per_server GROUP BY customer),
pushed AS (
  SELECT p.customer AS grp, SUM(p.total) AS total, COUNT(*) AS days,
         COUNT(*) FILTER (WHERE q.total <> p.total) AS disagreements
  FROM usage_daily p LEFT JOIN usage_daily q
    ON q.source = 'pull' AND q.day = p.day AND q.server_name = p.server_name
  WHERE p.source = 'push' AND p.day >= $1::TEXT AND p.day <= $2::TEXT
  GROUP BY p.customer),
expected AS (
  SELECT customer AS grp,
         SUM(GREATEST(0, ($2::TEXT::DATE - GREATEST($1::TEXT, tracking_since)::DATE) + 1)) AS days
  FROM servers WHERE active = 1 GROUP BY customer),
groups AS (SELECT grp FROM collected UNION SELECT grp FROM expected UNION SELECT grp FROM pushed)
SELECT g.grp, g.grp, COALESCE(c.servers, 0), COALESCE(c.total, 0), COALESCE(c.failed, 0),
       COALESCE(c.days, 0), COALESCE(e.days, 0), COALESCE(p.total, 0), COALESCE(p.days, 0),
       COALESCE(p.disagreements, 0)
FROM groups g LEFT JOIN collected c ON c.grp = g.grp LEFT JOIN expected e ON e.grp = g.grp
  LEFT JOIN pushed p ON p.grp = g.grp
ORDER BY g.grp)sql";

// As above per server. The customer is the server's current one, or for a removed server the one
// its latest pull row in range was collected under (else that of its latest push row): COALESCE
// evaluates those lookups (one primary-key seek each) only for removed servers.
constexpr std::string_view kTotalsByServer = R"sql(
WITH
collected AS (
  SELECT server_name AS grp, SUM(total) AS total, SUM(failed) AS failed, COUNT(*) AS days
  FROM usage_daily WHERE source = 'pull' AND day >= $1::TEXT AND day <= $2::TEXT
  GROUP BY server_name),
pushed AS (
  SELECT p.server_name AS grp, SUM(p.total) AS total, COUNT(*) AS days,
         COUNT(*) FILTER (WHERE q.total <> p.total) AS disagreements
  FROM usage_daily p LEFT JOIN usage_daily q
    ON q.source = 'pull' AND q.day = p.day AND q.server_name = p.server_name
  WHERE p.source = 'push' AND p.day >= $1::TEXT AND p.day <= $2::TEXT
  GROUP BY p.server_name),
expected AS (
  SELECT name AS grp,
         GREATEST(0, ($2::TEXT::DATE - GREATEST($1::TEXT, tracking_since)::DATE) + 1) AS days
  FROM servers WHERE active = 1),
groups AS (SELECT grp FROM collected UNION SELECT grp FROM expected UNION SELECT grp FROM pushed)
SELECT g.grp,
       COALESCE(s.customer,
                (SELECT u.customer FROM usage_daily u
                 WHERE u.server_name = g.grp AND u.source = 'pull' AND u.day >= $1::TEXT
                   AND u.day <= $2::TEXT ORDER BY u.day DESC LIMIT 1),
                (SELECT u.customer FROM usage_daily u
                 WHERE u.server_name = g.grp AND u.source = 'push' AND u.day >= $1::TEXT
                   AND u.day <= $2::TEXT ORDER BY u.day DESC LIMIT 1),
                ''),
       CASE WHEN c.grp IS NULL THEN 0 ELSE 1 END, COALESCE(c.total, 0), COALESCE(c.failed, 0),
       COALESCE(c.days, 0), COALESCE(e.days, 0), COALESCE(p.total, 0), COALESCE(p.days, 0),
       COALESCE(p.disagreements, 0)
FROM groups g LEFT JOIN collected c ON c.grp = g.grp LEFT JOIN expected e ON e.grp = g.grp
  LEFT JOIN pushed p ON p.grp = g.grp LEFT JOIN servers s ON s.name = g.grp
ORDER BY g.grp)sql";

// Per registered server, the newest pull row's collected_at: one backward seek per server in
// usage_daily_last_collected.
constexpr std::string_view kLastCollectedAt = R"sql(
SELECT name, at FROM (
  SELECT s.name AS name,
         (SELECT MAX(u.collected_at) FROM usage_daily u
          WHERE u.server_name = s.name AND u.source = 'pull') AS at
  FROM servers s) AS last
WHERE at IS NOT NULL)sql";

DailyUsage ReadUsage(const PgRow& row) {
  DailyUsage usage;
  usage.server = row.Text(0);
  usage.customer = row.Text(1);
  usage.day = row.Text(2);
  usage.total = row.Int(3);
  usage.failed = row.Int(4);
  usage.failure_rate = row.Double(5);
  usage.time_saved_minutes = row.Double(6);
  usage.average_run_time_ms = row.Double(7);
  usage.raw_json = row.Text(8);
  usage.collected_at = row.Int(9);
  usage.run_id = row.Int(10);
  usage.n8n_version = row.Text(11);
  usage.source = row.Text(12);
  return usage;
}

}  // namespace

Result<void> UpsertUsage(PgConnection& db, const std::vector<DailyUsage>& rows) {
  if (rows.empty()) return {};
  const std::string what = "store " + std::to_string(rows.size()) + " usage rows";
  PgArray servers, days, totals, failed, failure_rates, time_saved, run_times, raw_json,
      collected_at, run_ids, versions, sources;
  for (const DailyUsage& row : rows) {
    servers.Text(row.server);
    days.Text(row.day);
    totals.Int(row.total);
    failed.Int(row.failed);
    failure_rates.Double(row.failure_rate);
    time_saved.Double(row.time_saved_minutes);
    run_times.Double(row.average_run_time_ms);
    raw_json.Text(row.raw_json);
    collected_at.Int(row.collected_at);
    run_ids.OptionalInt(row.run_id != 0 ? std::optional<int64_t>(row.run_id) : std::nullopt);
    versions.Text(row.n8n_version);
    sources.Text(row.source);
  }
  auto counts = db.Exec(kUpsertUsage,
                        PgParams()
                            .Array(servers)
                            .Array(days)
                            .Array(totals)
                            .Array(failed)
                            .Array(failure_rates)
                            .Array(time_saved)
                            .Array(run_times)
                            .Array(raw_json)
                            .Array(collected_at)
                            .Array(run_ids)
                            .Array(versions)
                            .Array(sources),
                        what);
  if (!counts) return tl::unexpected(counts.error());
  if ((*counts)[0].Int(0) == (*counts)[0].Int(1)) return {};
  // Some rows name no server: the caller's transaction rolls the rest back. Name the first.
  auto unknown = db.Exec(kFirstUnknownServer, PgParams().Array(servers).Array(days), what);
  if (!unknown) return tl::unexpected(unknown.error());
  if (unknown->empty()) {  // removed meanwhile and back again: a race, not a missing server
    return MakeError(ErrorCode::kIo, what + ": some rows were not stored; try again");
  }
  return tl::unexpected(WithContext(
      NoServer((*unknown)[0].Text(0)),
      "usage for day " + (*unknown)[0].Text(1) + " not stored (nor the rest of its batch)"));
  return {};
}

Result<std::vector<DailyUsage>> SelectDailyUsage(PgConnection& db, const UsageFilter& filter) {
  if (auto ok = RequireDay(filter.from_day, "from day", true); !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok = RequireDay(filter.to_day, "to day", true); !ok) return tl::unexpected(ok.error());
  if (filter.source != "pull" && filter.source != "push" && !filter.source.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "usage source '" + filter.source + "' is not pull, push or empty (both)");
  }
  std::string sql = "SELECT " + std::string(kUsageColumns) + " FROM usage_daily WHERE TRUE";
  PgParams params;
  int count = 0;
  const auto where = [&](std::string_view condition, std::string_view value) {
    sql += " AND " + std::string(condition) + " $" + std::to_string(++count);
    params.Text(value);
  };
  if (!filter.source.empty()) where("source =", filter.source);
  if (filter.server.has_value()) where("server_name =", *filter.server);
  if (filter.customer.has_value()) where("customer =", *filter.customer);
  if (!filter.from_day.empty()) where("day >=", filter.from_day);
  if (!filter.to_day.empty()) where("day <=", filter.to_day);
  sql += " ORDER BY day, server_name, source";
  auto rows = db.Exec(sql, params, "list usage");
  if (!rows) return tl::unexpected(rows.error());
  return rows->All<DailyUsage>(ReadUsage);
}

Result<std::map<std::string, std::set<std::string>>> SelectCollectedDays(
    PgConnection& db, std::string_view from_day) {
  if (auto ok = RequireDay(from_day, "from day", true); !ok) return tl::unexpected(ok.error());
  auto rows =
      db.Exec("SELECT server_name, day FROM usage_daily WHERE source = 'pull' AND day >= $1",
              PgParams().Text(from_day), "read the collected days");
  if (!rows) return tl::unexpected(rows.error());
  std::map<std::string, std::set<std::string>> days;
  for (size_t i = 0; i < rows->size(); ++i) {
    const PgRow row = (*rows)[i];
    days[row.Text(0)].insert(row.Text(1));
  }
  return days;
}

Result<void> UpsertUnrecoverable(PgConnection& db, const UnrecoverableDay& day) {
  if (auto ok = RequireDay(day.day, "unrecoverable day", false); !ok) return ok;
  auto done = db.Exec(
      "INSERT INTO usage_unrecoverable (server_name, day, reason, recorded_at) "
      "SELECT name, $2::TEXT, $3::TEXT, $4::BIGINT FROM servers WHERE name = $1 "
      "ON CONFLICT (server_name, day) DO UPDATE SET reason = excluded.reason, "
      "recorded_at = excluded.recorded_at",
      PgParams().Text(day.server).Text(day.day).Text(day.reason).Int(day.recorded_at),
      "mark day " + day.day + " of server '" + day.server + "' unrecoverable");
  if (!done) return tl::unexpected(done.error());
  if (done->affected_rows() == 0) return tl::unexpected(NoServer(day.server));
  return {};
}

Result<std::vector<UnrecoverableDay>> SelectUnrecoverable(PgConnection& db,
                                                          std::string_view from_day) {
  if (auto ok = RequireDay(from_day, "from day", true); !ok) return tl::unexpected(ok.error());
  auto rows = db.Exec(
      "SELECT server_name, day, reason, recorded_at FROM usage_unrecoverable WHERE day >= $1 "
      "ORDER BY day, server_name",
      PgParams().Text(from_day), "list unrecoverable days");
  if (!rows) return tl::unexpected(rows.error());
  return rows->All<UnrecoverableDay>([](const PgRow& row) {
    return UnrecoverableDay{row.Text(0), row.Text(1), row.Text(2), row.Int(3)};
  });
}

Result<std::vector<MonthlyRow>> SelectUsageTotals(PgConnection& db, std::string_view from_day,
                                                  std::string_view to_day, GroupBy group_by) {
  if (auto ok = RequireDay(from_day, "from day", false); !ok) return tl::unexpected(ok.error());
  if (auto ok = RequireDay(to_day, "to day", false); !ok) return tl::unexpected(ok.error());
  if (from_day > to_day) {
    return MakeError(ErrorCode::kInvalidArgument, "the range " + std::string(from_day) + " .. " +
                                                      std::string(to_day) +
                                                      " ends before it starts");
  }
  auto rows = db.Exec(group_by == GroupBy::kCustomer ? kTotalsByCustomer : kTotalsByServer,
                      PgParams().Text(from_day).Text(to_day),
                      "sum usage from " + std::string(from_day) + " to " + std::string(to_day));
  if (!rows) return tl::unexpected(rows.error());
  return rows->All<MonthlyRow>([](const PgRow& row) {
    return MonthlyRow{row.Text(0), row.Text(1), row.Int(2), row.Int(3), row.Int(4),
                      row.Int(5),  row.Int(6),  row.Int(7), row.Int(8), row.Int(9)};
  });
}

Result<std::map<std::string, int64_t>> SelectLastCollectedAt(PgConnection& db) {
  auto rows = db.Exec(kLastCollectedAt, PgParams(), "read when each server was last collected");
  if (!rows) return tl::unexpected(rows.error());
  std::map<std::string, int64_t> last;
  for (size_t i = 0; i < rows->size(); ++i) {
    const PgRow row = (*rows)[i];
    last[row.Text(0)] = row.Int(1);
  }
  return last;
}

}  // namespace fleet::storage
