#include "storage/sqlite_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fleet::storage {

bool IsCorruptionCode(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT;
}

namespace {

// True when `path` or its directory cannot be written (a read-only filesystem refuses even root;
// SQLite needs the directory for its -wal and -shm files).
bool NotWritable(const std::string& path) {
  std::string dir = path.substr(0, path.find_last_of('/') + 1);
  for (const std::string& target : {path, dir.empty() ? std::string(".") : dir}) {
    if (::access(target.c_str(), W_OK) != 0 && (errno == EROFS || errno == EACCES)) return true;
  }
  return false;
}

// Why the file cannot be written, and what to do, when that is the cause of `rc`; else "".
std::string UnwritableHint(sqlite3* db, int rc) {
  const int primary = rc & 0xff;
  // The OS's reason behind an I/O error (stale after other errors, so only then).
  const bool io = primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN;
  const int system_errno = io && db != nullptr ? sqlite3_system_errno(db) : 0;
  const char* file = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
  const std::string path = file != nullptr && *file != '\0' ? file : "the database";
  if (primary == SQLITE_FULL || system_errno == ENOSPC || system_errno == EDQUOT ||
      system_errno == EFBIG) {
    return " (the disk holding " + path + " is full: free space there and run again)";
  }
  if (primary == SQLITE_READONLY || system_errno == EROFS ||
      (io && file != nullptr && *file != '\0' && NotWritable(path))) {
    return " (" + path +
           " is read-only: its filesystem is mounted read-only or the file or its directory is "
           "not writable; make it writable and run again)";
  }
  return "";
}

}  // namespace

Error SqliteError(sqlite3* db, int rc, std::string_view operation) {
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = std::string(operation) + ": " + detail + UnwritableHint(db, rc);
  const int primary = rc & 0xff;
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return Error{ErrorCode::kAlreadyExists, std::move(message)};
  }
  if (IsCorruptionCode(rc)) {
    return Error{ErrorCode::kCorrupt, std::move(message)};
  }
  if (primary == SQLITE_CONSTRAINT) {
    return Error{ErrorCode::kInvalidArgument, std::move(message)};
  }
  return Error{ErrorCode::kIo, std::move(message)};
}

// ---- Statement

int Statement::Slot(int index) const {
  // SQLite numbers "$N" parameters by first appearance, not by N; PostgreSQL uses N. Resolve
  // the name so "$2 ... $1" binds as PostgreSQL would. "?N" and "?" are numbered already.
  const std::string name = "$" + std::to_string(index);
  const int slot = sqlite3_bind_parameter_index(stmt_.get(), name.c_str());
  return slot > 0 ? slot : index;
}

