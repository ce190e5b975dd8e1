#include "storage/sqlite_signing_keys.h"

#include <optional>
#include <string>

#include "storage/store_rules.h"

namespace fleet::storage {
namespace {

SigningKey ReadSigningKey(const Statement& row) {
  SigningKey key;
  key.id = row.ColumnInt(0);
  key.kid = row.ColumnText(1);
  key.alg = row.ColumnText(2);
  key.issuer = row.ColumnText(3);
  key.sealed_private_key = row.ColumnBlob(4);
  key.public_pem = row.ColumnText(5);
  // The CHECK constraint admits only known states; anything else must never sign.
  key.state = ParseSigningKeyState(row.ColumnText(6)).value_or(SigningKeyState::kRetired);
  key.created_at = row.ColumnInt(7);
  key.activated_at = row.ColumnOptionalInt(8);
  key.retired_at = row.ColumnOptionalInt(9);
  return key;
}

// Every row matching `where` (which may use $1 = `kid`), oldest first.
Result<std::vector<SigningKey>> Select(Database& db, std::string_view where,
                                       std::optional<std::string_view> kid, std::string_view what) {
  auto stmt = db.Prepare("SELECT " + std::string(kSigningKeyColumns) + " FROM signing_keys " +
                             std::string(where) + " ORDER BY created_at, id",
                         what);
  if (!stmt) return tl::unexpected(stmt.error());
  if (kid.has_value()) stmt->BindText(1, *kid);
  std::vector<SigningKey> keys;
  while (true) {
    auto row = stmt->Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return keys;
    keys.push_back(ReadSigningKey(*stmt));
  }
}

[[nodiscard]] Result<void> DemoteActive(Database& db, std::string_view what) {
  return db.Exec("UPDATE signing_keys SET state = 'standby' WHERE state = 'active'", what);
}

}  // namespace

Result<SigningKey> InsertSigningKey(Database& db, const SigningKey& key, int64_t now) {
  const std::string what = "create signing key '" + key.kid + "'";
  SigningKey created = key;
  created.created_at = now;
  if (key.state == SigningKeyState::kActive) {
    created.activated_at = now;
    if (auto demoted = DemoteActive(db, what); !demoted) return tl::unexpected(demoted.error());
  }
  if (key.state == SigningKeyState::kRetired) created.retired_at = now;
  auto stmt = db.Prepare(
      "INSERT INTO signing_keys (kid, alg, issuer, sealed_private_key, public_pem, state, "
      "created_at, activated_at, retired_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
      "RETURNING id",
      what);
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->BindText(1, created.kid)
      .BindText(2, created.alg)
      .BindText(3, created.issuer)
      .BindBlob(4, created.sealed_private_key)
      .BindText(5, created.public_pem)
      .BindText(6, SigningKeyStateName(created.state))
      .BindInt(7, created.created_at)
      .BindOptionalInt(8, created.activated_at)
      .BindOptionalInt(9, created.retired_at);
  auto row = stmt->Step();
  if (!row) {
    if (row.error().code != ErrorCode::kAlreadyExists) return tl::unexpected(row.error());
    return MakeError(ErrorCode::kAlreadyExists, "signing key '" + key.kid +
                                                    "' already exists; choose another kid (" +
                                                    std::string(kSigningKeyListHint) + ")");
  }
  created.id = stmt->ColumnInt(0);
  if (auto done = stmt->Run(); !done) return tl::unexpected(done.error());
  return created;
}

Result<SigningKey> SelectSigningKey(Database& db, std::string_view kid) {
  auto keys = Select(db, "WHERE kid = $1", kid, "read signing key '" + std::string(kid) + "'");
  if (!keys) return tl::unexpected(keys.error());
  if (keys->empty()) return tl::unexpected(NoSigningKey(kid));
  return std::move(keys->front());
}

Result<std::vector<SigningKey>> SelectSigningKeys(Database& db) {
  return Select(db, "", std::nullopt, "list signing keys");
}

Result<SigningKey> SelectActiveSigningKey(Database& db) {
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

Result<void> MakeSigningKeyActive(Database& db, std::string_view kid, int64_t now) {
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
  auto stmt =
      db.Prepare("UPDATE signing_keys SET state = 'active', activated_at = $2 WHERE id = $1", what);
  if (!stmt) return tl::unexpected(stmt.error());
  return stmt->BindInt(1, key->id).BindInt(2, now).Run();
}

Result<void> MakeSigningKeyRetired(Database& db, std::string_view kid, int64_t now) {
  auto key = SelectSigningKey(db, kid);
  if (!key) return tl::unexpected(key.error());
  if (key->state == SigningKeyState::kRetired) return {};
  auto stmt = db.Prepare("UPDATE signing_keys SET state = 'retired', retired_at = $2 WHERE id = $1",
                         "retire signing key '" + std::string(kid) + "'");
  if (!stmt) return tl::unexpected(stmt.error());
  return stmt->BindInt(1, key->id).BindInt(2, now).Run();
}

}  // namespace fleet::storage
