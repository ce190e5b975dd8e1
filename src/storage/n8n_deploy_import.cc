#include "storage/n8n_deploy_import.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>

#include "storage/sqlite_db.h"

namespace fleet::storage {
namespace {

// A column to read: its name, and the SQL literal used when the table lacks it. Both are
// constants of this file, never user input.
struct Column {
  std::string_view name{};
  std::string_view fallback{};
};

Result<std::set<std::string>> ColumnsOf(Database& db, std::string_view table) {
  // PRAGMA table_info takes no bound parameters; `table` is one of this file's constants.
  auto stmt = db.Prepare("PRAGMA table_info(" + std::string(table) + ")",
                         "read the columns of table " + std::string(table));
  if (!stmt) return tl::unexpected(stmt.error());
  std::set<std::string> columns;
  while (true) {
    auto row = stmt->Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return columns;
    columns.insert(stmt->ColumnText(1));
  }
}

// "SELECT a, b, <fallback> FROM table ORDER BY id" over the columns the table has.
Result<Statement> SelectColumns(Database& db, std::string_view table,
                                std::initializer_list<Column> wanted) {
  auto present = ColumnsOf(db, table);
  if (!present) return tl::unexpected(present.error());
  std::string sql = "SELECT ";
  bool first = true;
  for (const Column& column : wanted) {
    if (!first) sql += ", ";
    first = false;
    sql += present->contains(std::string(column.name)) ? column.name : column.fallback;
  }
  sql += " FROM " + std::string(table) + " ORDER BY ";
  sql += present->contains("id") ? "id" : "rowid";
  return db.Prepare(sql, "read table " + std::string(table));
}

// n8n-deploy writes booleans through Python: 0/1 normally, 'true'/'false' text in some rows.
bool ReadBool(const Statement& row, int index, bool fallback) {
  switch (row.ColumnType(index)) {
    case SQLITE_NULL:
      return fallback;
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
      return row.ColumnInt(index) != 0;
    default: {
      std::string text = row.ColumnText(index);
      std::transform(text.begin(), text.end(), text.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (text == "true" || text == "t" || text == "1" || text == "yes" || text == "on") {
        return true;
      }
      if (text == "false" || text == "f" || text == "0" || text == "no" || text == "off") {
        return false;
      }
      return fallback;
    }
  }
}

template <class Row, class ReadRow>
Result<std::vector<Row>> ReadAll(Statement& stmt, ReadRow read_row) {
  std::vector<Row> rows;
  while (true) {
    auto more = stmt.Step();
    if (!more) return tl::unexpected(more.error());
    if (!*more) return rows;
    rows.push_back(read_row(stmt));
  }
}

Result<void> ReadTables(Database& db, N8nDeployData& data) {
  auto keys = SelectColumns(db, "api_keys",
                            {{"id", "rowid"},
                             {"name", "''"},
                             {"api_key", "''"},
                             {"description", "''"},
                             {"is_active", "1"}});
  if (!keys) return tl::unexpected(keys.error());
  auto key_rows = ReadAll<N8nDeployKey>(*keys, [](const Statement& row) {
    return N8nDeployKey{row.ColumnInt(0), row.ColumnText(1), row.ColumnText(2), row.ColumnText(3),
                        ReadBool(row, 4, true)};
  });
  if (!key_rows) return tl::unexpected(key_rows.error());
  data.keys = std::move(*key_rows);

  if (db.TableExists("servers")) {
    auto servers = SelectColumns(db, "servers",
                                 {{"id", "rowid"},
                                  {"name", "''"},
                                  {"url", "''"},
                                  {"description", "''"},
                                  {"is_active", "1"},
                                  {"skip_ssl_verify", "0"}});
    if (!servers) return tl::unexpected(servers.error());
    auto server_rows = ReadAll<N8nDeployServer>(*servers, [](const Statement& row) {
      return N8nDeployServer{row.ColumnInt(0),  row.ColumnText(1),      row.ColumnText(2),
                             row.ColumnText(3), ReadBool(row, 4, true), ReadBool(row, 5, false)};
    });
    if (!server_rows) return tl::unexpected(server_rows.error());
    data.servers = std::move(*server_rows);
  }

  if (db.TableExists("server_api_keys")) {
    auto links =
        SelectColumns(db, "server_api_keys",
                      {{"server_id", "NULL"}, {"api_key_id", "NULL"}, {"is_primary", "0"}});
    if (!links) return tl::unexpected(links.error());
    auto link_rows = ReadAll<N8nDeployLink>(*links, [](const Statement& row) {
      return N8nDeployLink{row.ColumnInt(0), row.ColumnInt(1), ReadBool(row, 2, false)};
    });
    if (!link_rows) return tl::unexpected(link_rows.error());
    data.links = std::move(*link_rows);
  }
  return {};
}

}  // namespace

Result<N8nDeployData> ReadN8nDeployDatabase(const std::string& path) {
  if (!FileExists(path)) {
    return MakeError(ErrorCode::kNotFound, "n8n-deploy database '" + path + "' does not exist");
  }
  auto db = Database::Open(path, SQLITE_OPEN_READONLY);
  if (!db) return tl::unexpected(db.error());
  const std::string not_n8n_deploy =
      "'" + path + "' is not an n8n-deploy database (it has no api_keys table)";
  auto tables = db->QueryInt("SELECT COUNT(*) FROM sqlite_master", "read the schema");
  if (!tables) {
    if (tables.error().code == ErrorCode::kCorrupt) {
      return MakeError(ErrorCode::kCorrupt, "'" + path + "' is not an n8n-deploy database (" +
                                                tables.error().message + ")");
    }
    return tl::unexpected(tables.error());
  }
  if (!db->TableExists("api_keys")) return MakeError(ErrorCode::kCorrupt, not_n8n_deploy);
  N8nDeployData data;
  if (auto read = ReadTables(*db, data); !read) {
    return tl::unexpected(WithContext(read.error(), "n8n-deploy database '" + path + "'"));
  }
  return data;
}

}  // namespace fleet::storage
