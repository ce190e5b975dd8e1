#include "storage/sqlite_rows.h"

#include <string>

namespace fleet::storage {

Error NoServer(std::string_view name) {
  return Error{ErrorCode::kNotFound, "no server named '" + std::string(name) +
                                         "'; `n8n-fleet server list` shows the registered servers"};
}

Result<int64_t> SelectServerId(Database& db, std::string_view name) {
  auto stmt = db.Prepare("SELECT id FROM servers WHERE name = $1",
                         "read server '" + std::string(name) + "'");
  if (!stmt) return tl::unexpected(stmt.error());
  auto row = stmt->BindText(1, name).Step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return tl::unexpected(NoServer(name));
  return stmt->ColumnInt(0);
}

Error NoKey(std::string_view name) {
  return Error{ErrorCode::kNotFound, "no API key named '" + std::string(name) +
                                         "'; `n8n-fleet apikey list` shows the stored keys"};
}

Error NameTaken(Error error, std::string_view what, std::string_view name) {
  if (error.code != ErrorCode::kAlreadyExists) return error;
  return Error{ErrorCode::kAlreadyExists,
               std::string(what) + " '" + std::string(name) + "' already exists"};
}

Server ReadServer(const Statement& row) {
  Server server;
  server.id = row.ColumnInt(0);
  server.name = row.ColumnText(1);
  server.url = row.ColumnText(2);
  server.customer = row.ColumnText(3);
  server.description = row.ColumnText(4);
  server.skip_tls_verify = row.ColumnBool(5);
  server.auth = ParseAuthMode(row.ColumnText(6)).value_or(AuthMode::kApiKey);
  server.subject_email = row.ColumnText(7);
  server.subject_role = row.ColumnText(8);
  server.active = row.ColumnBool(9);
  server.tracking_since = row.ColumnText(10);
  server.created_at = row.ColumnInt(11);
  server.updated_at = row.ColumnInt(12);
  return server;
}

Statement& BindServer(Statement& stmt, const Server& server) {
  return stmt.BindText(1, server.name)
      .BindText(2, server.url)
      .BindText(3, server.customer)
      .BindText(4, server.description)
      .BindBool(5, server.skip_tls_verify)
      .BindText(6, AuthModeName(server.auth))
      .BindText(7, server.subject_email)
      .BindText(8, server.subject_role)
      .BindBool(9, server.active)
      .BindText(10, server.tracking_since);
}

bool SameStoredFields(const Server& a, const Server& b) {
  return a.url == b.url && a.customer == b.customer && a.description == b.description &&
         a.skip_tls_verify == b.skip_tls_verify && a.auth == b.auth &&
         a.subject_email == b.subject_email && a.subject_role == b.subject_role &&
         a.active == b.active && a.tracking_since == b.tracking_since;
}

ApiKey ReadKey(const Statement& row) {
  ApiKey key;
  key.id = row.ColumnInt(0);
  key.name = row.ColumnText(1);
  key.sealed_secret = row.ColumnBlob(2);
  key.masked = row.ColumnText(3);
  key.description = row.ColumnText(4);
  key.active = row.ColumnBool(5);
  key.issued_at = row.ColumnOptionalInt(6);
  key.expires_at = row.ColumnOptionalInt(7);
  key.created_at = row.ColumnInt(8);
  key.last_used_at = row.ColumnOptionalInt(9);
  return key;
}

}  // namespace fleet::storage
