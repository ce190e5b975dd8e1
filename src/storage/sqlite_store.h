#pragma once

#include <memory>
#include <string>

#include "core/error.h"
#include "storage/store.h"

namespace fleet::storage {

// The schema version this build writes. Older databases are migrated in place on open.
int CurrentSchemaVersion();

struct SqliteOptions {
  std::string path{};  // ":memory:" for tests
  bool create{true};   // create the file (mode 0600) if missing
  int busy_timeout_ms{5000};
};

// Opens (creating and migrating as needed) a SQLite database in WAL mode with foreign keys on.
// kCorrupt when the file is not a SQLite database or fails its header check; kIo otherwise.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

// ---- file-level administration (db backup / restore / compact)

// Consistent online copy of `source` into `destination` (SQLite backup API); the copy is 0600.
[[nodiscard]] Result<void> BackupSqlite(const std::string& source, const std::string& destination);
// Checks that `path` is a SQLite database written by n8n-fleet (schema_version table present,
// PRAGMA integrity_check ok); returns its schema version.
Result<int> ValidateFleetDatabase(const std::string& path);
// VACUUM; returns the size in bytes before and after.
Result<std::pair<int64_t, int64_t>> CompactSqlite(const std::string& path);

}  // namespace fleet::storage
