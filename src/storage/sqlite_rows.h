#pragma once

// How the SQLite store maps rows and names its errors; private to the storage module.

#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "core/types.h"
#include "storage/sqlite_db.h"

namespace fleet::storage {

// Column lists in the order ReadServer / ReadKey expect.
inline constexpr std::string_view kServerColumns =
    "id, name, url, customer, description, skip_tls_verify, auth, subject_email, subject_role, "
    "active, tracking_since, created_at, updated_at";
inline constexpr std::string_view kKeyColumns =
    "id, name, sealed_secret, masked, description, active, issued_at, expires_at, created_at, "
    "last_used_at";

Server ReadServer(const Statement& row);
ApiKey ReadKey(const Statement& row);
// Binds $1 = name and $2..$10 = the mutable columns, in kServerColumns order.
Statement& BindServer(Statement& stmt, const Server& server);
// Every column an update replaces is equal (id, name and timestamps are not compared).
bool SameStoredFields(const Server& a, const Server& b);

// The id of the server named `name`; kNotFound (NoServer) when there is none.
Result<int64_t> SelectServerId(Database& db, std::string_view name);

Error NoServer(std::string_view name);
Error NoKey(std::string_view name);
// Replaces the message of a unique violation with "<what> '<name>' already exists"; passes other
// errors through.
Error NameTaken(Error error, std::string_view what, std::string_view name);

}  // namespace fleet::storage
