#include "storage/postgres_work.h"

#include <algorithm>
#include <string>

#include "core/time.h"
#include "storage/postgres_rows.h"
#include "storage/postgres_runs.h"

#include "storage/store_rules.h"

namespace fleet::storage {
namespace {

// Leases up to $3 units nobody holds a live lease on, with pending days, in running runs ($2 = 0:
// any run), oldest run first, then by server name. The inner SELECT locks the units it picks and
// skips those another claimer has locked, so two claimers never lease the same unit; a unit
// leased and committed meanwhile fails the re-check of its lease. The outer query returns each
// leased server (as stored now) once per pending day, in claim order.
constexpr std::string_view kClaim = R"sql(
WITH leased AS (
  UPDATE work_units SET lease_owner = $4::TEXT, lease_until = $5::BIGINT, claims = claims + 1
  WHERE (run_id, server_id) IN (
    SELECT u.run_id, u.server_id
    FROM work_units u JOIN runs r ON r.id = u.run_id JOIN servers s ON s.id = u.server_id
    WHERE u.state = 'pending' AND (u.lease_until IS NULL OR u.lease_until <= $1::BIGINT)
      AND r.status = 'running' AND ($2::BIGINT = 0 OR u.run_id = $2::BIGINT)
      AND EXISTS (SELECT 1 FROM work_items i
                  WHERE i.run_id = u.run_id AND i.server_id = u.server_id AND i.state = 'pending')
    ORDER BY u.run_id, s.name
    LIMIT $3::BIGINT
    FOR UPDATE OF u SKIP LOCKED)
  RETURNING run_id, server_id)
SELECT l.run_id, i.day, s.id, s.name, s.url, s.customer, s.description, s.skip_tls_verify, s.auth,
       s.subject_email, s.subject_role, s.active, s.tracking_since, s.created_at, s.updated_at
FROM leased l JOIN servers s ON s.id = l.server_id
  JOIN work_items i ON i.run_id = l.run_id AND i.server_id = l.server_id AND i.state = 'pending'
ORDER BY l.run_id, s.name, i.day)sql";

constexpr std::string_view kProgress = R"sql(
SELECT COUNT(*),
       COUNT(*) FILTER (WHERE state = 'pending'),
       COUNT(*) FILTER (WHERE state = 'pending' AND lease_until > $2::BIGINT),
       COUNT(*) FILTER (WHERE state = 'done'),
       COUNT(*) FILTER (WHERE state = 'failed'),
       COUNT(*) FILTER (WHERE state = 'cancelled'),
       (SELECT COUNT(*) FROM work_items WHERE run_id = $1::BIGINT AND state = 'done'),
       (SELECT COUNT(*) FROM work_items WHERE run_id = $1::BIGINT AND state = 'failed'),
       (SELECT COUNT(*) FROM work_items WHERE run_id = $1::BIGINT AND state = 'unrecoverable')
FROM work_units WHERE run_id = $1::BIGINT)sql";

// One conditional statement decides: of several closers exactly one changes the row (the others
// wait for its lock, then find the run no longer running).
constexpr std::string_view kCloseRun = R"sql(
UPDATE runs SET
  finished_at = $2::BIGINT,
  status = (SELECT CASE
              WHEN COUNT(*) FILTER (WHERE state = 'cancelled') > 0 THEN 'interrupted'
              WHEN COUNT(*) FILTER (WHERE state = 'failed') = 0 THEN 'succeeded'
              WHEN COUNT(*) FILTER (WHERE state = 'done') = 0 THEN 'failed'
              ELSE 'partial' END
            FROM work_units WHERE run_id = $1::BIGINT),
  servers_attempted = (SELECT COUNT(*) FROM work_units WHERE run_id = $1::BIGINT),
  servers_succeeded =
    (SELECT COUNT(*) FROM work_units WHERE run_id = $1::BIGINT AND state = 'done'),
  servers_failed =
    (SELECT COUNT(*) FROM work_units WHERE run_id = $1::BIGINT AND state = 'failed'),
  days_stored = (SELECT COUNT(*) FROM work_items WHERE run_id = $1::BIGINT AND state = 'done')
WHERE id = $1::BIGINT AND status = 'running'
  AND NOT EXISTS (SELECT 1 FROM work_units WHERE run_id = $1::BIGINT AND state = 'pending')
RETURNING )sql";

