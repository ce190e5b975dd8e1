#include "storage/sqlite_reports.h"

#include <string>

#include "storage/sqlite_rows.h"
#include "storage/sqlite_usage.h"

namespace fleet::storage {
namespace {

std::string BatchName(const InstanceReport& report) {
  return "batch '" + report.batch_id + "' of server '" + report.server + "'";
}

}  // namespace

Result<std::vector<DailyUsage>> PushRows(const InstanceReport& report,
                                         const std::vector<DailyUsage>& rows) {
  if (report.batch_id.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "the report of server '" + report.server +
                                                      "' has no batch id; nothing was stored");
  }
  std::vector<DailyUsage> push_rows;
  push_rows.reserve(rows.size());
  for (const DailyUsage& row : rows) {
    if (row.server != report.server) {
      return MakeError(ErrorCode::kInvalidArgument,
                       BatchName(report) + " holds usage of server '" + row.server + "' for day '" +
                           row.day + "'; a server reports only its own usage; nothing was stored");
    }
    push_rows.push_back(row);
    push_rows.back().source = "push";
  }
  if (auto valid = ValidateUsage(push_rows); !valid) {
    return tl::unexpected(WithContext(valid.error(), BatchName(report)));
  }
  return push_rows;
}

Result<void> InsertInstanceReport(Database& db, const InstanceReport& report,
                                  const std::vector<DailyUsage>& push_rows) {
  const std::string what = "store " + BatchName(report);
  auto server_id = SelectServerId(db, report.server);
  if (!server_id) return tl::unexpected(WithContext(server_id.error(), what));
  auto stmt = db.Prepare(
      "INSERT INTO instance_reports (server_id, batch_id, instance_id, label, n8n_version, "
      "received_at, payload_json) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      what);
  if (!stmt) return tl::unexpected(stmt.error());
  auto done = stmt->BindInt(1, *server_id)
                  .BindText(2, report.batch_id)
                  .BindText(3, report.instance_id)
                  .BindText(4, report.label)
                  .BindText(5, report.n8n_version)
                  .BindInt(6, report.received_at)
                  .BindText(7, report.payload_json)
                  .Run();
  if (!done) {
    if (done.error().code != ErrorCode::kAlreadyExists) return done;
    return MakeError(ErrorCode::kAlreadyExists, "server '" + report.server +
                                                    "' already sent batch '" + report.batch_id +
                                                    "'; nothing of it was stored again");
  }
  if (push_rows.empty()) return {};
  return UpsertUsage(db, push_rows);
}

Result<std::vector<InstanceReport>> SelectInstanceReports(Database& db, std::string_view server,
                                                          int limit) {
  std::string sql =
      "SELECT s.name, r.batch_id, r.instance_id, r.label, r.n8n_version, r.received_at, "
      "r.payload_json FROM instance_reports r JOIN servers s ON s.id = r.server_id";
  int64_t server_id = 0;
  if (!server.empty()) {
    auto id = SelectServerId(db, server);
    if (!id) return tl::unexpected(id.error());
    server_id = *id;
    sql += " WHERE r.server_id = $1";
  }
  sql += " ORDER BY r.received_at DESC, r.id DESC";
  if (limit > 0) sql += " LIMIT $2";
  auto stmt = db.Prepare(sql, "list instance reports");
  if (!stmt) return tl::unexpected(stmt.error());
  if (!server.empty()) stmt->BindInt(1, server_id);
  if (limit > 0) stmt->BindInt(2, limit);
  std::vector<InstanceReport> reports;
  while (true) {
    auto row = stmt->Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return reports;
    reports.push_back(InstanceReport{stmt->ColumnText(0), stmt->ColumnText(1), stmt->ColumnText(2),
                                     stmt->ColumnText(3), stmt->ColumnText(4), stmt->ColumnInt(5),
                                     stmt->ColumnText(6)});
  }
}

}  // namespace fleet::storage
