// The SQLite backend: contract instantiation plus what only a file-backed store has.

#include "storage/sqlite_store.h"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/store_contract_test.h"

namespace fleet::storage {
namespace {

using ::testing::HasSubstr;

INSTANTIATE_TEST_SUITE_P(
    Sqlite, StoreContractTest,
    ::testing::Values(StoreFactory{"Memory",
                                   [](const std::filesystem::path&) {
                                     return OpenSqliteStore({.path = ":memory:"});
                                   }},
                      StoreFactory{"File",
                                   [](const std::filesystem::path& dir) {
                                     return OpenSqliteStore({.path = (dir / "fleet.db").string()});
                                   }}),
    StoreFactoryName);

class SqliteStoreTest : public ::testing::Test {
 protected:
  TempDir dir_{};
  std::string path_{dir_.File("fleet.db")};
};

TEST_F(SqliteStoreTest, OpenCreatesTheDatabaseAndItsWalWithMode0600) {
  auto store = OpenSqliteStore({.path = path_});

  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_EQ(FileMode(path_), 0600);
  ASSERT_TRUE((*store)->SetMeta("k", "v").has_value());
  EXPECT_EQ(FileMode(path_ + "-wal"), 0600);
  EXPECT_EQ(FileMode(path_ + "-shm"), 0600);
  EXPECT_EQ(QuerySqlite(path_, "PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteStoreTest, OpenTightensTheModeOfAnExistingDatabase) {
  ASSERT_TRUE(OpenSqliteStore({.path = path_}).has_value());
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);

  ASSERT_TRUE(OpenSqliteStore({.path = path_}).has_value());

  EXPECT_EQ(FileMode(path_), 0600);
}

TEST_F(SqliteStoreTest, OpenWithoutCreateOfAMissingFileIsNotFound) {
  auto store = OpenSqliteStore({.path = path_, .create = false});

  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(store.error().message, HasSubstr(path_));
  EXPECT_EQ(FileMode(path_), -1);
}

TEST_F(SqliteStoreTest, OpenOfRandomBytesIsCorruptAndSuggestsRestore) {
  std::ofstream(path_, std::ios::binary) << std::string(4096, '\x5a') << "not a database";

  auto store = OpenSqliteStore({.path = path_});

  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(store.error().message, HasSubstr(path_));
  EXPECT_THAT(store.error().message, HasSubstr("db restore"));
}

TEST_F(SqliteStoreTest, OpenRefusesAnotherApplicationsDatabaseAndLeavesItAlone) {
  ASSERT_EQ(ExecSqlite(path_, "CREATE TABLE api_keys (id INTEGER PRIMARY KEY, name TEXT)"), "");

  auto store = OpenSqliteStore({.path = path_});

  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(store.error().message, HasSubstr("schema_version"));
  EXPECT_EQ(QuerySqlite(path_, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'servers'"), "0");
}

TEST_F(SqliteStoreTest, OpenRefusesADatabaseFromANewerVersion) {
  ASSERT_TRUE(OpenSqliteStore({.path = path_}).has_value());
  ASSERT_EQ(ExecSqlite(path_, "INSERT INTO schema_version VALUES (999, 0, 'future')"), "");

  auto store = OpenSqliteStore({.path = path_});

  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(store.error().message, HasSubstr("999"));
}

TEST_F(SqliteStoreTest, DataSurvivesReopening) {
  {
    auto store = OpenSqliteStore({.path = path_}).value();
    Server server;
    server.name = "alpha";
    server.url = "https://alpha.example.com";
    ASSERT_TRUE(store->CreateServer(server, 42).has_value());
  }

  auto reopened = OpenSqliteStore({.path = path_, .create = false});

  ASSERT_TRUE(reopened.has_value()) << reopened.error().message;
  EXPECT_EQ((*reopened)->GetServer("alpha").value().created_at, 42);
}

TEST_F(SqliteStoreTest, ForeignKeysAreEnforced) {
  auto store = OpenSqliteStore({.path = path_}).value();
  Server server;
  server.name = "alpha";
  server.url = "https://alpha.example.com";
  ASSERT_TRUE(store->CreateServer(server, 1).has_value());
  ApiKey key;
  key.name = "k1";
  key.sealed_secret = "s";
  ASSERT_TRUE(store->CreateApiKey(key, 1).has_value());
  ASSERT_TRUE(store->Link("k1", "alpha", true, 1).has_value());

  ASSERT_TRUE(store->DeleteApiKey("k1").has_value());

  // ON DELETE CASCADE ran, which needs PRAGMA foreign_keys on this connection.
  EXPECT_EQ(store->Status().value().links, 0);
}

TEST_F(SqliteStoreTest, RemovingAServerKeepsItsUsageRowsAndDetachesThem) {
  auto store = OpenSqliteStore({.path = path_}).value();
  Server server;
  server.name = "churned";
  server.url = "https://churned.example.com";
  server.customer = "initech";
  ASSERT_TRUE(store->CreateServer(server, 1).has_value());
  DailyUsage usage;
  usage.server = "churned";
  usage.day = "2026-03-31";
  usage.total = 12;
  ASSERT_TRUE(store->UpsertDailyUsage({usage}).has_value());
  ASSERT_EQ(QuerySqlite(path_, "SELECT server_id IS NOT NULL FROM usage_daily"), "1");

  ASSERT_TRUE(store->DeleteServer("churned", false).has_value());

  EXPECT_EQ(QuerySqlite(path_, "SELECT server_id IS NULL FROM usage_daily"), "1");
  EXPECT_EQ(QuerySqlite(path_,
                        "SELECT server_name || ' ' || customer || ' ' || total "
                        "FROM usage_daily"),
            "churned initech 12");
}

TEST_F(SqliteStoreTest, StatusDescribesTheFile) {
  auto store = OpenSqliteStore({.path = path_}).value();

  auto status = store->Status();

  ASSERT_TRUE(status.has_value()) << status.error().message;
  EXPECT_EQ(status->backend, "sqlite");
  EXPECT_EQ(status->location, path_);
  EXPECT_EQ(status->schema_version, CurrentSchemaVersion());
  EXPECT_GT(status->size_bytes, 0);
  EXPECT_GE(status->size_bytes, static_cast<int64_t>(std::filesystem::file_size(path_)));
}

TEST_F(SqliteStoreTest, StatusOfAnInMemoryStoreReportsItsPageSize) {
  auto store = OpenSqliteStore({.path = ":memory:"}).value();

  auto status = store->Status().value();

  EXPECT_EQ(status.location, ":memory:");
  EXPECT_GT(status.size_bytes, 0);
}

TEST_F(SqliteStoreTest, EmptyPathIsInvalid) {
  auto store = OpenSqliteStore({.path = ""});

  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace fleet::storage
