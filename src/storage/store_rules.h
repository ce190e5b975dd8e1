#pragma once

// What both Store backends say and check the same way, whatever their SQL: names in messages,
// argument checks, and the columns they read a row from. Keeping one copy keeps the backends'
// errors identical (the contract suite compares them).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/types.h"

namespace fleet::storage {

// ---- signing keys
inline constexpr std::string_view kSigningKeyColumns =
    "id, kid, alg, issuer, sealed_private_key, public_pem, state, created_at, activated_at, "
    "retired_at";
inline constexpr std::string_view kSigningKeyListHint = "`n8n-fleet key list` shows the keys";
std::optional<SigningKeyState> ParseSigningKeyState(std::string_view text);
Error NoSigningKey(std::string_view kid);  // kNotFound, pointing to `key list`

// ---- the work queue
std::string RunName(int64_t run_id);                            // "collection run 7"
std::string UnitName(int64_t run_id, std::string_view server);  // "server 'a' in collection run 7"
// kInvalidArgument for an empty owner or a lease shorter than a second.
[[nodiscard]] Result<void> CheckLease(std::string_view owner, int64_t lease_seconds);

}  // namespace fleet::storage
