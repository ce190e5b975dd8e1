#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/error.h"
#include "storage/sqlite_db.h"

namespace fleet::storage {

// One step of the schema. The SQL is constant and kept portable (it is meant to run on
// PostgreSQL too where the dialects agree).
struct Migration {
  int version{};
  std::string_view description{};
  std::string_view sql{};
};

// Every migration of the fleet schema, oldest first; the last one's version is
// CurrentSchemaVersion().
std::span<const Migration> FleetMigrations();

// The highest applied version; 0 for a database without a schema_version table.
Result<int> ReadSchemaVersion(Database& db);

// Applies, in order and each in its own transaction, the migrations whose version is above the
// database's and at most `target`. kFailedPrecondition when the database is already newer than
// `target` (written by a newer n8n-fleet). Returns the resulting version.
Result<int> Migrate(Database& db, std::span<const Migration> migrations, int target, int64_t now);

}  // namespace fleet::storage
