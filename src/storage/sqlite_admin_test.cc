// db backup / validate / compact on real files.

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/sqlite_store.h"
#include "storage/storage_test_util.h"

namespace fleet::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

class SqliteAdminTest : public ::testing::Test {
 protected:
  // A fleet database with two servers, a key linked to both and a setting; left open.
  std::unique_ptr<Store> OpenPopulated() {
    auto store = OpenSqliteStore({.path = path_}).value();
    for (const char* name : {"alpha", "beta"}) {
      Server server;
      server.name = name;
      server.url = std::string("https://") + name + ".example.com";
      EXPECT_TRUE(store->CreateServer(server, 10).has_value());
    }
    ApiKey key;
    key.name = "k1";
    key.sealed_secret = std::string("\x01\x02\0sealed", 9);
    EXPECT_TRUE(store->CreateApiKey(key, 10).has_value());
    EXPECT_TRUE(store->Link("k1", "alpha", true, 10).has_value());
    EXPECT_TRUE(store->Link("k1", "beta", false, 10).has_value());
    EXPECT_TRUE(store->SetMeta("master-check", "abc").has_value());
    return store;
  }

  TempDir dir_{};
  std::string path_{dir_.File("fleet.db")};
  std::string backup_{dir_.File("backup.db")};
};

TEST_F(SqliteAdminTest, BackupOfAnOpenDatabaseIsAValidCopyWithTheSameRows) {
  auto source = OpenPopulated();

  auto backed_up = BackupSqlite(path_, backup_);

  ASSERT_TRUE(backed_up.has_value()) << backed_up.error().message;
  EXPECT_EQ(FileMode(backup_), 0600);
  EXPECT_EQ(ValidateFleetDatabase(backup_).value(), CurrentSchemaVersion());
  auto copy = OpenSqliteStore({.path = backup_, .create = false}).value();
  const StoreStatus status = copy->Status().value();
  EXPECT_EQ(status.servers, 2);
  EXPECT_EQ(status.api_keys, 1);
  EXPECT_EQ(status.links, 2);
  const ApiKey key = copy->GetApiKey("k1").value();
  EXPECT_EQ(key.sealed_secret, std::string("\x01\x02\0sealed", 9));
  EXPECT_THAT(key.servers, ElementsAre("alpha", "beta"));
  EXPECT_EQ(copy->GetMeta("master-check").value(), "abc");
}

TEST_F(SqliteAdminTest, BackupRefusesToOverwriteAnExistingFile) {
  auto source = OpenPopulated();
  std::ofstream(backup_) << "precious";

  auto backed_up = BackupSqlite(path_, backup_);

  ASSERT_FALSE(backed_up.has_value());
  EXPECT_EQ(backed_up.error().code, ErrorCode::kAlreadyExists);
  EXPECT_THAT(backed_up.error().message, HasSubstr(backup_));
  EXPECT_EQ(ReadFile(backup_), "precious");
}

TEST_F(SqliteAdminTest, BackupOfAMissingSourceIsNotFound) {
  auto backed_up = BackupSqlite(path_, backup_);

  ASSERT_FALSE(backed_up.has_value());
  EXPECT_EQ(backed_up.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(FileMode(backup_), -1);
}

TEST_F(SqliteAdminTest, BackupOfANonDatabaseIsCorruptAndLeavesNoFileBehind) {
  std::ofstream(path_, std::ios::binary) << std::string(8192, '\x7f');

  auto backed_up = BackupSqlite(path_, backup_);

  ASSERT_FALSE(backed_up.has_value());
  EXPECT_EQ(backed_up.error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(FileMode(backup_), -1);
}

TEST_F(SqliteAdminTest, ValidateReturnsTheSchemaVersionOfAHealthyDatabaseInUse) {
  auto store = OpenPopulated();  // still open: its changes sit in the WAL

  auto version = ValidateFleetDatabase(path_);

  ASSERT_TRUE(version.has_value()) << version.error().message;
  EXPECT_EQ(*version, CurrentSchemaVersion());
}

TEST_F(SqliteAdminTest, ValidateCallsRandomBytesCorrupt) {
  std::string noise;
  for (int i = 0; i < 10000; ++i) noise += static_cast<char>((i * 7919 + 13) % 251);
  std::ofstream(path_, std::ios::binary) << noise;

  auto version = ValidateFleetDatabase(path_);

  ASSERT_FALSE(version.has_value());
  EXPECT_EQ(version.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(version.error().message, HasSubstr(path_));
}

TEST_F(SqliteAdminTest, ValidateCallsAnotherApplicationsDatabaseCorrupt) {
  ASSERT_EQ(ExecSqlite(path_, "CREATE TABLE notes (body TEXT)"), "");

  auto version = ValidateFleetDatabase(path_);

  ASSERT_FALSE(version.has_value());
  EXPECT_EQ(version.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(version.error().message, HasSubstr("schema_version"));
}

TEST_F(SqliteAdminTest, ValidateCallsADamagedDatabaseCorrupt) {
  ASSERT_EQ(
      ExecSqlite(path_,
                 "PRAGMA journal_mode = DELETE; CREATE TABLE schema_version (version INTEGER);"
                 "INSERT INTO schema_version VALUES (1);"
                 "CREATE TABLE t (x TEXT); CREATE INDEX t_x ON t (x);"
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                 "WHERE i < 2000) INSERT INTO t SELECT printf('row-%06d', i) FROM n;"),
      "");
  {
    // Scribble over the middle of the file, past the schema page.
    std::fstream file(path_, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(std::filesystem::file_size(path_) / 2));
    file << std::string(3000, '\xee');
  }

  auto version = ValidateFleetDatabase(path_);

  ASSERT_FALSE(version.has_value());
  EXPECT_EQ(version.error().code, ErrorCode::kCorrupt);
}

TEST_F(SqliteAdminTest, ValidateOfAMissingFileIsNotFound) {
  EXPECT_EQ(ValidateFleetDatabase(path_).error().code, ErrorCode::kNotFound);
}

TEST_F(SqliteAdminTest, CompactShrinksTheFileAndKeepsTheRows) {
  {
    auto store = OpenPopulated();
    for (int i = 0; i < 300; ++i) {
      Server server;
      server.name = "bulk-" + std::to_string(i);
      server.url = "https://bulk.example.com";
      server.description = std::string(2000, 'x');
      ASSERT_TRUE(store->CreateServer(server, 10).has_value());
    }
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE(store->DeleteServer("bulk-" + std::to_string(i), false).has_value());
    }
  }

  auto sizes = CompactSqlite(path_);

  ASSERT_TRUE(sizes.has_value()) << sizes.error().message;
  EXPECT_GT(sizes->first, sizes->second);
  EXPECT_EQ(sizes->second, static_cast<int64_t>(std::filesystem::file_size(path_)));
  EXPECT_EQ(FileMode(path_), 0600);
  auto store = OpenSqliteStore({.path = path_, .create = false}).value();
  EXPECT_EQ(store->Status().value().servers, 2);
}

TEST_F(SqliteAdminTest, CompactOfAMissingFileIsNotFound) {
  EXPECT_EQ(CompactSqlite(path_).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace fleet::storage