Statement& Statement::BindInt(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_.get(), Slot(index), value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindOptionalInt(int index, std::optional<int64_t> value) {
  if (value.has_value()) return BindInt(index, *value);
  const int rc = sqlite3_bind_null(stmt_.get(), Slot(index));
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindDouble(int index, double value) {
  const int rc = sqlite3_bind_double(stmt_.get(), Slot(index), value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindText(int index, std::string_view value) {
  // A null data pointer would bind NULL; an empty string must stay an empty string.
  const char* data = value.data() != nullptr ? value.data() : "";
  const int rc = sqlite3_bind_text64(stmt_.get(), Slot(index), data, value.size(), SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view value) {
  // A zero-length blob must not bind as NULL (NOT NULL columns): point at a valid byte.
  static const char kEmpty = 0;
  const char* data = value.empty() ? &kEmpty : value.data();
  const int rc =
      sqlite3_bind_blob64(stmt_.get(), Slot(index), data, value.size(), SQLITE_TRANSIENT);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) return tl::unexpected(SqliteError(db_, bind_rc_, operation_));
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return tl::unexpected(SqliteError(db_, sqlite3_extended_errcode(db_), operation_));
}

Result<void> Statement::Run() {
  while (true) {
    auto row = Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return {};
  }
}

Statement& Statement::Reset() {
  // sqlite3_reset repeats the last step's error, which Step() has already reported.
  (void)sqlite3_reset(stmt_.get());
  bind_rc_ = SQLITE_OK;
  return *this;
}

int64_t Statement::ColumnInt(int index) const { return sqlite3_column_int64(stmt_.get(), index); }

std::optional<int64_t> Statement::ColumnOptionalInt(int index) const {
  if (ColumnIsNull(index)) return std::nullopt;
  return ColumnInt(index);
}

double Statement::ColumnDouble(int index) const {
  return sqlite3_column_double(stmt_.get(), index);
}

std::string Statement::ColumnText(int index) const {
  const auto* text = sqlite3_column_text(stmt_.get(), index);
  if (text == nullptr) return {};
  const int size = sqlite3_column_bytes(stmt_.get(), index);
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

std::string Statement::ColumnBlob(int index) const {
  const void* blob = sqlite3_column_blob(stmt_.get(), index);
  if (blob == nullptr) return {};
  const int size = sqlite3_column_bytes(stmt_.get(), index);
  return std::string(static_cast<const char*>(blob), static_cast<size_t>(size));
}

bool Statement::ColumnIsNull(int index) const { return ColumnType(index) == SQLITE_NULL; }

int Statement::ColumnType(int index) const { return sqlite3_column_type(stmt_.get(), index); }

// ---- Database

Result<Database> Database::Open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_EXRESCODE, nullptr);
  SqliteHandle handle(raw);
  if (rc != SQLITE_OK) {
    return tl::unexpected(SqliteError(handle.get(), rc, "open database '" + path + "'"));
  }
  return Database(std::move(handle));
}

Result<void> Database::Exec(std::string_view sql, std::string_view operation) {
  const std::string text(sql);
  const int rc = sqlite3_exec(handle_.get(), text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return tl::unexpected(
        SqliteError(handle_.get(), sqlite3_extended_errcode(handle_.get()), operation));
  }
  return {};
}

Result<Statement> Database::Prepare(std::string_view sql, std::string_view operation) {
  sqlite3_stmt* raw = nullptr;
  const int rc =
      sqlite3_prepare_v2(handle_.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  StatementHandle stmt(raw);
  if (rc != SQLITE_OK) return tl::unexpected(SqliteError(handle_.get(), rc, operation));
  return Statement(handle_.get(), std::move(stmt), std::string(operation));
}

Result<int64_t> Database::QueryInt(std::string_view sql, std::string_view operation) {
  auto stmt = Prepare(sql, operation);
  if (!stmt) return tl::unexpected(stmt.error());
  auto row = stmt->Step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return MakeError(ErrorCode::kInternal, std::string(operation) + ": no row");
  return stmt->ColumnInt(0);
}

bool Database::TableExists(std::string_view table) {
  auto stmt =
      Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", "look up a table");
  if (!stmt) return false;
  stmt->BindText(1, table);
  auto row = stmt->Step();
  return row.has_value() && *row;
}

// ---- files

int64_t FileSizeOrZero(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return static_cast<int64_t>(info.st_size);
}

int64_t DatabaseSizeOnDisk(const std::string& path) {
  return FileSizeOrZero(path) + FileSizeOrZero(path + "-wal");
}

bool FileExists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

Result<void> CreatePrivateFile(const std::string& path, std::string_view what) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    const std::string message =
        "cannot create " + std::string(what) + " '" + path + "': " + std::strerror(error);
    return MakeError(error == EEXIST ? ErrorCode::kAlreadyExists : ErrorCode::kIo, message);
  }
  // The umask may only have removed bits, but make the mode exact anyway.
  const int chmod_rc = ::fchmod(fd, 0600);
  ::close(fd);
  if (chmod_rc != 0) {
    return MakeError(ErrorCode::kIo, "cannot set mode 0600 on " + std::string(what) + " '" + path +
                                         "': " + std::strerror(errno));
  }
  return {};
}

Result<void> RestrictDatabaseFileModes(const std::string& path) {
  for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
    if (!FileExists(file)) continue;
    if (::chmod(file.c_str(), 0600) != 0) {
      return MakeError(ErrorCode::kPermissionDenied,
                       "cannot set mode 0600 on '" + file + "': " + std::strerror(errno));
    }
  }
  return {};
}

}  // namespace fleet::storage
