#include "storage/copy_to_postgres.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string_view>
#include <utility>

#include <pqxx/pqxx>

#include "storage/postgres_store.h"
#include "storage/sqlite_db.h"
#include "storage/sqlite_store.h"

namespace fleet::storage {
namespace {

// In dependency order (referenced tables first). data_version, work_units, work_items and
// schedule_slots are derived or transient: not copied.
constexpr std::string_view kTables[] = {
    "meta",
    "servers",
    "api_keys",
    "server_api_keys",
    "signing_keys",
    "api_tokens",
    "instance_reports",
    "runs",
    "run_attempts",
    "usage_daily",
    "usage_unrecoverable",
    "workflows",
    "workflow_mappings",
};

// A batch is sent once it holds this many bytes of SQL, even with fewer rows (raw JSON is large).
constexpr size_t kMaxBatchBytes = size_t{4} << 20;

struct Column {
  std::string name{};
  std::string pg_type{};  // information_schema data_type: "bigint", "text", "bytea", ...
  bool identity{};
};

// How one table is copied: the columns both sides have, the target's primary key.
struct TablePlan {
  std::string name{};
  std::vector<Column> columns{};
  std::vector<std::string> key{};
};

std::string QuoteSqliteName(std::string_view name) { return "\"" + std::string(name) + "\""; }

Result<std::vector<std::string>> SqliteColumns(Database& db, std::string_view table) {
  auto stmt = db.Prepare("PRAGMA table_info(" + QuoteSqliteName(table) + ")",
                         "read the columns of " + std::string(table));
  if (!stmt) return tl::unexpected(stmt.error());
  std::vector<std::string> columns;
  while (true) {
    auto more = stmt->Step();
    if (!more) return tl::unexpected(more.error());
    if (!*more) break;
    columns.push_back(stmt->ColumnText(1));
  }
  if (columns.empty()) {
    return MakeError(ErrorCode::kCorrupt, "the SQLite database has no table " + std::string(table) +
                                              ": it is not an n8n-fleet database");
  }
  return columns;
}

// The target side of `table` (throws pqxx errors, converted by the caller).
Result<TablePlan> PlanTable(pqxx::work& tx, std::string_view table,
                            const std::vector<std::string>& source_columns) {
  std::map<std::string, Column> target;
  for (const auto& row :
       tx.exec_params("SELECT column_name, data_type, is_identity FROM information_schema.columns "
                      "WHERE table_schema = current_schema() AND table_name = $1",
                      std::string(table))) {
    Column column{row[0].as<std::string>(), row[1].as<std::string>(),
                  row[2].as<std::string>() == "YES"};
    target[column.name] = column;
  }
  TablePlan plan{std::string(table), {}, {}};
  for (const auto& name : source_columns) {
    auto found = target.find(name);
    if (found == target.end()) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "the PostgreSQL table " + std::string(table) + " has no column " + name +
                           ": its schema is not this n8n-fleet version's");
    }
    plan.columns.push_back(found->second);
  }
  for (const auto& row : tx.exec_params("SELECT a.attname FROM pg_index i JOIN pg_attribute a "
                                        "ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
                                        "WHERE i.indisprimary AND i.indrelid = format('%I.%I', "
                                        "current_schema(), $1::text)::regclass "
                                        "ORDER BY array_position(i.indkey::int2[], a.attnum)",
                                        std::string(table))) {
    plan.key.push_back(row[0].as<std::string>());
  }
  if (plan.key.empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "the PostgreSQL table " + std::string(table) + " has no primary key");
  }
  return plan;
}

// The SQL literal of a source value for a target column of type `pg_type`. Everything but NULL
// and bytea goes as a quoted literal: PostgreSQL converts it to the column's type.
std::string Literal(const pqxx::work& tx, const Statement& row, int index,
                    const std::string& pg_type) {
  if (row.ColumnIsNull(index)) return "NULL";
  int type = row.ColumnType(index);
  if (pg_type == "bytea") {
    return tx.quote_raw(type == SQLITE_BLOB ? row.ColumnBlob(index) : row.ColumnText(index));
  }
  if (type == SQLITE_INTEGER) return "'" + std::to_string(row.ColumnInt(index)) + "'";
  if (type == SQLITE_FLOAT) {
    char text[64];
    std::snprintf(text, sizeof text, "'%.17g'", row.ColumnDouble(index));
    return text;
  }
  return tx.quote(row.ColumnText(index));
}

