#include "storage/sqlite_work.h"

#include <functional>
#include <map>
#include <string>
#include <utility>

#include "core/time.h"
#include "storage/sqlite_rows.h"
#include "storage/sqlite_runs.h"

#include "storage/store_rules.h"

namespace fleet::storage {
namespace {

// Units nobody holds a live lease on, with pending days, in running runs ($2 = 0: any run),
// oldest run first, then by server name.
constexpr std::string_view kClaimableUnits = R"sql(
SELECT u.run_id, u.server_id
FROM work_units u JOIN runs r ON r.id = u.run_id JOIN servers s ON s.id = u.server_id
WHERE u.state = 'pending' AND (u.lease_until IS NULL OR u.lease_until <= $1)
  AND r.status = 'running' AND ($2 = 0 OR u.run_id = $2)
  AND EXISTS (SELECT 1 FROM work_items i
              WHERE i.run_id = u.run_id AND i.server_id = u.server_id AND i.state = 'pending')
ORDER BY u.run_id, s.name
LIMIT $3)sql";

constexpr std::string_view kProgress = R"sql(
SELECT COUNT(*),
       COUNT(CASE WHEN state = 'pending' THEN 1 END),
       COUNT(CASE WHEN state = 'pending' AND lease_until > $2 THEN 1 END),
       COUNT(CASE WHEN state = 'done' THEN 1 END),
       COUNT(CASE WHEN state = 'failed' THEN 1 END),
       COUNT(CASE WHEN state = 'cancelled' THEN 1 END),
       (SELECT COUNT(*) FROM work_items WHERE run_id = $1 AND state = 'done'),
       (SELECT COUNT(*) FROM work_items WHERE run_id = $1 AND state = 'failed'),
       (SELECT COUNT(*) FROM work_items WHERE run_id = $1 AND state = 'unrecoverable')
FROM work_units WHERE run_id = $1)sql";

// One conditional statement, so of several closers exactly one changes the row.
constexpr std::string_view kCloseRun = R"sql(
UPDATE runs SET
  finished_at = $2,
  status = (SELECT CASE
              WHEN COUNT(CASE WHEN state = 'cancelled' THEN 1 END) > 0 THEN 'interrupted'
              WHEN COUNT(CASE WHEN state = 'failed' THEN 1 END) = 0 THEN 'succeeded'
              WHEN COUNT(CASE WHEN state = 'done' THEN 1 END) = 0 THEN 'failed'
              ELSE 'partial' END
            FROM work_units WHERE run_id = $1),
  servers_attempted = (SELECT COUNT(*) FROM work_units WHERE run_id = $1),
  servers_succeeded = (SELECT COUNT(*) FROM work_units WHERE run_id = $1 AND state = 'done'),
  servers_failed = (SELECT COUNT(*) FROM work_units WHERE run_id = $1 AND state = 'failed'),
  days_stored = (SELECT COUNT(*) FROM work_items WHERE run_id = $1 AND state = 'done')
WHERE id = $1 AND status = 'running'
  AND NOT EXISTS (SELECT 1 FROM work_units WHERE run_id = $1 AND state = 'pending'))sql";

// Runs `stmt` and returns how many rows it changed.
Result<int64_t> Changed(Database& db, Statement& stmt) {
  if (auto done = stmt.Run(); !done) return tl::unexpected(done.error());
  return db.Changes();
}

// The server (as stored now) and its pending days of the unit just leased.
Result<WorkClaim> ReadClaim(Database& db, int64_t run_id, int64_t server_id,
                            const std::string& what) {
  auto server =
      db.Prepare("SELECT " + std::string(kServerColumns) + " FROM servers WHERE id = $1", what);
  if (!server) return tl::unexpected(server.error());
  auto row = server->BindInt(1, server_id).Step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return MakeError(ErrorCode::kInternal, what + ": a leased server vanished");
  WorkClaim claim{run_id, ReadServer(*server), {}};
  auto days = db.Prepare(
      "SELECT day FROM work_items WHERE run_id = $1 AND server_id = $2 AND state = 'pending' "
      "ORDER BY day",
      what);
  if (!days) return tl::unexpected(days.error());
  days->BindInt(1, run_id).BindInt(2, server_id);
  while (true) {
    auto next = days->Step();
    if (!next) return tl::unexpected(next.error());
    if (!*next) return claim;
    claim.days.push_back(days->ColumnText(0));
  }
}

}  // namespace