// Cancels the pending units without a live lease and their pending days, in one statement.
constexpr std::string_view kCancel = R"sql(
WITH cancelled AS (
  UPDATE work_units SET state = 'cancelled', lease_owner = NULL, lease_until = NULL
  WHERE run_id = $1::BIGINT AND state = 'pending'
    AND (lease_until IS NULL OR lease_until <= $2::BIGINT)
  RETURNING server_id),
days AS (
  UPDATE work_items SET state = 'cancelled'
  WHERE run_id = $1::BIGINT AND state = 'pending'
    AND server_id IN (SELECT server_id FROM cancelled))
SELECT COUNT(*) FROM cancelled)sql";

// Finished once no day is pending (failed if any day failed, those of earlier partial finishes
// included); otherwise released for another claim.
constexpr std::string_view kSettleUnit = R"sql(
UPDATE work_units u SET
  state = CASE WHEN c.pending > 0 THEN 'pending' WHEN c.failed > 0 THEN 'failed' ELSE 'done' END,
  lease_owner = CASE WHEN c.pending > 0 THEN NULL ELSE u.lease_owner END,
  lease_until = CASE WHEN c.pending > 0 THEN NULL ELSE u.lease_until END
FROM (SELECT COUNT(*) FILTER (WHERE state = 'pending') AS pending,
             COUNT(*) FILTER (WHERE state = 'failed') AS failed
      FROM work_items WHERE run_id = $1::BIGINT AND server_id = $2::BIGINT) c
WHERE u.run_id = $1::BIGINT AND u.server_id = $2::BIGINT)sql";

// Runs a statement and returns how many rows it changed.
Result<int64_t> Changed(PgConnection& db, std::string_view sql, const PgParams& params,
                        std::string_view what) {
  auto done = db.Exec(sql, params, what);
  if (!done) return tl::unexpected(done.error());
  return done->affected_rows();
}

}  // namespace

Result<void> InsertWork(PgConnection& db, int64_t run_id, const std::vector<WorkItem>& items) {
  const std::string what = "queue work for " + RunName(run_id);
  PgArray servers, days;
  for (const WorkItem& item : items) {
    if (!ParseDay(item.day).has_value()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       what + ": the day '" + item.day + "' of server '" + item.server +
                           "' is not a day; use YYYY-MM-DD (nothing was queued)");
    }
    servers.Text(item.server);
    days.Text(item.day);
  }
  // Locked until commit: a concurrent CloseRunIfDone waits, then sees the new units.
  auto run =
      db.Exec("SELECT status FROM runs WHERE id = $1 FOR SHARE", PgParams().Int(run_id), what);
  if (!run) return tl::unexpected(run.error());
  if (run->empty()) return tl::unexpected(NoRun(run_id));
  const std::string status = (*run)[0].Text(0);
  if (status != "running") {
    return MakeError(ErrorCode::kFailedPrecondition,
                     what + ": the run is " + status + "; queue work only for a running run");
  }
  auto unknown = db.Exec(
      "SELECT i.name FROM unnest($1::TEXT[]) WITH ORDINALITY AS i (name, n) "
      "WHERE NOT EXISTS (SELECT 1 FROM servers s WHERE s.name = i.name) ORDER BY i.n LIMIT 1",
      PgParams().Array(servers), what);
  if (!unknown) return tl::unexpected(unknown.error());
  if (!unknown->empty()) return tl::unexpected(WithContext(NoServer((*unknown)[0].Text(0)), what));
  auto units = db.Exec(
      "INSERT INTO work_units (run_id, server_id) "
      "SELECT DISTINCT $1::BIGINT, s.id FROM unnest($2::TEXT[]) AS i (name) "
      "JOIN servers s ON s.name = i.name ON CONFLICT (run_id, server_id) DO NOTHING",
      PgParams().Int(run_id).Array(servers), what);
  if (!units) return tl::unexpected(units.error());
  // A new day for a server whose unit has finished makes it pending (and claimable) again.
  auto queued = db.Exec(
      "WITH inserted AS ("
      "  INSERT INTO work_items (run_id, server_id, day) "
      "  SELECT DISTINCT $1::BIGINT, s.id, i.day "
      "  FROM unnest($2::TEXT[], $3::TEXT[]) AS i (name, day) JOIN servers s ON s.name = i.name "
      "  ON CONFLICT (run_id, server_id, day) DO NOTHING RETURNING server_id) "
      "UPDATE work_units SET state = 'pending', lease_owner = NULL, lease_until = NULL "
      "WHERE run_id = $1::BIGINT AND state <> 'pending' "
      "  AND server_id IN (SELECT server_id FROM inserted)",
      PgParams().Int(run_id).Array(servers).Array(days), what);
  if (!queued) return tl::unexpected(queued.error());
  return {};
}

