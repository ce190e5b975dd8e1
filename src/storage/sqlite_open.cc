// Opening a fleet SQLite database: create the file privately, tell a database from anything
// else, configure the connection and migrate the schema.

#include <ctime>

#include "storage/migrations.h"
#include "storage/sqlite_db.h"
#include "storage/sqlite_store.h"
#include "storage/sqlite_store_internal.h"

namespace fleet::storage {
namespace {

Error NotAFleetDatabase(const std::string& path, std::string_view reason) {
  return Error{ErrorCode::kCorrupt,
               "'" + path + "' is not a usable n8n-fleet database (" + std::string(reason) +
                   "); check the path, or restore a backup with `n8n-fleet db restore`"};
}

}  // namespace

int CurrentSchemaVersion() { return FleetMigrations().back().version; }

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  const std::string& path = options.path;
  if (path.empty()) return MakeError(ErrorCode::kInvalidArgument, "no database path given");
  const bool in_memory = path == ":memory:";
  if (!in_memory && !FileExists(path)) {
    if (!options.create) {
      return MakeError(ErrorCode::kNotFound, "database file '" + path +
                                                 "' does not exist; check the path or let "
                                                 "n8n-fleet create it");
    }
    auto created = CreatePrivateFile(path, "database file");
    if (!created && created.error().code != ErrorCode::kAlreadyExists) {  // lost a race: fine
      return tl::unexpected(created.error());
    }
  }
  auto db = Database::Open(path, SQLITE_OPEN_READWRITE | (in_memory ? SQLITE_OPEN_CREATE : 0));
  if (!db) return tl::unexpected(db.error());
  sqlite3_busy_timeout(db->get(), options.busy_timeout_ms);

  // The first read of the header tells a database from anything else.
  auto tables = db->QueryInt("SELECT COUNT(*) FROM sqlite_master", "read the schema");
  if (!tables) {
    if (tables.error().code == ErrorCode::kCorrupt) {
      return tl::unexpected(NotAFleetDatabase(path, tables.error().message));
    }
    return tl::unexpected(WithContext(tables.error(), "database '" + path + "'"));
  }
  if (*tables > 0 && !db->TableExists("schema_version")) {
    return tl::unexpected(NotAFleetDatabase(path, "it holds tables but no schema_version table"));
  }
  const std::string_view pragmas =
      in_memory
          ? "PRAGMA foreign_keys = ON"
          : "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL";
  if (auto set = db->Exec(pragmas, "configure database '" + path + "'"); !set) {
    return tl::unexpected(set.error());
  }
  auto version = Migrate(*db, FleetMigrations(), CurrentSchemaVersion(),
                         static_cast<int64_t>(std::time(nullptr)));
  if (!version) return tl::unexpected(WithContext(version.error(), "database '" + path + "'"));
  if (!in_memory) {
    if (auto modes = RestrictDatabaseFileModes(path); !modes) return tl::unexpected(modes.error());
  }
  return NewSqliteStore(std::move(*db), path);
}

}  // namespace fleet::storage
