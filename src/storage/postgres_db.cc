#include "storage/postgres_db.h"

#include <charconv>
#include <cmath>

#include <pqxx/binarystring>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

namespace fleet::storage {
namespace {

// "ERROR:  duplicate key ...\nDETAIL:  Key (name)=(a) already exists.\n" on one line, without
// the severity prefix.
std::string OneLine(std::string_view text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (line.rfind("ERROR:", 0) == 0) line.remove_prefix(6);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (!line.empty()) {
      if (!out.empty()) out += "; ";
      out += line;
    }
    start = end + 1;
  }
  return out;
}

// The shortest text that reads back as `value` (PostgreSQL's spelling of the special values).
std::string FormatDouble(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

ErrorCode CodeOfState(std::string_view state) {
  if (state == "23505") return ErrorCode::kAlreadyExists;  // unique_violation
  if (state == "23503") return ErrorCode::kNotFound;       // foreign_key_violation
  if (state == "23514" || state == "23502") return ErrorCode::kInvalidArgument;  // check, not null
  if (state.substr(0, 2) == "22") return ErrorCode::kInvalidArgument;            // data exceptions
  return ErrorCode::kIo;
}

}  // namespace

std::string QuoteIdentifier(std::string_view name) {
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

// ---- PgParams

PgParams& PgParams::Int(int64_t value) {
  values_.emplace_back(std::to_string(value));
  return *this;
}

PgParams& PgParams::OptionalInt(std::optional<int64_t> value) {
  if (!value.has_value()) return Null();
  return Int(*value);
}

PgParams& PgParams::Double(double value) {
  values_.emplace_back(FormatDouble(value));
  return *this;
}

PgParams& PgParams::Text(std::string_view value) {
  values_.emplace_back(std::string(value));
  return *this;
}

PgParams& PgParams::Bytes(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex = "\\x";
  hex.reserve(2 + value.size() * 2);
  for (unsigned char c : value) {
    hex += kHex[c >> 4];
    hex += kHex[c & 0x0f];
  }
  values_.emplace_back(std::move(hex));
  return *this;
}

PgParams& PgParams::Null() {
  values_.emplace_back(std::nullopt);
  return *this;
}

std::vector<const char*> PgParams::Pointers() const {
  std::vector<const char*> pointers;
  pointers.reserve(values_.size());
  for (const auto& value : values_) pointers.push_back(value ? value->c_str() : nullptr);
  return pointers;
}

// ---- PgArray

void PgArray::Separate() {
  if (text_.size() > 1) text_ += ',';
}

PgArray& PgArray::Int(int64_t value) {
  Separate();
  text_ += std::to_string(value);
  return *this;
}

PgArray& PgArray::OptionalInt(std::optional<int64_t> value) {
  if (!value.has_value()) return Null();
  return Int(*value);
}

PgArray& PgArray::Double(double value) {
  Separate();
  text_ += FormatDouble(value);
  return *this;
}

PgArray& PgArray::Text(std::string_view value) {
  Separate();
  text_ += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') text_ += '\\';
    text_ += c;
  }
  text_ += '"';
  return *this;
}

PgArray& PgArray::Null() {
  Separate();
  text_ += "NULL";
  return *this;
}

// ---- PgRow

int64_t PgRow::Int(int index) const {
  const pqxx::field field = row_[index];
  if (field.is_null()) return 0;
  int64_t value = 0;
  const char* text = field.c_str();
  std::from_chars(text, text + field.size(), value);
  return value;
}

std::optional<int64_t> PgRow::OptionalInt(int index) const {
  if (IsNull(index)) return std::nullopt;
  return Int(index);
}

double PgRow::Double(int index) const {
  const pqxx::field field = row_[index];
  if (field.is_null()) return 0;
  return field.as<double>();
}

std::string PgRow::Text(int index) const {
  const pqxx::field field = row_[index];
  if (field.is_null()) return {};
  return std::string(field.c_str(), field.size());
}

std::string PgRow::Bytes(int index) const {
  const pqxx::field field = row_[index];
  if (field.is_null()) return {};
  return pqxx::binarystring(field).str();
}

// ---- errors

Error PgError(const std::exception& error, std::string_view operation, std::string_view location) {
  const std::string prefix = std::string(operation) + ": ";
  if (dynamic_cast<const pqxx::broken_connection*>(&error) != nullptr ||
      dynamic_cast<const pqxx::in_doubt_error*>(&error) != nullptr) {
    return Error{ErrorCode::kIo, prefix + "lost the connection to PostgreSQL at " +
                                     std::string(location) + " (" + OneLine(error.what()) +
                                     "); check that the server is running"};
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error); sql != nullptr) {
    return Error{CodeOfState(sql->sqlstate()), prefix + OneLine(error.what())};
  }
  return Error{ErrorCode::kIo, prefix + OneLine(error.what())};
}

