// File-level administration of a fleet SQLite database: backup, validation, compaction.

#include <cstdio>

#include "storage/migrations.h"
#include "storage/sqlite_db.h"
#include "storage/sqlite_store.h"

namespace fleet::storage {
namespace {

Error MissingFile(const std::string& path) {
  return Error{ErrorCode::kNotFound, "database file '" + path + "' does not exist"};
}

// Errors reading a file that is not a (healthy) database become kCorrupt naming the file.
Error AsCorrupt(const Error& error, const std::string& path) {
  if (error.code != ErrorCode::kCorrupt) return error;
  return Error{ErrorCode::kCorrupt,
               "'" + path + "' is not a healthy SQLite database (" + error.message + ")"};
}

[[nodiscard]] Result<void> CopyPages(Database& source, Database& destination) {
  sqlite3_backup* backup = sqlite3_backup_init(destination.get(), "main", source.get(), "main");
  if (backup == nullptr) {
    return tl::unexpected(SqliteError(destination.get(),
                                      sqlite3_extended_errcode(destination.get()), "start backup"));
  }
  int rc = SQLITE_OK;
  do {
    rc = sqlite3_backup_step(backup, -1);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(50);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    // The source's failures (not a database, corrupt) are reported on the source handle.
    const int source_rc = sqlite3_extended_errcode(source.get());
    if (IsCorruptionCode(source_rc)) return tl::unexpected(SqliteError(source.get(), rc, "backup"));
    return tl::unexpected(SqliteError(destination.get(), rc, "backup"));
  }
  return {};
}

}  // namespace

Result<void> BackupSqlite(const std::string& source, const std::string& destination) {
  if (!FileExists(source)) return tl::unexpected(MissingFile(source));
  auto from = Database::Open(source, SQLITE_OPEN_READWRITE);
  if (!from) return tl::unexpected(from.error());
  // Read the header now so a non-database fails before the destination is created.
  if (auto read = from->QueryInt("SELECT COUNT(*) FROM sqlite_master", "read the source"); !read) {
    return tl::unexpected(AsCorrupt(read.error(), source));
  }

  if (auto created = CreatePrivateFile(destination, "backup file"); !created) {
    if (created.error().code == ErrorCode::kAlreadyExists) {
      return MakeError(ErrorCode::kAlreadyExists,
                       "backup destination '" + destination +
                           "' already exists; choose a new file name or remove it first");
    }
    return created;
  }
  auto copied = [&]() -> Result<void> {
    auto to = Database::Open(destination, SQLITE_OPEN_READWRITE);
    if (!to) return tl::unexpected(to.error());
    if (auto pages = CopyPages(*from, *to); !pages) {
      return tl::unexpected(WithContext(AsCorrupt(pages.error(), source),
                                        "back up '" + source + "' to '" + destination + "'"));
    }
    return RestrictDatabaseFileModes(destination);
  }();
  if (!copied) {
    std::remove(destination.c_str());
    return copied;
  }
  return {};
}

Result<int> ValidateFleetDatabase(const std::string& path) {
  if (!FileExists(path)) return tl::unexpected(MissingFile(path));
  auto db = Database::Open(path, SQLITE_OPEN_READONLY);
  if (!db) return tl::unexpected(AsCorrupt(db.error(), path));
  auto check = db->Prepare("PRAGMA integrity_check", "check integrity of '" + path + "'");
  if (!check) return tl::unexpected(AsCorrupt(check.error(), path));
  std::string problems;
  int problem_count = 0;
  while (true) {
    auto row = check->Step();
    if (!row) return tl::unexpected(AsCorrupt(row.error(), path));
    if (!*row) break;
    const std::string line = check->ColumnText(0);
    if (line == "ok") continue;
    if (++problem_count <= 3) problems += (problems.empty() ? "" : "; ") + line;
  }
  if (problem_count > 0) {
    return MakeError(ErrorCode::kCorrupt, "'" + path + "' failed its integrity check (" + problems +
                                              "); restore a backup with `n8n-fleet db restore`");
  }
  if (!db->TableExists("schema_version")) {
    return MakeError(ErrorCode::kCorrupt,
                     "'" + path +
                         "' is a SQLite database but not an n8n-fleet one (no schema_version "
                         "table)");
  }
  auto version = ReadSchemaVersion(*db);
  if (!version) return tl::unexpected(AsCorrupt(version.error(), path));
  if (*version <= 0) {
    return MakeError(ErrorCode::kCorrupt, "'" + path + "' has an empty schema_version table");
  }
  return *version;
}

Result<std::pair<int64_t, int64_t>> CompactSqlite(const std::string& path) {
  if (!FileExists(path)) return tl::unexpected(MissingFile(path));
  const int64_t before = DatabaseSizeOnDisk(path);
  {
    auto db = Database::Open(path, SQLITE_OPEN_READWRITE);
    if (!db) return tl::unexpected(db.error());
    sqlite3_busy_timeout(db->get(), 5000);
    if (auto vacuum = db->Exec("VACUUM", "compact '" + path + "'"); !vacuum) {
      return tl::unexpected(AsCorrupt(vacuum.error(), path));
    }
    // Fold the WAL back into the file so the size after reflects the compaction.
    if (auto checkpoint = db->Exec("PRAGMA wal_checkpoint(TRUNCATE)", "compact '" + path + "'");
        !checkpoint) {
      return tl::unexpected(checkpoint.error());
    }
    if (auto modes = RestrictDatabaseFileModes(path); !modes) return tl::unexpected(modes.error());
  }
  return std::make_pair(before, DatabaseSizeOnDisk(path));
}

}  // namespace fleet::storage
