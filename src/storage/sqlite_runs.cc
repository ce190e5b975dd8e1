#include "storage/sqlite_runs.h"

#include <set>
#include <string>

namespace fleet::storage {
namespace {

constexpr std::string_view kRunColumns =
    "id, started_at, finished_at, status, description, servers_attempted, servers_succeeded, "
    "servers_failed, days_stored";

Error NoRun(int64_t id) {
  return Error{ErrorCode::kNotFound, "no collection run with id " + std::to_string(id) +
                                         "; list the recent runs for their ids"};
}

CollectionRun ReadRun(const Statement& row) {
  CollectionRun run;
  run.id = row.ColumnInt(0);
  run.started_at = row.ColumnInt(1);
  run.finished_at = row.ColumnOptionalInt(2);
  // The CHECK constraint admits only known names.
  run.status = ParseRunStatus(row.ColumnText(3)).value_or(RunStatus::kFailed);
  run.description = row.ColumnText(4);
  run.servers_attempted = row.ColumnInt(5);
  run.servers_succeeded = row.ColumnInt(6);
  run.servers_failed = row.ColumnInt(7);
  run.days_stored = row.ColumnInt(8);
  return run;
}

// Binds $2..$8: the columns a run's finish replaces.
Statement& BindRunState(Statement& stmt, const CollectionRun& run) {
  return stmt.BindOptionalInt(2, run.finished_at)
      .BindText(3, RunStatusName(run.status))
      .BindText(4, run.description)
      .BindInt(5, run.servers_attempted)
      .BindInt(6, run.servers_succeeded)
      .BindInt(7, run.servers_failed)
      .BindInt(8, run.days_stored);
}

Result<std::vector<CollectionRun>> Runs(Database& db, std::string_view tail, int64_t arg,
                                        std::string_view what) {
  auto stmt =
      db.Prepare("SELECT " + std::string(kRunColumns) + " FROM runs " + std::string(tail), what);
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->BindInt(1, arg);
  std::vector<CollectionRun> runs;
  while (true) {
    auto row = stmt->Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return runs;
    runs.push_back(ReadRun(*stmt));
  }
}

}  // namespace

Result<int64_t> InsertRun(Database& db, const CollectionRun& run) {
  auto stmt = db.Prepare(
      "INSERT INTO runs (started_at, finished_at, status, description, servers_attempted, "
      "servers_succeeded, servers_failed, days_stored) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
      "record a collection run");
  if (!stmt) return tl::unexpected(stmt.error());
  auto row = BindRunState(stmt->BindInt(1, run.started_at), run).Step();
  if (!row) return tl::unexpected(row.error());
  const int64_t id = stmt->ColumnInt(0);
  if (auto done = stmt->Run(); !done) return tl::unexpected(done.error());
  return id;
}

Result<void> UpdateRun(Database& db, const CollectionRun& run) {
  auto stmt = db.Prepare(
      "UPDATE runs SET finished_at = $2, status = $3, description = $4, servers_attempted = $5, "
      "servers_succeeded = $6, servers_failed = $7, days_stored = $8 WHERE id = $1",
      "finish collection run " + std::to_string(run.id));
  if (!stmt) return tl::unexpected(stmt.error());
  if (auto done = BindRunState(stmt->BindInt(1, run.id), run).Run(); !done) return done;
  if (db.Changes() == 0) return tl::unexpected(NoRun(run.id));
  return {};
}

Result<void> InsertAttempts(Database& db, const std::vector<FetchAttempt>& attempts) {
  const std::string what = "record " + std::to_string(attempts.size()) + " fetch attempts";
  // A foreign key violation would only say "constraint failed"; name the missing run instead.
  std::set<int64_t> run_ids;
  for (const FetchAttempt& attempt : attempts) run_ids.insert(attempt.run_id);
  auto exists = db.Prepare("SELECT 1 FROM runs WHERE id = $1", what);
  if (!exists) return tl::unexpected(exists.error());
  for (int64_t id : run_ids) {
    auto row = exists->Reset().BindInt(1, id).Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return tl::unexpected(NoRun(id));
  }
  auto insert = db.Prepare(
      "INSERT INTO run_attempts (run_id, server_name, day, outcome, http_status, duration_ms, "
      "message, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      what);
  if (!insert) return tl::unexpected(insert.error());
  for (const FetchAttempt& attempt : attempts) {
    auto done = insert->Reset()
                    .BindInt(1, attempt.run_id)
                    .BindText(2, attempt.server)
                    .BindText(3, attempt.day)
                    .BindText(4, attempt.outcome)
                    .BindInt(5, attempt.http_status)
                    .BindInt(6, attempt.duration_ms)
                    .BindText(7, attempt.message)
                    .BindInt(8, attempt.at)
                    .Run();
    if (!done) return done;
  }
  return {};
}

Result<std::vector<CollectionRun>> SelectRuns(Database& db, int limit) {
  // Ids grow with creation, so the highest is the newest whatever the clocks said.
  return Runs(db, "ORDER BY id DESC LIMIT $1", limit > 0 ? limit : -1, "list collection runs");
}

Result<CollectionRun> SelectRun(Database& db, int64_t id) {
  auto runs = Runs(db, "WHERE id = $1", id, "read collection run " + std::to_string(id));
  if (!runs) return tl::unexpected(runs.error());
  if (runs->empty()) return tl::unexpected(NoRun(id));
  return std::move(runs->front());
}

Result<std::vector<FetchAttempt>> SelectAttempts(Database& db, int64_t run_id) {
  auto run = SelectRun(db, run_id);
  if (!run) return tl::unexpected(run.error());
  auto stmt = db.Prepare(
      "SELECT run_id, server_name, day, outcome, http_status, duration_ms, message, at "
      "FROM run_attempts WHERE run_id = $1 ORDER BY id",
      "list the attempts of collection run " + std::to_string(run_id));
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->BindInt(1, run_id);
  std::vector<FetchAttempt> attempts;
  while (true) {
    auto row = stmt->Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return attempts;
    attempts.push_back(FetchAttempt{stmt->ColumnInt(0), stmt->ColumnText(1), stmt->ColumnText(2),
                                    stmt->ColumnText(3), static_cast<int>(stmt->ColumnInt(4)),
                                    stmt->ColumnInt(5), stmt->ColumnText(6), stmt->ColumnInt(7)});
  }
}

}  // namespace fleet::storage
