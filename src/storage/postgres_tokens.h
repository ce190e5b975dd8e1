#pragma once

// The API tokens and report tokens of the PostgreSQL store; private to the storage module. Only
// hashes are stored. InsertApiToken expects to run inside a transaction (PostgresStore wraps it).

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/types.h"
#include "storage/postgres_db.h"

namespace fleet::storage {

// Fills id and created_at (= now). kAlreadyExists for a taken name or hash; kNotFound when
// `token.server` names no server.
Result<ApiToken> InsertApiToken(PgConnection& db, const ApiToken& token, int64_t now);
Result<std::vector<ApiToken>> SelectApiTokens(PgConnection& db);  // by name
// kNotFound when no token has this hash (revoked ones included).
Result<ApiToken> SelectApiTokenByHash(PgConnection& db, std::string_view token_hash);
// Sets revoked_at unless already set; kNotFound for an unknown name.
[[nodiscard]] Result<void> RevokeToken(PgConnection& db, std::string_view name, int64_t now);
// Sets last_used_at; kNotFound for an unknown id.
[[nodiscard]] Result<void> TouchToken(PgConnection& db, int64_t id, int64_t now);

}  // namespace fleet::storage
