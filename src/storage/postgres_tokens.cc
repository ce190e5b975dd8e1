#include "storage/postgres_tokens.h"

#include <optional>
#include <string>

#include "storage/postgres_rows.h"

namespace fleet::storage {
namespace {

// Columns in the order ReadToken expects; `server` is the name of the token's server, "" for
// an API token.
constexpr std::string_view kTokenSelect =
    "SELECT t.id, t.name, t.token_hash, t.prefix, t.read_only, COALESCE(s.name, ''), "
    "t.created_at, t.last_used_at, t.revoked_at "
    "FROM api_tokens t LEFT JOIN servers s ON s.id = t.server_id ";

ApiToken ReadToken(const PgRow& row) {
  ApiToken token;
  token.id = row.Int(0);
  token.name = row.Text(1);
  token.token_hash = row.Text(2);
  token.prefix = row.Text(3);
  token.read_only = row.Bool(4);
  token.server = row.Text(5);
  token.created_at = row.Int(6);
  token.last_used_at = row.OptionalInt(7);
  token.revoked_at = row.OptionalInt(8);
  return token;
}

Error NoToken(std::string_view name) {
  return Error{ErrorCode::kNotFound, "no API token named '" + std::string(name) +
                                         "'; list the tokens to see their names"};
}

// A unique violation names the constraint (api_tokens_token_hash_key): the name is the usual
// culprit, a hash collision means the caller reused a token.
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
Result<void> UpdateOne(PgConnection& db, std::string_view sql, const PgParams& params,
                       std::string_view what, const Error& missing) {
  auto done = db.Exec(sql, params, what);
  if (!done) return tl::unexpected(done.error());
  if (done->affected_rows() == 0) return tl::unexpected(missing);
  return {};
}

}  // namespace

Result<ApiToken> InsertApiToken(PgConnection& db, const ApiToken& token, int64_t now) {
  std::optional<int64_t> server_id;
  if (!token.server.empty()) {
    auto id = PgServerId(db, token.server);
    if (!id) {
      return tl::unexpected(
          WithContext(id.error(), "report token '" + token.name + "' not created"));
    }
    server_id = *id;
  }
  auto rows = db.Exec(
      "INSERT INTO api_tokens (name, token_hash, prefix, read_only, server_id, created_at, "
      "last_used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
      PgParams()
          .Text(token.name)
          .Text(token.token_hash)
          .Text(token.prefix)
          .Bool(token.read_only)
          .OptionalInt(server_id)
          .Int(now)
          .OptionalInt(token.last_used_at)
          .OptionalInt(token.revoked_at),
      "create API token '" + token.name + "'");
  if (!rows) return tl::unexpected(TokenTaken(rows.error(), token));
  ApiToken created = token;
  created.id = (*rows)[0].Int(0);
  created.created_at = now;
  return created;
}

Result<std::vector<ApiToken>> SelectApiTokens(PgConnection& db) {
  auto rows = db.Exec(std::string(kTokenSelect) + "ORDER BY t.name", PgParams(), "list API tokens");
  if (!rows) return tl::unexpected(rows.error());
  return rows->All<ApiToken>(ReadToken);
}

Result<ApiToken> SelectApiTokenByHash(PgConnection& db, std::string_view token_hash) {
  // The message never shows the hash: it is as good as a password guess.
  auto rows = db.Exec(std::string(kTokenSelect) + "WHERE t.token_hash = $1",
                      PgParams().Text(token_hash), "look up an API token");
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return MakeError(ErrorCode::kNotFound, "no API token has this hash");
  return ReadToken((*rows)[0]);
}

Result<void> RevokeToken(PgConnection& db, std::string_view name, int64_t now) {
  return UpdateOne(db,
                   "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE name = $1",
                   PgParams().Text(name).Int(now), "revoke API token '" + std::string(name) + "'",
                   NoToken(name));
}

Result<void> TouchToken(PgConnection& db, int64_t id, int64_t now) {
  return UpdateOne(db, "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1",
                   PgParams().Int(id).Int(now), "record the use of API token " + std::to_string(id),
                   Error{ErrorCode::kNotFound, "no API token with id " + std::to_string(id)});
}

}  // namespace fleet::storage
