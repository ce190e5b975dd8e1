#include "storage/postgres_reports.h"

#include <string>

#include "storage/postgres_rows.h"
#include "storage/postgres_usage.h"

namespace fleet::storage {

Result<void> InsertInstanceReport(PgConnection& db, const InstanceReport& report,
                                  const std::vector<DailyUsage>& push_rows) {
  const std::string what =
      "store batch '" + report.batch_id + "' of server '" + report.server + "'";
  auto server_id = PgServerId(db, report.server);
  if (!server_id) return tl::unexpected(WithContext(server_id.error(), what));
  auto done = db.Exec(
      "INSERT INTO instance_reports (server_id, batch_id, instance_id, label, n8n_version, "
      "received_at, payload_json) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      PgParams()
          .Int(*server_id)
          .Text(report.batch_id)
          .Text(report.instance_id)
          .Text(report.label)
          .Text(report.n8n_version)
          .Int(report.received_at)
          .Text(report.payload_json),
      what);
  if (!done) {
    if (done.error().code != ErrorCode::kAlreadyExists) return tl::unexpected(done.error());
    return MakeError(ErrorCode::kAlreadyExists, "server '" + report.server +
                                                    "' already sent batch '" + report.batch_id +
                                                    "'; nothing of it was stored again");
  }
  return UpsertUsage(db, push_rows);
}

Result<std::vector<InstanceReport>> SelectInstanceReports(PgConnection& db, std::string_view server,
                                                          int limit) {
  std::string sql =
      "SELECT s.name, r.batch_id, r.instance_id, r.label, r.n8n_version, r.received_at, "
      "r.payload_json FROM instance_reports r JOIN servers s ON s.id = r.server_id";
  PgParams params;
  int count = 0;
  if (!server.empty()) {
    auto id = PgServerId(db, server);
    if (!id) return tl::unexpected(id.error());
    sql += " WHERE r.server_id = $" + std::to_string(++count);
    params.Int(*id);
  }
  sql += " ORDER BY r.received_at DESC, r.id DESC";
  if (limit > 0) {
    sql += " LIMIT $" + std::to_string(++count);
    params.Int(limit);
  }
  auto rows = db.Exec(sql, params, "list instance reports");
  if (!rows) return tl::unexpected(rows.error());
  return rows->All<InstanceReport>([](const PgRow& row) {
    return InstanceReport{row.Text(0), row.Text(1), row.Text(2), row.Text(3),
                          row.Text(4), row.Int(5),  row.Text(6)};
  });
}

}  // namespace fleet::storage
