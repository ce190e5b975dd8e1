#include "storage/migrations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/sqlite_store.h"
#include "storage/storage_test_util.h"

namespace fleet::storage {
namespace {

using ::testing::HasSubstr;

constexpr Migration kTwoSteps[] = {
    {1, "first", "CREATE TABLE a (x INTEGER)"},
    {2, "second", "CREATE TABLE b (y INTEGER)"},
};

Database OpenMemory() {
  return Database::Open(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE).value();
}

TEST(MigrationsTest, CurrentSchemaVersionIsTheLastMigrationsVersion) {
  ASSERT_FALSE(FleetMigrations().empty());
  EXPECT_EQ(CurrentSchemaVersion(), FleetMigrations().back().version);
  int previous = 0;
  for (const Migration& migration : FleetMigrations()) {
    EXPECT_GT(migration.version, previous) << "versions must increase";
    previous = migration.version;
  }
}

TEST(MigrationsTest, MigrateUpToATargetAppliesOnlyThoseSteps) {
  Database db = OpenMemory();

  auto version = Migrate(db, kTwoSteps, 1, 100);

  ASSERT_TRUE(version.has_value()) << version.error().message;
  EXPECT_EQ(*version, 1);
  EXPECT_TRUE(db.TableExists("a"));
  EXPECT_FALSE(db.TableExists("b"));
}

TEST(MigrationsTest, MigrateResumesFromTheStoredVersionAndRecordsEachStep) {
  Database db = OpenMemory();
  ASSERT_TRUE(Migrate(db, kTwoSteps, 1, 100).has_value());

  auto version = Migrate(db, kTwoSteps, 2, 200);

  ASSERT_TRUE(version.has_value()) << version.error().message;
  EXPECT_EQ(*version, 2);
  EXPECT_TRUE(db.TableExists("b"));
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM schema_version", "t").value(), 2);
  EXPECT_EQ(db.QueryInt("SELECT applied_at FROM schema_version WHERE version = 2", "t").value(),
            200);
}

TEST(MigrationsTest, AFailingStepRollsBackAndKeepsThePreviousVersion) {
  constexpr Migration kBroken[] = {
      {1, "first", "CREATE TABLE a (x INTEGER)"},
      {2, "broken", "CREATE TABLE c (z INTEGER); THIS IS NOT SQL"},
  };
  Database db = OpenMemory();

  auto version = Migrate(db, kBroken, 2, 100);

  ASSERT_FALSE(version.has_value());
  EXPECT_THAT(version.error().message, HasSubstr("migration 2 (broken)"));
  EXPECT_FALSE(db.TableExists("c"));
  EXPECT_EQ(ReadSchemaVersion(db).value(), 1);
}

TEST(MigrationsTest, ADatabaseNewerThanTheTargetIsRefused) {
  Database db = OpenMemory();
  ASSERT_TRUE(Migrate(db, kTwoSteps, 2, 100).has_value());

  auto version = Migrate(db, kTwoSteps, 1, 100);

  ASSERT_FALSE(version.has_value());
  EXPECT_EQ(version.error().code, ErrorCode::kFailedPrecondition);
}

TEST(MigrationsTest, OpeningAVersionOneDatabaseUpgradesItInPlace) {
  TempDir dir;
  const std::string path = dir.File("old.db");
  {
    Database db = Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE).value();
    ASSERT_EQ(Migrate(db, FleetMigrations(), 1, 100).value(), 1);
    ASSERT_TRUE(db.Exec("INSERT INTO servers (name, url, created_at, updated_at) "
                        "VALUES ('legacy', 'https://legacy.example.com', 5, 5)",
                        "seed")
                    .has_value());
  }
  ASSERT_EQ(QuerySqlite(path,
                        "SELECT COUNT(*) FROM sqlite_master WHERE name = "
                        "'server_api_keys_by_key'"),
            "0");

  auto store = OpenSqliteStore({.path = path, .create = false});

  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_EQ((*store)->Status().value().schema_version, CurrentSchemaVersion());
  EXPECT_EQ((*store)->GetServer("legacy").value().url, "https://legacy.example.com");
  EXPECT_EQ(QuerySqlite(path,
                        "SELECT COUNT(*) FROM sqlite_master WHERE name = "
                        "'server_api_keys_by_key'"),
            "1");
  EXPECT_EQ(QuerySqlite(path, "SELECT COUNT(*) FROM schema_version"),
            std::to_string(CurrentSchemaVersion()));
}

}  // namespace
}  // namespace fleet::storage