Result<void> InsertWork(Database& db, int64_t run_id, const std::vector<WorkItem>& items) {
  const std::string what = "queue work for " + RunName(run_id);
  for (const WorkItem& item : items) {
    if (!ParseDay(item.day).has_value()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       what + ": the day '" + item.day + "' of server '" + item.server +
                           "' is not a day; use YYYY-MM-DD (nothing was queued)");
    }
  }
  auto run = SelectRun(db, run_id);
  if (!run) return tl::unexpected(run.error());
  if (run->status != RunStatus::kRunning) {
    return MakeError(ErrorCode::kFailedPrecondition, what + ": the run is " +
                                                         std::string(RunStatusName(run->status)) +
                                                         "; queue work only for a running run");
  }
  std::map<std::string, int64_t, std::less<>> server_ids;
  for (const WorkItem& item : items) {
    if (server_ids.contains(item.server)) continue;
    auto id = SelectServerId(db, item.server);
    if (!id) return tl::unexpected(WithContext(id.error(), what));
    server_ids.emplace(item.server, *id);
  }
  auto unit = db.Prepare(
      "INSERT INTO work_units (run_id, server_id) VALUES ($1, $2) "
      "ON CONFLICT (run_id, server_id) DO NOTHING",
      what);
  auto item_insert = db.Prepare(
      "INSERT INTO work_items (run_id, server_id, day) VALUES ($1, $2, $3) "
      "ON CONFLICT (run_id, server_id, day) DO NOTHING",
      what);
  // A new day for a server whose unit has finished makes it pending (and claimable) again.
  auto reopen = db.Prepare(
      "UPDATE work_units SET state = 'pending', lease_owner = NULL, lease_until = NULL "
      "WHERE run_id = $1 AND server_id = $2 AND state <> 'pending'",
      what);
  if (!unit) return tl::unexpected(unit.error());
  if (!item_insert) return tl::unexpected(item_insert.error());
  if (!reopen) return tl::unexpected(reopen.error());
  for (const WorkItem& item : items) {
    const int64_t server_id = server_ids.at(item.server);
    if (auto done = unit->Reset().BindInt(1, run_id).BindInt(2, server_id).Run(); !done) {
      return done;
    }
    item_insert->Reset().BindInt(1, run_id).BindInt(2, server_id).BindText(3, item.day);
    auto inserted = Changed(db, *item_insert);
    if (!inserted) return tl::unexpected(inserted.error());
    if (*inserted == 0) continue;
    if (auto done = reopen->Reset().BindInt(1, run_id).BindInt(2, server_id).Run(); !done) {
      return done;
    }
  }
  return {};
}

Result<std::vector<WorkClaim>> LeaseWork(Database& db, const ClaimRequest& request) {
  if (auto valid = CheckLease(request.owner, request.lease_seconds); !valid) {
    return tl::unexpected(valid.error());
  }
  std::vector<WorkClaim> claims;
  if (request.max_servers <= 0) return claims;
  const std::string what = "claim work for '" + request.owner + "'";
  auto candidates = db.Prepare(kClaimableUnits, what);
  if (!candidates) return tl::unexpected(candidates.error());
  candidates->BindInt(1, request.now).BindInt(2, request.run_id).BindInt(3, request.max_servers);
  std::vector<std::pair<int64_t, int64_t>> units;  // (run id, server id)
  while (true) {
    auto row = candidates->Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) break;
    units.emplace_back(candidates->ColumnInt(0), candidates->ColumnInt(1));
  }
  auto lease = db.Prepare(
      "UPDATE work_units SET lease_owner = $3, lease_until = $4, claims = claims + 1 "
      "WHERE run_id = $1 AND server_id = $2",
      what);
  if (!lease) return tl::unexpected(lease.error());
  for (const auto& [run_id, server_id] : units) {
    auto done = lease->Reset()
                    .BindInt(1, run_id)
                    .BindInt(2, server_id)
                    .BindText(3, request.owner)
                    .BindInt(4, request.now + request.lease_seconds)
                    .Run();
    if (!done) return tl::unexpected(done.error());
    auto claim = ReadClaim(db, run_id, server_id, what);
    if (!claim) return tl::unexpected(claim.error());
    claims.push_back(std::move(*claim));
  }
  return claims;
}

