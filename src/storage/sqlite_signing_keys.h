#pragma once

// The signing-key rows of the SQLite store; private to the storage module. The functions that
// read then write expect to run inside a transaction (SqliteStore wraps them in one).

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/types.h"
#include "storage/sqlite_db.h"

namespace fleet::storage {

// Stores `key` in its state with created_at = `now` (and activated_at / retired_at = `now` when
// created active / retired); demotes the current active key first when `key` is active.
Result<SigningKey> InsertSigningKey(Database& db, const SigningKey& key, int64_t now);
Result<SigningKey> SelectSigningKey(Database& db, std::string_view kid);
Result<std::vector<SigningKey>> SelectSigningKeys(Database& db);  // oldest first
Result<SigningKey> SelectActiveSigningKey(Database& db);
// Demotes the active key to standby and activates `kid`; a no-op when `kid` is already active.
[[nodiscard]] Result<void> MakeSigningKeyActive(Database& db, std::string_view kid, int64_t now);
// A no-op when `kid` is already retired (its first retired_at stays).
[[nodiscard]] Result<void> MakeSigningKeyRetired(Database& db, std::string_view kid, int64_t now);

}  // namespace fleet::storage