Result<std::vector<WorkClaim>> LeaseWork(PgConnection& db, const ClaimRequest& request) {
  if (auto valid = CheckLease(request.owner, request.lease_seconds); !valid) {
    return tl::unexpected(valid.error());
  }
  std::vector<WorkClaim> claims;
  if (request.max_servers <= 0) return claims;
  auto rows = db.Exec(kClaim,
                      PgParams()
                          .Int(request.now)
                          .Int(request.run_id)
                          .Int(request.max_servers)
                          .Text(request.owner)
                          .Int(request.now + request.lease_seconds),
                      "claim work for '" + request.owner + "'");
  if (!rows) return tl::unexpected(rows.error());
  for (size_t i = 0; i < rows->size(); ++i) {
    const PgRow row = (*rows)[i];
    const int64_t run_id = row.Int(0);
    const int64_t server_id = row.Int(2);
    if (claims.empty() || claims.back().run_id != run_id || claims.back().server.id != server_id) {
      // Columns 2.. are the server's, in kServerColumns order.
      Server server;
      server.id = server_id;
      server.name = row.Text(3);
      server.url = row.Text(4);
      server.customer = row.Text(5);
      server.description = row.Text(6);
      server.skip_tls_verify = row.Bool(7);
      server.auth = ParseAuthMode(row.Text(8)).value_or(AuthMode::kApiKey);
      server.subject_email = row.Text(9);
      server.subject_role = row.Text(10);
      server.active = row.Bool(11);
      server.tracking_since = row.Text(12);
      server.created_at = row.Int(13);
      server.updated_at = row.Int(14);
      claims.push_back(WorkClaim{run_id, std::move(server), {}});
    }
    claims.back().days.push_back(row.Text(1));
  }
  return claims;
}

Result<int64_t> RenewLeases(PgConnection& db, std::string_view owner, int64_t now,
                            int64_t lease_seconds) {
  if (auto valid = CheckLease(owner, lease_seconds); !valid) return tl::unexpected(valid.error());
  return Changed(db,
                 "UPDATE work_units SET lease_until = $2 WHERE lease_owner = $1 AND state = "
                 "'pending'",
                 PgParams().Text(owner).Int(now + lease_seconds),
                 "renew the work leases of '" + std::string(owner) + "'");
}

Result<void> FinishUnit(PgConnection& db, std::string_view owner, int64_t run_id,
                        std::string_view server, const std::vector<WorkDayResult>& days) {
  const std::string what = "finish the work of " + UnitName(run_id, server);
  PgArray day_array, states;
  for (const WorkDayResult& day : days) {
    if (!ParseDay(day.day).has_value()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       what + ": '" + day.day + "' is not a day; use YYYY-MM-DD");
    }
    if (day.state != "done" && day.state != "unrecoverable" && day.state != "failed") {
      return MakeError(ErrorCode::kInvalidArgument, what + ": day " + day.day + " ended '" +
                                                        day.state +
                                                        "', not done, unrecoverable or failed");
    }
    day_array.Text(day.day);
    states.Text(day.state);
  }
  auto server_id = PgServerId(db, server);
  if (!server_id) return tl::unexpected(WithContext(server_id.error(), what));
  // Locked until commit: a claimer skips it meanwhile, and one that leased it first is seen.
  auto unit = db.Exec(
      "SELECT state, lease_owner FROM work_units WHERE run_id = $1 AND server_id = $2 FOR UPDATE",
      PgParams().Int(run_id).Int(*server_id), what);
  if (!unit) return tl::unexpected(unit.error());
  if (unit->empty()) return MakeError(ErrorCode::kNotFound, what + ": no work was queued for it");
  const PgRow row = (*unit)[0];
  if (row.Text(0) != "pending" || row.IsNull(1) || row.Text(1) != owner) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     what + ": '" + std::string(owner) +
                         "' no longer holds its lease (it expired and another collector claimed "
                         "the server, or the work was released, cancelled or finished); nothing "
                         "was recorded");
  }
  // The first result given for a day counts (as if recorded one by one).
  auto recorded = db.Exec(
      "UPDATE work_items w SET state = d.state "
      "FROM (SELECT DISTINCT ON (day) day, state "
      "      FROM unnest($3::TEXT[], $4::TEXT[]) WITH ORDINALITY AS d (day, state, n) "
      "      ORDER BY day, n) d "
      "WHERE w.run_id = $1::BIGINT AND w.server_id = $2::BIGINT AND w.day = d.day "
      "  AND w.state = 'pending'",
      PgParams().Int(run_id).Int(*server_id).Array(day_array).Array(states), what);
  if (!recorded) return tl::unexpected(recorded.error());
  auto settled = db.Exec(kSettleUnit, PgParams().Int(run_id).Int(*server_id), what);
  if (!settled) return tl::unexpected(settled.error());
  return {};
}