Result<int64_t> RenewLeases(Database& db, std::string_view owner, int64_t now,
                            int64_t lease_seconds) {
  if (auto valid = CheckLease(owner, lease_seconds); !valid) return tl::unexpected(valid.error());
  auto stmt = db.Prepare(
      "UPDATE work_units SET lease_until = $2 WHERE lease_owner = $1 AND state = 'pending'",
      "renew the work leases of '" + std::string(owner) + "'");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->BindText(1, owner).BindInt(2, now + lease_seconds);
  return Changed(db, *stmt);
}

Result<void> FinishUnit(Database& db, std::string_view owner, int64_t run_id,
                        std::string_view server, const std::vector<WorkDayResult>& days) {
  const std::string what = "finish the work of " + UnitName(run_id, server);
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
  }
  auto server_id = SelectServerId(db, server);
  if (!server_id) return tl::unexpected(WithContext(server_id.error(), what));
  auto unit = db.Prepare(
      "SELECT state, lease_owner FROM work_units WHERE run_id = $1 AND server_id = $2", what);
  if (!unit) return tl::unexpected(unit.error());
  auto row = unit->BindInt(1, run_id).BindInt(2, *server_id).Step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) {
    return MakeError(ErrorCode::kNotFound, what + ": no work was queued for it");
  }
  if (unit->ColumnText(0) != "pending" || unit->ColumnIsNull(1) || unit->ColumnText(1) != owner) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     what + ": '" + std::string(owner) +
                         "' no longer holds its lease (it expired and another collector claimed "
                         "the server, or the work was released, cancelled or finished); nothing "
                         "was recorded");
  }
  auto item = db.Prepare(
      "UPDATE work_items SET state = $4 "
      "WHERE run_id = $1 AND server_id = $2 AND day = $3 AND state = 'pending'",
      what);
  if (!item) return tl::unexpected(item.error());
  for (const WorkDayResult& day : days) {
    auto done = item->Reset()
                    .BindInt(1, run_id)
                    .BindInt(2, *server_id)
                    .BindText(3, day.day)
                    .BindText(4, day.state)
                    .Run();
    if (!done) return done;
  }
  // Finished once no day is pending (failed if any day failed, those of earlier partial
  // finishes included); otherwise released for another claim.
  auto counts = db.Prepare(
      "SELECT COUNT(CASE WHEN state = 'pending' THEN 1 END), "
      "COUNT(CASE WHEN state = 'failed' THEN 1 END) "
      "FROM work_items WHERE run_id = $1 AND server_id = $2",
      what);
  if (!counts) return tl::unexpected(counts.error());
  auto counted = counts->BindInt(1, run_id).BindInt(2, *server_id).Step();
  if (!counted) return tl::unexpected(counted.error());
  const bool pending = counts->ColumnInt(0) > 0;
  const bool failed = counts->ColumnInt(1) > 0;
  auto update = db.Prepare(pending ? "UPDATE work_units SET lease_owner = NULL, lease_until = NULL "
                                     "WHERE run_id = $1 AND server_id = $2"
                                   : "UPDATE work_units SET state = $3 "
                                     "WHERE run_id = $1 AND server_id = $2",
                           what);
  if (!update) return tl::unexpected(update.error());
  update->BindInt(1, run_id).BindInt(2, *server_id);
  if (!pending) update->BindText(3, failed ? "failed" : "done");
  return update->Run();
}

Result<int64_t> ReleaseLeases(Database& db, std::string_view owner) {
  auto stmt = db.Prepare(
      "UPDATE work_units SET lease_owner = NULL, lease_until = NULL "
      "WHERE lease_owner = $1 AND state = 'pending'",
      "release the work leases of '" + std::string(owner) + "'");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->BindText(1, owner);
  return Changed(db, *stmt);
}

