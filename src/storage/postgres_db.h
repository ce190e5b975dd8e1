#pragma once

// Small RAII layer over libpqxx (6.x), private to the storage module: one connection, statements
// with $N parameters only, transactions that nest as savepoints, and libpqxx's exceptions turned
// into Errors. Nothing here lets an exception out.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/connection>
#include <pqxx/result>
#include <pqxx/transaction>
#include <pqxx/transaction_base>

#include "core/error.h"

namespace fleet::storage {

// The text form of a one-dimensional array ({"a","b",NULL}), for a parameter that carries a whole
// column of a batch: `unnest($1::bigint[], $2::text[], ...) WITH ORDINALITY` turns the columns back
// into rows, so a batch of any size is one statement with a fixed text.
class PgArray {
 public:
  PgArray& Int(int64_t value);
  PgArray& OptionalInt(std::optional<int64_t> value);
  PgArray& Double(double value);
  PgArray& Text(std::string_view value);
  PgArray& Null();

  std::string Literal() const { return text_ + "}"; }

 private:
  void Separate();
  std::string text_{"{"};
};

// The parameters $1..$N of one statement, in order. Every value travels as text (PostgreSQL
// casts it to the parameter's type); bytes for a BYTEA travel in its hex form.
class PgParams {
 public:
  PgParams& Int(int64_t value);
  PgParams& Bool(bool value) { return Int(value ? 1 : 0); }
  PgParams& OptionalInt(std::optional<int64_t> value);
  PgParams& Double(double value);
  PgParams& Text(std::string_view value);
  PgParams& Bytes(std::string_view value);
  PgParams& Null();
  PgParams& Array(const PgArray& array) { return Text(array.Literal()); }

  // For libpq: one pointer per parameter, nullptr for NULL; valid while this object lives.
  std::vector<const char*> Pointers() const;

 private:
  std::vector<std::optional<std::string>> values_{};
};

// One row of a result; column indexes are 0-based. NULL reads as 0 or "".
class PgRow {
 public:
  explicit PgRow(pqxx::row row) : row_(std::move(row)) {}

  int64_t Int(int index) const;
  bool Bool(int index) const { return Int(index) != 0; }
  std::optional<int64_t> OptionalInt(int index) const;
  double Double(int index) const;
  std::string Text(int index) const;
  std::string Bytes(int index) const;  // a BYTEA column
  bool IsNull(int index) const { return row_[index].is_null(); }

 private:
  pqxx::row row_{};
};

// A statement's result: its rows and how many rows it changed.
class PgResult {
 public:
  explicit PgResult(pqxx::result result) : result_(std::move(result)) {}

  size_t size() const { return result_.size(); }
  bool empty() const { return result_.empty(); }
  PgRow operator[](size_t index) const {
    return PgRow(result_[static_cast<pqxx::result::size_type>(index)]);
  }
  int64_t affected_rows() const { return static_cast<int64_t>(result_.affected_rows()); }

  // Each row read through `read`, in order.
  template <class T, class Read>
  std::vector<T> All(Read read) const {
    std::vector<T> out;
    out.reserve(size());
    for (size_t i = 0; i < size(); ++i) out.push_back(read((*this)[i]));
    return out;
  }

 private:
  pqxx::result result_{};
};

// Maps what libpqxx threw to an Error naming `operation`: unique_violation (23505) ->
// kAlreadyExists, foreign_key_violation (23503) -> kNotFound, check and not-null violations and
// malformed values (class 22) -> kInvalidArgument, a lost connection and everything else -> kIo.
// `location` (a URL without its password) is named when the connection was lost.
Error PgError(const std::exception& error, std::string_view operation, std::string_view location);

// `name` as an SQL identifier in double quotes (for DDL, which takes no parameters).
std::string QuoteIdentifier(std::string_view name);

// An open connection working in one schema.
class PgConnection {
 public:
  // Connects to `url` (a libpq URL or key=value string) and sets the search_path to `schema`.
  // kIo naming `location` (never the password) when the server cannot be reached.
  static Result<std::unique_ptr<PgConnection>> Open(const std::string& url,
                                                    const std::string& schema,
                                                    const std::string& location);

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // One statement with parameters, in the current transaction or else on its own (autocommit).
  Result<PgResult> Exec(std::string_view sql, const PgParams& params, std::string_view operation);
  // Constant SQL without parameters; may hold several statements.
  Result<PgResult> Exec(std::string_view sql, std::string_view operation);

  // Runs `body` in a transaction, or in a savepoint inside the current one: what it changed is
  // committed (released) when it succeeds and rolled back when it fails (a failed statement
  // included: the enclosing transaction is usable again).
  [[nodiscard]] Result<void> Transaction(const std::function<Result<void>()>& body);
  // Like Transaction, but only a savepoint when one is open: a lone statement outside any
  // transaction is atomic already. For single-statement writes that may fail (a taken name),
  // so that an enclosing transaction stays usable after the failure, as with SQLite.
  [[nodiscard]] Result<void> Atomically(const std::function<Result<void>()>& body);

  const std::string& location() const { return location_; }
  const std::string& schema() const { return schema_; }

 private:
  PgConnection(std::unique_ptr<pqxx::connection> connection, std::string schema,
               std::string location);

  template <class Statement>
  Result<PgResult> RunStatement(std::string_view operation, Statement statement);

  std::unique_ptr<pqxx::connection> connection_{};
  // The open transaction, if any, and how many savepoints are open inside it. (Savepoints are
  // plain SQL: libpqxx 6.4's subtransaction only sends its SAVEPOINT with a simple exec(), not
  // with exec_params.)
  std::unique_ptr<pqxx::work> transaction_{};
  int savepoints_{0};
  std::string schema_{};
  std::string location_{};
};

}  // namespace fleet::storage