Result<int64_t> ReleaseLeases(PgConnection& db, std::string_view owner) {
  return Changed(db,
                 "UPDATE work_units SET lease_owner = NULL, lease_until = NULL "
                 "WHERE lease_owner = $1 AND state = 'pending'",
                 PgParams().Text(owner), "release the work leases of '" + std::string(owner) + "'");
}

Result<int64_t> CancelUnits(PgConnection& db, int64_t run_id, int64_t now) {
  auto run = SelectRun(db, run_id);
  if (!run) return tl::unexpected(run.error());
  auto cancelled =
      db.Exec(kCancel, PgParams().Int(run_id).Int(now), "cancel the work of " + RunName(run_id));
  if (!cancelled) return tl::unexpected(cancelled.error());
  return (*cancelled)[0].Int(0);
}

Result<WorkProgress> SelectWorkProgress(PgConnection& db, int64_t run_id, int64_t now) {
  auto run = SelectRun(db, run_id);
  if (!run) return tl::unexpected(run.error());
  auto rows = db.Exec(kProgress, PgParams().Int(run_id).Int(now),
                      "read the work progress of " + RunName(run_id));
  if (!rows) return tl::unexpected(rows.error());
  const PgRow row = (*rows)[0];
  WorkProgress progress;
  progress.servers_total = row.Int(0);
  progress.servers_pending = row.Int(1);
  progress.servers_leased = row.Int(2);
  progress.servers_done = row.Int(3);
  progress.servers_failed = row.Int(4);
  progress.servers_cancelled = row.Int(5);
  progress.days_done = row.Int(6);
  progress.days_failed = row.Int(7);
  progress.days_unrecoverable = row.Int(8);
  return progress;
}

Result<std::optional<CollectionRun>> CloseRunWhenDone(PgConnection& db, int64_t run_id,
                                                      int64_t now) {
  const std::string what = "close " + RunName(run_id);
  // Waits for transactions queueing work for the run (they hold it FOR SHARE), so the closing
  // statement, which starts after, sees their units.
  auto run = db.Exec("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", PgParams().Int(run_id), what);
  if (!run) return tl::unexpected(run.error());
  if (run->empty()) return tl::unexpected(NoRun(run_id));
  auto closed = db.Exec(std::string(kCloseRun) + std::string(kRunColumns),
                        PgParams().Int(run_id).Int(now), what);
  if (!closed) return tl::unexpected(closed.error());
  if (closed->empty()) return std::optional<CollectionRun>();
  return std::optional<CollectionRun>(RunFromRow((*closed)[0]));
}

Result<bool> InsertSlot(PgConnection& db, std::string_view slot, int64_t run_id, int64_t now) {
  if (slot.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a schedule slot needs a non-empty name");
  }
  const std::string what = "claim schedule slot '" + std::string(slot) + "'";
  auto run = SelectRun(db, run_id);
  if (!run) return tl::unexpected(WithContext(run.error(), what));
  // Taken over when its run was interrupted, failed or deleted (run_id set to NULL). A run a
  // concurrent claimer created and committed after this statement began is invisible to the
  // EXISTS: the slot is then left to it, never taken twice.
  auto inserted = Changed(db,
                          "INSERT INTO schedule_slots (slot, run_id, claimed_at) "
                          "VALUES ($1, $2, $3) ON CONFLICT (slot) DO UPDATE "
                          "SET run_id = excluded.run_id, claimed_at = excluded.claimed_at "
                          "WHERE schedule_slots.run_id IS NULL OR EXISTS (SELECT 1 FROM runs r "
                          "WHERE r.id = schedule_slots.run_id "
                          "AND r.status IN ('interrupted', 'failed'))",
                          PgParams().Text(slot).Int(run_id).Int(now), what);
  if (!inserted) return tl::unexpected(inserted.error());
  return *inserted == 1;
}

}  // namespace fleet::storage