Result<int64_t> CancelUnits(Database& db, int64_t run_id, int64_t now) {
  const std::string what = "cancel the work of " + RunName(run_id);
  auto run = SelectRun(db, run_id);
  if (!run) return tl::unexpected(run.error());
  auto items = db.Prepare(
      "UPDATE work_items SET state = 'cancelled' "
      "WHERE run_id = $1 AND state = 'pending' AND server_id IN (SELECT server_id FROM work_units "
      "WHERE run_id = $1 AND state = 'pending' AND (lease_until IS NULL OR lease_until <= $2))",
      what);
  if (!items) return tl::unexpected(items.error());
  if (auto done = items->BindInt(1, run_id).BindInt(2, now).Run(); !done) {
    return tl::unexpected(done.error());
  }
  auto units = db.Prepare(
      "UPDATE work_units SET state = 'cancelled', lease_owner = NULL, lease_until = NULL "
      "WHERE run_id = $1 AND state = 'pending' AND (lease_until IS NULL OR lease_until <= $2)",
      what);
  if (!units) return tl::unexpected(units.error());
  units->BindInt(1, run_id).BindInt(2, now);
  return Changed(db, *units);
}

Result<WorkProgress> SelectWorkProgress(Database& db, int64_t run_id, int64_t now) {
  auto run = SelectRun(db, run_id);
  if (!run) return tl::unexpected(run.error());
  auto stmt = db.Prepare(kProgress, "read the work progress of " + RunName(run_id));
  if (!stmt) return tl::unexpected(stmt.error());
  auto row = stmt->BindInt(1, run_id).BindInt(2, now).Step();
  if (!row) return tl::unexpected(row.error());
  WorkProgress progress;
  progress.servers_total = stmt->ColumnInt(0);
  progress.servers_pending = stmt->ColumnInt(1);
  progress.servers_leased = stmt->ColumnInt(2);
  progress.servers_done = stmt->ColumnInt(3);
  progress.servers_failed = stmt->ColumnInt(4);
  progress.servers_cancelled = stmt->ColumnInt(5);
  progress.days_done = stmt->ColumnInt(6);
  progress.days_failed = stmt->ColumnInt(7);
  progress.days_unrecoverable = stmt->ColumnInt(8);
  return progress;
}

Result<std::optional<CollectionRun>> CloseRunWhenDone(Database& db, int64_t run_id, int64_t now) {
  auto run = SelectRun(db, run_id);
  if (!run) return tl::unexpected(run.error());
  auto stmt = db.Prepare(kCloseRun, "close " + RunName(run_id));
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->BindInt(1, run_id).BindInt(2, now);
  auto changed = Changed(db, *stmt);
  if (!changed) return tl::unexpected(changed.error());
  if (*changed == 0) return std::optional<CollectionRun>();
  auto closed = SelectRun(db, run_id);
  if (!closed) return tl::unexpected(closed.error());
  return std::optional<CollectionRun>(std::move(*closed));
}

Result<bool> InsertSlot(Database& db, std::string_view slot, int64_t run_id, int64_t now) {
  if (slot.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a schedule slot needs a non-empty name");
  }
  const std::string what = "claim schedule slot '" + std::string(slot) + "'";
  auto run = SelectRun(db, run_id);
  if (!run) return tl::unexpected(WithContext(run.error(), what));
  auto stmt = db.Prepare(
      "INSERT INTO schedule_slots (slot, run_id, claimed_at) VALUES ($1, $2, $3) "
      "ON CONFLICT (slot) DO UPDATE SET run_id = excluded.run_id, claimed_at = excluded.claimed_at "
      "WHERE COALESCE((SELECT status FROM runs WHERE runs.id = schedule_slots.run_id), "
      "'interrupted') IN ('interrupted', 'failed')",
      what);
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->BindText(1, slot).BindInt(2, run_id).BindInt(3, now);
  auto inserted = Changed(db, *stmt);
  if (!inserted) return tl::unexpected(inserted.error());
  return *inserted == 1;
}

}  // namespace fleet::storage
