#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "storage/store.h"

namespace fleet::storage {

struct PostgresOptions {
  std::string url{};     // postgresql://user[:pw]@host:port/db
  std::string schema{};  // "" = public; tests use a fresh schema each
};

// Connects, creates the schema's tables (migrating as needed, concurrent openers safe: take
// pg_advisory_xact_lock in the migration transaction) and returns the store. kIo (message naming
// host/db, never the password) when the server cannot be reached.
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options);

// The URL with any password replaced by "***" (for logs, `db status`).
std::string RedactPostgresUrl(std::string_view url);

}  // namespace fleet::storage
