// The SQLite data version (schema 6): shared by every connection to the file, and added to
// databases written before it.

#include <gtest/gtest.h>

#include "storage/sqlite_store.h"
#include "storage/storage_test_util.h"

namespace fleet::storage {
namespace {

TEST(SqliteDataVersionTest, AWriteOnOneConnectionChangesTheVersionAnotherReads) {
  TempDir dir;
  const std::string path = dir.File("fleet.db");
  auto writer = OpenSqliteStore({.path = path});
  auto reader = OpenSqliteStore({.path = path});
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  const int64_t before = (*reader)->DataVersion().value();
  Server server;
  server.name = "alpha";
  server.url = "https://alpha.example.com";

  ASSERT_TRUE((*writer)->CreateServer(server, 1760000000));

  EXPECT_EQ((*reader)->DataVersion().value(), (*writer)->DataVersion().value());
  EXPECT_NE((*reader)->DataVersion().value(), before);
}

TEST(SqliteDataVersionTest, TheVersionRowIsOneCounterStartedAtRandom) {
  TempDir dir;
  const std::string first = dir.File("first.db");
  const std::string second = dir.File("second.db");
  ASSERT_TRUE(OpenSqliteStore({.path = first}).has_value());
  ASSERT_TRUE(OpenSqliteStore({.path = second}).has_value());

  EXPECT_EQ(QuerySqlite(first, "SELECT COUNT(*) FROM data_version"), "1");
  // Two databases start apart (a 2^-48 chance of a false failure), so a cache keyed by the
  // version cannot mistake one database for another.
  EXPECT_NE(QuerySqlite(first, "SELECT version FROM data_version"),
            QuerySqlite(second, "SELECT version FROM data_version"));
  EXPECT_EQ(QuerySqlite(first, "SELECT description FROM schema_version WHERE version = 6"),
            "a data version bumped by every change to usage and servers");
}

}  // namespace
}  // namespace fleet::storage
