#include "storage/postgres_rows.h"

#include <string>

#include "core/time.h"

namespace fleet::storage {

Server ServerFromRow(const PgRow& row) {
  Server server;
  server.id = row.Int(0);
  server.name = row.Text(1);
  server.url = row.Text(2);
  server.customer = row.Text(3);
  server.description = row.Text(4);
  server.skip_tls_verify = row.Bool(5);
  server.auth = ParseAuthMode(row.Text(6)).value_or(AuthMode::kApiKey);
  server.subject_email = row.Text(7);
  server.subject_role = row.Text(8);
  server.active = row.Bool(9);
  server.tracking_since = row.Text(10);
  server.created_at = row.Int(11);
  server.updated_at = row.Int(12);
  return server;
}

ApiKey KeyFromRow(const PgRow& row) {
  ApiKey key;
  key.id = row.Int(0);
  key.name = row.Text(1);
  key.sealed_secret = row.Bytes(2);
  key.masked = row.Text(3);
  key.description = row.Text(4);
  key.active = row.Bool(5);
  key.issued_at = row.OptionalInt(6);
  key.expires_at = row.OptionalInt(7);
  key.created_at = row.Int(8);
  key.last_used_at = row.OptionalInt(9);
  return key;
}

PgParams ServerParams(const Server& server) {
  PgParams params;
  params.Text(server.name)
      .Text(server.url)
      .Text(server.customer)
      .Text(server.description)
      .Bool(server.skip_tls_verify)
      .Text(AuthModeName(server.auth))
      .Text(server.subject_email)
      .Text(server.subject_role)
      .Bool(server.active)
      .Text(server.tracking_since);
  return params;
}

PgParams ServerArrays(const std::vector<const Server*>& servers) {
  PgArray columns[10];
  for (const Server* server : servers) {
    columns[0].Text(server->name);
    columns[1].Text(server->url);
    columns[2].Text(server->customer);
    columns[3].Text(server->description);
    columns[4].Int(server->skip_tls_verify ? 1 : 0);
    columns[5].Text(AuthModeName(server->auth));
    columns[6].Text(server->subject_email);
    columns[7].Text(server->subject_role);
    columns[8].Int(server->active ? 1 : 0);
    columns[9].Text(server->tracking_since);
  }
  PgParams params;
  for (const PgArray& column : columns) params.Array(column);
  return params;
}

Result<int64_t> PgServerId(PgConnection& db, std::string_view name) {
  auto rows = db.Exec("SELECT id FROM servers WHERE name = $1", PgParams().Text(name),
                      "read server '" + std::string(name) + "'");
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return tl::unexpected(NoServer(name));
  return (*rows)[0].Int(0);
}

Result<void> RequireDay(std::string_view day, std::string_view what, bool allow_empty) {
  if ((allow_empty && day.empty()) || ParseDay(day).has_value()) return {};
  return MakeError(ErrorCode::kInvalidArgument,
                   std::string(what) + " '" + std::string(day) + "' is not a day; use YYYY-MM-DD");
}

}  // namespace fleet::storage
