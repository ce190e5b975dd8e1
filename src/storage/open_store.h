#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "storage/store.h"

namespace fleet::storage {

// Where the database is: a SQLite file or a PostgreSQL server, as given by --db / N8N_FLEET_DB.
struct DatabaseLocation {
  enum class Backend { kSqlite, kPostgres };
  Backend backend{Backend::kSqlite};
  std::string target{};  // the file path, or the connection URL (with its password, if any)

  // What may be shown: the path, or the URL with its password replaced by "***".
  std::string display() const;
  // "sqlite" or "postgresql" (as StoreStatus::backend).
  std::string_view backend_name() const;
  // Replaces this location's secrets (the URL, its password) in `text` by their redacted form,
  // for messages that may have quoted them.
  std::string Scrub(std::string_view text) const;
};

// "postgresql://..." or "postgres://..." (scheme case-insensitive) selects PostgreSQL; anything
// else without a "scheme://" prefix is a SQLite file path. kInvalidArgument for an empty text or
// another scheme (mysql://...); the message never quotes the text past its scheme.
Result<DatabaseLocation> ParseDatabaseLocation(std::string_view text);

// Opens the store at `location`: OpenSqliteStore (creating the file when `create`) or
// OpenPostgresStore (which always creates its tables). Error messages never carry the password.
Result<std::unique_ptr<Store>> OpenStore(const DatabaseLocation& location, bool create);

}  // namespace fleet::storage
