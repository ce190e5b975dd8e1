// `db migrate --to postgresql://`: the copy of a SQLite database into a fresh PostgreSQL
// database (the CLI suite covers the rest end to end). Needs N8N_FLEET_TEST_POSTGRES (a URL whose
// user may create databases); skipped without it unless N8N_FLEET_REQUIRE_POSTGRES=1.

#include "storage/copy_to_postgres.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <map>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "storage/postgres_store.h"
#include "storage/sqlite_store.h"
#include "storage/storage_test_util.h"

namespace fleet::storage {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// `url` with its database (the path) replaced by `database`.
std::string WithDatabase(const std::string& url, const std::string& database) {
  const size_t authority = url.find("://") + 3;
  const size_t path = url.find('/', authority);
  const size_t query = path == std::string::npos ? std::string::npos : url.find('?', path);
  return url.substr(0, path) + "/" + database +
         (query == std::string::npos ? "" : url.substr(query));
}

void Admin(const std::string& sql) {
  pqxx::connection connection(Env("N8N_FLEET_TEST_POSTGRES"));
  pqxx::nontransaction tx(connection);
  tx.exec0(sql);
}

// A fresh PostgreSQL database per test, dropped afterwards, and a SQLite file to copy from.
class CopyToPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Env("N8N_FLEET_TEST_POSTGRES").empty()) {
      if (Env("N8N_FLEET_REQUIRE_POSTGRES") == "1") {
        FAIL() << "N8N_FLEET_REQUIRE_POSTGRES=1 but N8N_FLEET_TEST_POSTGRES is unset";
      }
      GTEST_SKIP() << "set N8N_FLEET_TEST_POSTGRES (scripts/postgres.sh start DIR PORT)";
    }
    static std::atomic<int> counter{0};
    database_ = "fleet_copy_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    Admin("DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
    Admin("CREATE DATABASE " + database_);
    url_ = WithDatabase(Env("N8N_FLEET_TEST_POSTGRES"), database_);
  }

  void TearDown() override {
    if (!database_.empty()) Admin("DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
  }

  static std::map<std::string, int64_t> Rows(const CopyReport& report) {
    std::map<std::string, int64_t> rows;
    for (const TableCopy& table : report.tables) {
      EXPECT_EQ(table.source_rows, table.target_rows) << table.table;
      rows[table.table] = table.target_rows;
    }
    return rows;
  }

  static constexpr int64_t kNow = 1760000000;
  TempDir dir_{};
  std::string sqlite_path_{dir_.File("fleet.db")};
  std::string database_{};
  std::string url_{};
};

TEST_F(CopyToPostgresTest, CopiesLocalWorkflowsAndTheirMappingsWithTheirIds) {
  {
    auto sqlite = OpenSqliteStore({.path = sqlite_path_});
    ASSERT_TRUE(sqlite.has_value()) << sqlite.error().message;
    Store& store = **sqlite;
    for (const char* name : {"alpha", "beta"}) {
      Server server;
      server.name = name;
      server.url = std::string("https://") + name + ".example.com";
      ASSERT_TRUE(store.CreateServer(server, kNow).has_value());
    }
    // An id past 1 (earlier workflows were removed), so preserving ids shows.
    ASSERT_EQ(
        ExecSqlite(sqlite_path_,
                   "INSERT INTO workflows (id, name, file, file_sha256, created_at, "
                   "updated_at) VALUES (40, 'invoices', '/flows/invoices.json', 'abc', 5, 6)"),
        "");
    auto leads = store.SaveLocalWorkflow({0, "leads", "/flows/leads.json", "def", 0, 0, {}}, kNow);
    ASSERT_TRUE(leads.has_value()) << leads.error().message;
    ASSERT_TRUE(store.SaveWorkflowMapping(40, {"alpha", "r1", "2026-03-01T00:00:00Z", "pull", kNow})
                    .has_value());
    ASSERT_TRUE(store.SaveWorkflowMapping(40, {"beta", "r9", "", "push", kNow + 1}).has_value());
    ASSERT_TRUE(store.SaveWorkflowMapping(leads->id, {"beta", "r2", "", "pull", kNow}).has_value());
  }

  auto report = CopySqliteToPostgres({.sqlite_path = sqlite_path_, .postgres_url = url_});

  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_TRUE(report->verified);
  const std::map<std::string, int64_t> rows = Rows(*report);
  EXPECT_EQ(rows.at("workflows"), 2);
  EXPECT_EQ(rows.at("workflow_mappings"), 3);
  auto postgres = OpenPostgresStore({.url = url_, .schema = ""});
  ASSERT_TRUE(postgres.has_value()) << postgres.error().message;
  auto sqlite = OpenSqliteStore({.path = sqlite_path_, .create = false});
  ASSERT_TRUE(sqlite.has_value()) << sqlite.error().message;
  auto copied = (*postgres)->ListLocalWorkflows();
  auto original = (*sqlite)->ListLocalWorkflows();
  ASSERT_TRUE(copied.has_value()) << copied.error().message;
  ASSERT_TRUE(original.has_value()) << original.error().message;
  ASSERT_EQ(copied->size(), 2u);
  for (size_t i = 0; i < copied->size(); ++i) {
    const LocalWorkflow& a = (*copied)[i];
    const LocalWorkflow& b = (*original)[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.file, b.file);
    EXPECT_EQ(a.file_sha256, b.file_sha256);
    EXPECT_EQ(a.created_at, b.created_at);
    EXPECT_EQ(a.updated_at, b.updated_at);
    ASSERT_EQ(a.mappings.size(), b.mappings.size()) << a.name;
    for (size_t j = 0; j < a.mappings.size(); ++j) {
      EXPECT_EQ(a.mappings[j].server, b.mappings[j].server);
      EXPECT_EQ(a.mappings[j].remote_id, b.mappings[j].remote_id);
      EXPECT_EQ(a.mappings[j].remote_updated_at, b.mappings[j].remote_updated_at);
      EXPECT_EQ(a.mappings[j].last_action, b.mappings[j].last_action);
      EXPECT_EQ(a.mappings[j].last_at, b.mappings[j].last_at);
    }
  }
  EXPECT_EQ((*copied)[0].id, 40);
  // A second copy leaves the same rows; new workflows get ids after the copied ones.
  auto again = CopySqliteToPostgres({.sqlite_path = sqlite_path_, .postgres_url = url_});
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_TRUE(again->verified);
  EXPECT_EQ(Rows(*again).at("workflow_mappings"), 3);
  auto next = (*postgres)->SaveLocalWorkflow({0, "crm", "/flows/crm.json", "", 0, 0, {}}, kNow);
  ASSERT_TRUE(next.has_value()) << next.error().message;
  EXPECT_EQ(next->id, 42);
}

}  // namespace
}  // namespace fleet::storage
