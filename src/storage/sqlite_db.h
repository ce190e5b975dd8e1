#pragma once

// Small RAII layer over the sqlite3 C API, private to the storage module.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace fleet::storage {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct SqliteFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqliteHandle = std::unique_ptr<sqlite3, SqliteCloser>;
using StatementHandle = std::unique_ptr<sqlite3_stmt, SqliteFinalizer>;

// Maps a SQLite result code to an Error naming `operation`: unique violations become
// kAlreadyExists, damaged files kCorrupt, a full disk or I/O errors kIo, everything else kIo.
// Callers replace the message when they know better (e.g. "server 'x' already exists").
Error SqliteError(sqlite3* db, int rc, std::string_view operation);

// True for SQLITE_NOTADB and SQLITE_CORRUPT (and their extended codes).
bool IsCorruptionCode(int rc);

// A prepared statement. Bind index N fills the parameter "$N" (PostgreSQL style, whatever its
// position in the SQL) or else the N-th parameter; column indexes are 0-based. A failed bind is
// remembered and reported by the next Step(), so binding chains without checks.
class Statement {
 public:
  Statement(sqlite3* db, StatementHandle stmt, std::string operation)
      : db_(db), stmt_(std::move(stmt)), operation_(std::move(operation)) {}

  Statement& BindInt(int index, int64_t value);
  Statement& BindBool(int index, bool value) { return BindInt(index, value ? 1 : 0); }
  Statement& BindOptionalInt(int index, std::optional<int64_t> value);
  Statement& BindDouble(int index, double value);
  Statement& BindText(int index, std::string_view value);
  Statement& BindBlob(int index, std::string_view value);

  // Advances: true when a row is available, false when done.
  Result<bool> Step();
  // Steps until done, ignoring rows.
  [[nodiscard]] Result<void> Run();
  // Makes the statement ready to run again (bindings are kept until rebound), for batches that
  // reuse one prepared statement per row.
  Statement& Reset();

  int64_t ColumnInt(int index) const;
  bool ColumnBool(int index) const { return ColumnInt(index) != 0; }
  std::optional<int64_t> ColumnOptionalInt(int index) const;
  double ColumnDouble(int index) const;     // NULL reads as 0
  std::string ColumnText(int index) const;  // NULL reads as ""
  std::string ColumnBlob(int index) const;  // NULL reads as ""
  bool ColumnIsNull(int index) const;
  int ColumnType(int index) const;  // SQLITE_INTEGER, SQLITE_TEXT, ...

 private:
  int Slot(int index) const;

  sqlite3* db_{};
  StatementHandle stmt_{};
  std::string operation_{};
  int bind_rc_{SQLITE_OK};
};

// An open connection.
class Database {
 public:
  // sqlite3_open_v2 with `flags`; a handle is returned even on failure so the caller can read
  // the message, hence the error comes back with the path in it.
  static Result<Database> Open(const std::string& path, int flags);

  sqlite3* get() const { return handle_.get(); }

  // Runs constant SQL (possibly several statements) without parameters.
  [[nodiscard]] Result<void> Exec(std::string_view sql, std::string_view operation);
  Result<Statement> Prepare(std::string_view sql, std::string_view operation);
  // Runs a statement whose first column of the first row is an integer (e.g. COUNT(*)).
  Result<int64_t> QueryInt(std::string_view sql, std::string_view operation);
  bool TableExists(std::string_view table);
  int64_t Changes() const { return sqlite3_changes64(handle_.get()); }

 private:
  explicit Database(SqliteHandle handle) : handle_(std::move(handle)) {}
  SqliteHandle handle_{};
};

// Size of a file in bytes, 0 if it does not exist.
int64_t FileSizeOrZero(const std::string& path);
// Size of a SQLite database file plus its -wal file.
int64_t DatabaseSizeOnDisk(const std::string& path);
bool FileExists(const std::string& path);
// Creates `path` empty with mode 0600; kAlreadyExists if it exists. `what` names the file
// in messages ("database file", "backup file").
[[nodiscard]] Result<void> CreatePrivateFile(const std::string& path, std::string_view what);
// Sets mode 0600 on `path` and its -wal/-shm companions when they exist.
[[nodiscard]] Result<void> RestrictDatabaseFileModes(const std::string& path);

}  // namespace fleet::storage