std::string JoinNames(const pqxx::work& tx, const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + tx.quote_name(name);
  return out;
}

// Streams the table's rows into INSERT ... ON CONFLICT (key) DO UPDATE batches.
Result<void> CopyTable(pqxx::work& tx, Database& source, const TablePlan& plan,
                       const CopyToPostgresOptions& options, int64_t& copied, int64_t total) {
  std::vector<std::string> names;
  std::string select;
  bool identity = false;
  for (const auto& column : plan.columns) {
    names.push_back(column.name);
    select += (select.empty() ? "" : ", ") + QuoteSqliteName(column.name);
    identity = identity || column.identity;
  }
  auto stmt = source.Prepare("SELECT " + select + " FROM " + QuoteSqliteName(plan.name),
                             "read " + plan.name);
  if (!stmt) return tl::unexpected(stmt.error());
  std::string head = "INSERT INTO " + tx.quote_name(plan.name) + " (" + JoinNames(tx, names) + ")" +
                     (identity ? " OVERRIDING SYSTEM VALUE" : "") + " VALUES ";
  std::string updates;
  for (const auto& column : plan.columns) {
    bool is_key = std::find(plan.key.begin(), plan.key.end(), column.name) != plan.key.end();
    if (is_key || column.identity) continue;
    std::string name = tx.quote_name(column.name);
    updates += (updates.empty() ? "" : ", ") + name + " = EXCLUDED." + name;
  }
  std::string tail = " ON CONFLICT (" + JoinNames(tx, plan.key) + ") DO " +
                     (updates.empty() ? "NOTHING" : "UPDATE SET " + updates);
  std::string sql;
  size_t rows = 0;
  auto flush = [&] {
    if (rows == 0) return;
    tx.exec0(sql + tail);
    copied += static_cast<int64_t>(rows);
    sql.clear();
    rows = 0;
    if (options.progress) options.progress(copied, total);
  };
  while (true) {
    auto more = stmt->Step();
    if (!more) return tl::unexpected(more.error());
    if (!*more) break;
    sql += rows == 0 ? head + "(" : ", (";
    for (size_t i = 0; i < plan.columns.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += Literal(tx, *stmt, static_cast<int>(i), plan.columns[i].pg_type);
    }
    sql += ")";
    ++rows;
    if (rows >= options.batch_rows || sql.size() >= kMaxBatchBytes) flush();
  }
  flush();
  // Ids were given explicitly: move each identity sequence past the highest one (never back).
  for (const auto& column : plan.columns) {
    if (!column.identity) continue;
    tx.exec_params(
        "SELECT setval(s.seq, m.max_id) FROM "
        "(SELECT pg_get_serial_sequence(format('%I.%I', current_schema(), $1::text), $2) AS seq) "
        "s, (SELECT MAX(" +
            tx.quote_name(column.name) + ") AS max_id FROM " + tx.quote_name(plan.name) +
            ") m "
            "WHERE s.seq IS NOT NULL AND m.max_id IS NOT NULL AND m.max_id > COALESCE("
            "(SELECT last_value FROM pg_sequences "
            "WHERE format('%I.%I', schemaname, sequencename) = s.seq), 0)",
        plan.name, column.name);
  }
  return {};
}

using MonthKey = std::pair<std::string, std::string>;  // month, source

Result<void> ReadSourceMonths(Database& source, std::map<MonthKey, MonthTotals>& months) {
  auto stmt = source.Prepare(
      "SELECT substr(day, 1, 7), source, COUNT(*), COALESCE(SUM(total), 0), "
      "COALESCE(SUM(failed), 0) FROM usage_daily GROUP BY 1, 2",
      "sum usage by month");
  if (!stmt) return tl::unexpected(stmt.error());
  while (true) {
    auto more = stmt->Step();
    if (!more) return tl::unexpected(more.error());
    if (!*more) break;
    MonthTotals& m = months[{stmt->ColumnText(0), stmt->ColumnText(1)}];
    m.month = stmt->ColumnText(0);
    m.source = stmt->ColumnText(1);
    m.source_rows = stmt->ColumnInt(2);
    m.source_total = stmt->ColumnInt(3);
    m.source_failed = stmt->ColumnInt(4);
  }
  return {};
}

