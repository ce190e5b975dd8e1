#pragma once

// The signing-key rows of the PostgreSQL store; private to the storage module. The functions that
// read then write expect to run inside a transaction (PostgresStore wraps them in one).

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/types.h"
#include "storage/postgres_db.h"

namespace fleet::storage {

// Stores `key` in its state with created_at = `now` (and activated_at / retired_at = `now` when
// created active / retired); demotes the current active key first when `key` is active.
Result<SigningKey> InsertSigningKey(PgConnection& db, const SigningKey& key, int64_t now);
Result<SigningKey> SelectSigningKey(PgConnection& db, std::string_view kid);
Result<std::vector<SigningKey>> SelectSigningKeys(PgConnection& db);  // oldest first
Result<SigningKey> SelectActiveSigningKey(PgConnection& db);
// Demotes the active key to standby and activates `kid`; a no-op when `kid` is already active.
[[nodiscard]] Result<void> MakeSigningKeyActive(PgConnection& db, std::string_view kid,
                                                int64_t now);
// A no-op when `kid` is already retired (its first retired_at stays).
[[nodiscard]] Result<void> MakeSigningKeyRetired(PgConnection& db, std::string_view kid,
                                                 int64_t now);

}  // namespace fleet::storage