// ---- PgConnection

PgConnection::PgConnection(std::unique_ptr<pqxx::connection> connection, std::string schema,
                           std::string location)
    : connection_(std::move(connection)),
      schema_(std::move(schema)),
      location_(std::move(location)) {}

PgConnection::~PgConnection() = default;  // an unfinished transaction rolls back

Result<std::unique_ptr<PgConnection>> PgConnection::Open(const std::string& url,
                                                         const std::string& schema,
                                                         const std::string& location) {
  try {
    auto connection = std::make_unique<pqxx::connection>(url);
    // Remembered by libpqxx and set again should it ever reconnect. No JIT: compiling a query
    // costs more (0.5-3 s) than running any of the store's, and the planner's estimate that
    // turns it on counts subqueries that never run.
    connection->set_variable("search_path", connection->quote_name(schema));
    connection->set_variable("jit", "off");
    return std::unique_ptr<PgConnection>(new PgConnection(std::move(connection), schema, location));
  } catch (const pqxx::broken_connection& error) {
    return MakeError(ErrorCode::kIo, "cannot connect to PostgreSQL at " + location + ": " +
                                         OneLine(error.what()) +
                                         "; check that the server is running and the URL's "
                                         "host, port, database and user");
  } catch (const std::exception& error) {
    return tl::unexpected(PgError(error, "connect to PostgreSQL at " + location, location));
  }
}

template <class Statement>
Result<PgResult> PgConnection::RunStatement(std::string_view operation, Statement statement) {
  try {
    if (transaction_ == nullptr) {
      pqxx::nontransaction autocommit(*connection_);
      return PgResult(statement(autocommit));
    }
    return PgResult(statement(*transaction_));
  } catch (const std::exception& error) {
    return tl::unexpected(PgError(error, operation, location_));
  }
}

Result<PgResult> PgConnection::Exec(std::string_view sql, const PgParams& params,
                                    std::string_view operation) {
  const std::vector<const char*> pointers = params.Pointers();
  return RunStatement(operation, [&](pqxx::transaction_base& tx) {
    return tx.exec_params(std::string(sql), pqxx::prepare::make_dynamic_params(pointers));
  });
}

Result<PgResult> PgConnection::Exec(std::string_view sql, std::string_view operation) {
  return RunStatement(operation,
                      [&](pqxx::transaction_base& tx) { return tx.exec(std::string(sql)); });
}

Result<void> PgConnection::Transaction(const std::function<Result<void>()>& body) {
  if (transaction_ == nullptr) {
    try {
      transaction_ = std::make_unique<pqxx::work>(*connection_);  // sends BEGIN
    } catch (const std::exception& error) {
      return tl::unexpected(PgError(error, "begin a transaction", location_));
    }
    Result<void> result = body();
    std::unique_ptr<pqxx::work> transaction = std::move(transaction_);
    if (result) {
      try {
        transaction->commit();
      } catch (const std::exception& error) {
        result = tl::unexpected(PgError(error, "commit a transaction", location_));
      }
    }
    if (!result) {
      try {
        transaction->abort();
      } catch (const std::exception&) {  // the connection is gone: nothing left to roll back
      }
    }
    return result;
  }
  const auto run = [this](const std::string& sql, std::string_view what) -> Result<void> {
    auto done = Exec(sql, what);
    if (!done) return tl::unexpected(done.error());
    return {};
  };
  const std::string savepoint = "fleet_" + std::to_string(++savepoints_);
  Result<void> result = run("SAVEPOINT " + savepoint, "begin a nested transaction");
  if (result) result = body();
  if (result) result = run("RELEASE SAVEPOINT " + savepoint, "commit a nested transaction");
  if (!result) {
    (void)run("ROLLBACK TO SAVEPOINT " + savepoint + "; RELEASE SAVEPOINT " + savepoint,
              "roll back a nested transaction");
  }
  --savepoints_;
  return result;
}

Result<void> PgConnection::Atomically(const std::function<Result<void>()>& body) {
  if (transaction_ == nullptr) return body();
  return Transaction(body);
}

}  // namespace fleet::storage
