#include "storage/postgres_signing_keys.h"

#include <optional>
#include <string>

#include "storage/store_rules.h"

namespace fleet::storage {
namespace {

SigningKey ReadSigningKey(const PgRow& row) {
  SigningKey key;
  key.id = row.Int(0);
  key.kid = row.Text(1);
  key.alg = row.Text(2);
  key.issuer = row.Text(3);
  key.sealed_private_key = row.Bytes(4);
  key.public_pem = row.Text(5);
  // The CHECK constraint admits only known states; anything else must never sign.
  key.state = ParseSigningKeyState(row.Text(6)).value_or(SigningKeyState::kRetired);
  key.created_at = row.Int(7);
  key.activated_at = row.OptionalInt(8);
  key.retired_at = row.OptionalInt(9);
  return key;
}

// Every row matching `where` (which may use $1 = `kid`), oldest first.
Result<std::vector<SigningKey>> Select(PgConnection& db, std::string_view where,
                                       std::optional<std::string_view> kid, std::string_view what) {
  PgParams params;
  if (kid.has_value()) params.Text(*kid);
  auto rows = db.Exec("SELECT " + std::string(kSigningKeyColumns) + " FROM signing_keys " +
                          std::string(where) + " ORDER BY created_at, id",
                      params, what);
  if (!rows) return tl::unexpected(rows.error());
  return rows->All<SigningKey>(ReadSigningKey);
}

[[nodiscard]] Result<void> DemoteActive(PgConnection& db, std::string_view what) {
  auto done = db.Exec("UPDATE signing_keys SET state = 'standby' WHERE state = 'active'", what);
  if (!done) return tl::unexpected(done.error());
  return {};
}

}  // namespace

Result<SigningKey> InsertSigningKey(PgConnection& db, const SigningKey& key, int64_t now) {
  const std::string what = "create signing key '" + key.kid + "'";
  SigningKey created = key;
  created.created_at = now;
  if (key.state == SigningKeyState::kActive) {
    created.activated_at = now;
    if (auto demoted = DemoteActive(db, what); !demoted) return tl::unexpected(demoted.error());
  }
  if (key.state == SigningKeyState::kRetired) created.retired_at = now;
  auto rows = db.Exec(
      "INSERT INTO signing_keys (kid, alg, issuer, sealed_private_key, public_pem, state, "
      "created_at, activated_at, retired_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
      "RETURNING id",
      PgParams()
          .Text(created.kid)
          .Text(created.alg)
          .Text(created.issuer)
          .Bytes(created.sealed_private_key)
          .Text(created.public_pem)
          .Text(SigningKeyStateName(created.state))
          .Int(created.created_at)
          .OptionalInt(created.activated_at)
          .OptionalInt(created.retired_at),
      what);
  if (!rows) {
    if (rows.error().code != ErrorCode::kAlreadyExists) return tl::unexpected(rows.error());
    return MakeError(ErrorCode::kAlreadyExists, "signing key '" + key.kid +
                                                    "' already exists; choose another kid (" +
                                                    std::string(kSigningKeyListHint) + ")");
  }
  created.id = (*rows)[0].Int(0);
  return created;
}

Result<SigningKey> SelectSigningKey(PgConnection& db, std::string_view kid) {
  auto keys = Select(db, "WHERE kid = $1", kid, "read signing key '" + std::string(kid) + "'");
  if (!keys) return tl::unexpected(keys.error());
  if (keys->empty()) return tl::unexpected(NoSigningKey(kid));
  return std::move(keys->front());
}

Result<std::vector<SigningKey>> SelectSigningKeys(PgConnection& db) {
  return Select(db, "", std::nullopt, "list signing keys");
}

Result<SigningKey> SelectActiveSigningKey(PgConnection& db) {
  auto keys = Select(db, "WHERE state = 'active'", std::nullopt, "read the active signing key");
  if (!keys) return tl::unexpected(keys.error());
  if (keys->empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "no active signing key; create one with `n8n-fleet key generate`, or "
                     "activate a standby key with `n8n-fleet key activate <kid>` (" +
                         std::string(kSigningKeyListHint) + ")");
  }
  return std::move(keys->front());
}

Result<void> MakeSigningKeyActive(PgConnection& db, std::string_view kid, int64_t now) {
  const std::string what = "activate signing key '" + std::string(kid) + "'";
  auto key = SelectSigningKey(db, kid);
  if (!key) return tl::unexpected(key.error());
  if (key->state == SigningKeyState::kActive) return {};
  if (key->state == SigningKeyState::kRetired) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "signing key '" + std::string(kid) +
                         "' is retired and cannot be activated again; create a new one with "
                         "`n8n-fleet key generate` (" +
                         std::string(kSigningKeyListHint) + ")");
  }
  if (auto demoted = DemoteActive(db, what); !demoted) return demoted;
  auto done = db.Exec("UPDATE signing_keys SET state = 'active', activated_at = $2 WHERE id = $1",
                      PgParams().Int(key->id).Int(now), what);
  if (!done) return tl::unexpected(done.error());
  return {};
}

Result<void> MakeSigningKeyRetired(PgConnection& db, std::string_view kid, int64_t now) {
  auto key = SelectSigningKey(db, kid);
  if (!key) return tl::unexpected(key.error());
  if (key->state == SigningKeyState::kRetired) return {};
  auto done =
      db.Exec("UPDATE signing_keys SET state = 'retired', retired_at = $2 WHERE id = $1",
              PgParams().Int(key->id).Int(now), "retire signing key '" + std::string(kid) + "'");
  if (!done) return tl::unexpected(done.error());
  return {};
}

}  // namespace fleet::storage
