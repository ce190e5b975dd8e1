#include "storage/sqlite_tokens.h"

#include <optional>
#include <string>

#include "storage/sqlite_rows.h"

namespace fleet::storage {
namespace {

// Columns in the order ReadToken expects; `server` is the name of the token's server, "" for
// an API token.
constexpr std::string_view kTokenSelect =
    "SELECT t.id, t.name, t.token_hash, t.prefix, t.read_only, COALESCE(s.name, ''), "
    "t.created_at, t.last_used_at, t.revoked_at "
    "FROM api_tokens t LEFT JOIN servers s ON s.id = t.server_id ";

ApiToken ReadToken(const Statement& row) {
  ApiToken token;
  token.id = row.ColumnInt(0);
  token.name = row.ColumnText(1);
  token.token_hash = row.ColumnText(2);
  token.prefix = row.ColumnText(3);
  token.read_only = row.ColumnBool(4);
  token.server = row.ColumnText(5);
  token.created_at = row.ColumnInt(6);
  token.last_used_at = row.ColumnOptionalInt(7);
  token.revoked_at = row.ColumnOptionalInt(8);
  return token;
}

Error NoToken(std::string_view name) {
  return Error{ErrorCode::kNotFound, "no API token named '" + std::string(name) +
                                         "'; list the tokens to see their names"};
}

// A unique violation names the column: the name is the usual culprit, a hash collision means
// the caller reused a token.
Error TokenTaken(Error error, const ApiToken& token) {
  if (error.code != ErrorCode::kAlreadyExists) return error;
  if (error.message.find("token_hash") != std::string::npos) {
    return Error{ErrorCode::kAlreadyExists, "API token '" + token.name +
                                                "' was not stored: another token has the same "
                                                "hash; issue a new token"};
  }
  return NameTaken(std::move(error), "API token", token.name);
}

// Runs a one-row UPDATE; `missing` when no row matched.
Result<void> UpdateOne(Statement& stmt, Database& db, const Error& missing) {
  if (auto done = stmt.Run(); !done) return done;
  if (db.Changes() == 0) return tl::unexpected(missing);
  return {};
}

}  // namespace

Result<ApiToken> InsertApiToken(Database& db, const ApiToken& token, int64_t now) {
  std::optional<int64_t> server_id;
  if (!token.server.empty()) {
    auto id = SelectServerId(db, token.server);
    if (!id) {
      return tl::unexpected(
          WithContext(id.error(), "report token '" + token.name + "' not created"));
    }
    server_id = *id;
  }
  auto stmt = db.Prepare(
      "INSERT INTO api_tokens (name, token_hash, prefix, read_only, server_id, created_at, "
      "last_used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
      "create API token '" + token.name + "'");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->BindText(1, token.name)
      .BindText(2, token.token_hash)
      .BindText(3, token.prefix)
      .BindBool(4, token.read_only)
      .BindOptionalInt(5, server_id)
      .BindInt(6, now)
      .BindOptionalInt(7, token.last_used_at)
      .BindOptionalInt(8, token.revoked_at);
  auto row = stmt->Step();
  if (!row) return tl::unexpected(TokenTaken(row.error(), token));
  ApiToken created = token;
  created.id = stmt->ColumnInt(0);
  created.created_at = now;
  if (auto done = stmt->Run(); !done) return tl::unexpected(done.error());
  return created;
}

Result<std::vector<ApiToken>> SelectApiTokens(Database& db) {
  auto stmt = db.Prepare(std::string(kTokenSelect) + "ORDER BY t.name", "list API tokens");
  if (!stmt) return tl::unexpected(stmt.error());
  std::vector<ApiToken> tokens;
  while (true) {
    auto row = stmt->Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return tokens;
    tokens.push_back(ReadToken(*stmt));
  }
}

Result<ApiToken> SelectApiTokenByHash(Database& db, std::string_view token_hash) {
  // The message never shows the hash: it is as good as a password guess.
  auto stmt =
      db.Prepare(std::string(kTokenSelect) + "WHERE t.token_hash = $1", "look up an API token");
  if (!stmt) return tl::unexpected(stmt.error());
  auto row = stmt->BindText(1, token_hash).Step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return MakeError(ErrorCode::kNotFound, "no API token has this hash");
  return ReadToken(*stmt);
}

Result<void> RevokeToken(Database& db, std::string_view name, int64_t now) {
  auto stmt =
      db.Prepare("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE name = $1",
                 "revoke API token '" + std::string(name) + "'");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->BindText(1, name).BindInt(2, now);
  return UpdateOne(*stmt, db, NoToken(name));
}

Result<void> TouchToken(Database& db, int64_t id, int64_t now) {
  auto stmt = db.Prepare("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1",
                         "record the use of API token " + std::to_string(id));
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->BindInt(1, id).BindInt(2, now);
  return UpdateOne(*stmt, db,
                   Error{ErrorCode::kNotFound, "no API token with id " + std::to_string(id)});
}

}  // namespace fleet::storage
