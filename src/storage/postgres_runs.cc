#include "storage/postgres_runs.h"

#include <string>

namespace fleet::storage {
namespace {

// $2..$8: the columns a run's finish replaces.
PgParams& AddRunState(PgParams& params, const CollectionRun& run) {
  return params.OptionalInt(run.finished_at)
      .Text(RunStatusName(run.status))
      .Text(run.description)
      .Int(run.servers_attempted)
      .Int(run.servers_succeeded)
      .Int(run.servers_failed)
      .Int(run.days_stored);
}

Result<std::vector<CollectionRun>> Runs(PgConnection& db, std::string_view tail,
                                        const PgParams& params, std::string_view what) {
  auto rows = db.Exec("SELECT " + std::string(kRunColumns) + " FROM runs " + std::string(tail),
                      params, what);
  if (!rows) return tl::unexpected(rows.error());
  return rows->All<CollectionRun>(RunFromRow);
}

}  // namespace

Error NoRun(int64_t id) {
  return Error{ErrorCode::kNotFound, "no collection run with id " + std::to_string(id) +
                                         "; list the recent runs for their ids"};
}

CollectionRun RunFromRow(const PgRow& row) {
  CollectionRun run;
  run.id = row.Int(0);
  run.started_at = row.Int(1);
  run.finished_at = row.OptionalInt(2);
  // The CHECK constraint admits only known names.
  run.status = ParseRunStatus(row.Text(3)).value_or(RunStatus::kFailed);
  run.description = row.Text(4);
  run.servers_attempted = row.Int(5);
  run.servers_succeeded = row.Int(6);
  run.servers_failed = row.Int(7);
  run.days_stored = row.Int(8);
  return run;
}

Result<int64_t> InsertRun(PgConnection& db, const CollectionRun& run) {
  PgParams params;
  AddRunState(params.Int(run.started_at), run);
  auto rows = db.Exec(
      "INSERT INTO runs (started_at, finished_at, status, description, servers_attempted, "
      "servers_succeeded, servers_failed, days_stored) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
      params, "record a collection run");
  if (!rows) return tl::unexpected(rows.error());
  return (*rows)[0].Int(0);
}

Result<void> UpdateRun(PgConnection& db, const CollectionRun& run) {
  PgParams params;
  AddRunState(params.Int(run.id), run);
  auto done = db.Exec(
      "UPDATE runs SET finished_at = $2, status = $3, description = $4, servers_attempted = $5, "
      "servers_succeeded = $6, servers_failed = $7, days_stored = $8 WHERE id = $1",
      params, "finish collection run " + std::to_string(run.id));
  if (!done) return tl::unexpected(done.error());
  if (done->affected_rows() == 0) return tl::unexpected(NoRun(run.id));
  return {};
}

Result<void> InsertAttempts(PgConnection& db, const std::vector<FetchAttempt>& attempts) {
  if (attempts.empty()) return {};
  const std::string what = "record " + std::to_string(attempts.size()) + " fetch attempts";
  PgArray run_ids, servers, days, outcomes, statuses, durations, messages, ats;
  for (const FetchAttempt& attempt : attempts) {
    run_ids.Int(attempt.run_id);
    servers.Text(attempt.server);
    days.Text(attempt.day);
    outcomes.Text(attempt.outcome);
    statuses.Int(attempt.http_status);
    durations.Int(attempt.duration_ms);
    messages.Text(attempt.message);
    ats.Int(attempt.at);
  }
  // A foreign key violation would only name the constraint; name the missing run instead.
  auto missing = db.Exec(
      "SELECT r.id FROM unnest($1::BIGINT[]) AS r (id) "
      "WHERE NOT EXISTS (SELECT 1 FROM runs WHERE runs.id = r.id) ORDER BY r.id LIMIT 1",
      PgParams().Array(run_ids), what);
  if (!missing) return tl::unexpected(missing.error());
  if (!missing->empty()) return tl::unexpected(NoRun((*missing)[0].Int(0)));
  // One statement for the batch, rows in the order given (ids grow with it).
  auto done = db.Exec(
      "INSERT INTO run_attempts (run_id, server_name, day, outcome, http_status, duration_ms, "
      "message, at) SELECT run_id, server_name, day, outcome, http_status, duration_ms, message, "
      "at FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[], "
      "$6::BIGINT[], $7::TEXT[], $8::BIGINT[]) WITH ORDINALITY AS a (run_id, server_name, day, "
      "outcome, http_status, duration_ms, message, at, n) ORDER BY n",
      PgParams()
          .Array(run_ids)
          .Array(servers)
          .Array(days)
          .Array(outcomes)
          .Array(statuses)
          .Array(durations)
          .Array(messages)
          .Array(ats),
      what);
  if (!done) return tl::unexpected(done.error());
  return {};
}

Result<std::vector<CollectionRun>> SelectRuns(PgConnection& db, int limit) {
  // Ids grow with creation, so the highest is the newest whatever the clocks said.
  PgParams params;
  if (limit > 0) {
    params.Int(limit);
  } else {
    params.Null();  // LIMIT NULL: all of them
  }
  return Runs(db, "ORDER BY id DESC LIMIT $1", params, "list collection runs");
}

Result<CollectionRun> SelectRun(PgConnection& db, int64_t id) {
  auto runs =
      Runs(db, "WHERE id = $1", PgParams().Int(id), "read collection run " + std::to_string(id));
  if (!runs) return tl::unexpected(runs.error());
  if (runs->empty()) return tl::unexpected(NoRun(id));
  return std::move(runs->front());
}

Result<std::vector<FetchAttempt>> SelectAttempts(PgConnection& db, int64_t run_id) {
  auto run = SelectRun(db, run_id);
  if (!run) return tl::unexpected(run.error());
  auto rows = db.Exec(
      "SELECT run_id, server_name, day, outcome, http_status, duration_ms, message, at "
      "FROM run_attempts WHERE run_id = $1 ORDER BY id",
      PgParams().Int(run_id), "list the attempts of collection run " + std::to_string(run_id));
  if (!rows) return tl::unexpected(rows.error());
  return rows->All<FetchAttempt>([](const PgRow& row) {
    return FetchAttempt{
        row.Int(0), row.Text(1), row.Text(2), row.Text(3), static_cast<int>(row.Int(4)),
        row.Int(5), row.Text(6), row.Int(7)};
  });
}

}  // namespace fleet::storage