void ReadTargetMonths(pqxx::work& tx, std::map<MonthKey, MonthTotals>& months) {
  for (const auto& row :
       tx.exec("SELECT substr(day::text, 1, 7), source::text, COUNT(*), "
               "COALESCE(SUM(total), 0)::bigint, COALESCE(SUM(failed), 0)::bigint "
               "FROM usage_daily GROUP BY 1, 2")) {
    MonthTotals& m = months[{row[0].as<std::string>(), row[1].as<std::string>()}];
    m.month = row[0].as<std::string>();
    m.source = row[1].as<std::string>();
    m.target_rows = row[2].as<int64_t>();
    m.target_total = row[3].as<int64_t>();
    m.target_failed = row[4].as<int64_t>();
  }
}

// The copy itself, on an open source snapshot and target transaction. `step` says what it is
// doing, for error messages.
Result<CopyReport> Copy(Database& source, pqxx::work& tx, const CopyToPostgresOptions& options,
                        std::string& step) {
  CopyReport report;
  std::vector<TablePlan> plans;
  int64_t total = 0;
  for (std::string_view table : kTables) {
    step = "reading the columns of " + std::string(table);
    auto columns = SqliteColumns(source, table);
    if (!columns) return tl::unexpected(columns.error());
    auto plan = PlanTable(tx, table, *columns);
    if (!plan) return tl::unexpected(plan.error());
    plans.push_back(std::move(*plan));
    auto count = source.QueryInt("SELECT COUNT(*) FROM " + QuoteSqliteName(table),
                                 "count the rows of " + std::string(table));
    if (!count) return tl::unexpected(count.error());
    report.tables.push_back({std::string(table), *count, 0});
    total += *count;
  }
  int64_t copied = 0;
  if (options.progress) options.progress(0, total);
  for (const auto& plan : plans) {
    step = "copying " + plan.name;
    if (auto ok = CopyTable(tx, source, plan, options, copied, total); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  step = "verifying the copy";
  report.verified = true;
  for (auto& table : report.tables) {
    table.target_rows =
        tx.exec1("SELECT COUNT(*) FROM " + tx.quote_name(table.table))[0].as<int64_t>();
    report.verified = report.verified && table.target_rows == table.source_rows;
  }
  std::map<MonthKey, MonthTotals> months;
  if (auto ok = ReadSourceMonths(source, months); !ok) return tl::unexpected(ok.error());
  ReadTargetMonths(tx, months);
  for (auto& [key, month] : months) {
    report.verified = report.verified && month.equal();
    report.months.push_back(std::move(month));
  }
  return report;
}

}  // namespace

Result<CopyReport> CopySqliteToPostgres(const CopyToPostgresOptions& options) {
  const std::string where = "PostgreSQL at " + RedactPostgresUrl(options.postgres_url);
  // Both schemas at this version first: the source migrated in place, the target created.
  {
    auto source = OpenSqliteStore({.path = options.sqlite_path, .create = false});
    if (!source) return tl::unexpected(source.error());
    auto target = OpenPostgresStore({.url = options.postgres_url, .schema = ""});
    if (!target) return tl::unexpected(target.error());
  }
  auto source = Database::Open(options.sqlite_path, SQLITE_OPEN_READONLY);
  if (!source) return tl::unexpected(source.error());
  // One read transaction: every table is read from the same snapshot, whoever writes meanwhile.
  if (auto ok = source->Exec("BEGIN", "start reading " + options.sqlite_path); !ok) {
    return tl::unexpected(ok.error());
  }
  std::string step = "connecting";
  try {
    pqxx::connection connection(options.postgres_url);
    pqxx::work tx(connection, "n8n-fleet db migrate");
    tx.exec0("SET LOCAL search_path TO public");  // where OpenPostgresStore put the tables
    auto report = Copy(*source, tx, options, step);
    if (!report) return report;
    step = "committing";
    if (report->verified) {
      tx.commit();
    } else {
      tx.abort();
    }
    return report;
  } catch (const pqxx::broken_connection& e) {
    return MakeError(ErrorCode::kUnavailable, where + ": " + step + ": " + e.what());
  } catch (const pqxx::unique_violation& e) {
    return MakeError(ErrorCode::kAlreadyExists,
                     where + ": " + step + ": " + e.what() +
                         " (the target holds other rows under the same names; nothing was "
                         "committed: migrate into an empty database)");
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kIo,
                     where + ": " + step + ": " + e.what() + " (nothing was committed)");
  }
}

}  // namespace fleet::storage
