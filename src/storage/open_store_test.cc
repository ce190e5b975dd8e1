#include "storage/open_store.h"

#include <gtest/gtest.h>

namespace fleet::storage {
namespace {

using Backend = DatabaseLocation::Backend;

TEST(ParseDatabaseLocationTest, APathIsASqliteFile) {
  for (std::string path : {"/var/lib/fleet/fleet.db", "fleet.db", ":memory:", "./a:b/c.db"}) {
    auto location = ParseDatabaseLocation(path);
    ASSERT_TRUE(location) << path;
    EXPECT_EQ(location->backend, Backend::kSqlite) << path;
    EXPECT_EQ(location->target, path);
    EXPECT_EQ(location->display(), path);
    EXPECT_EQ(location->backend_name(), "sqlite");
  }
}

TEST(ParseDatabaseLocationTest, BothPostgresSchemesSelectPostgres) {
  for (std::string url : {"postgresql://fleet@db.example:5432/fleet", "postgres://fleet@db/fleet",
                          "postgresql://", "postgresql:///fleet?host=/run/postgresql"}) {
    auto location = ParseDatabaseLocation(url);
    ASSERT_TRUE(location) << url;
    EXPECT_EQ(location->backend, Backend::kPostgres) << url;
    EXPECT_EQ(location->target, url);
    EXPECT_EQ(location->backend_name(), "postgresql");
  }
}

TEST(ParseDatabaseLocationTest, TheSchemeIsCaseInsensitiveAndNormalisedForLibpq) {
  auto location = ParseDatabaseLocation("PostgreSQL://fleet@db/Fleet");
  ASSERT_TRUE(location);
  EXPECT_EQ(location->backend, Backend::kPostgres);
  EXPECT_EQ(location->target, "postgresql://fleet@db/Fleet");
}

TEST(ParseDatabaseLocationTest, AnEmptyLocationIsRefused) {
  auto location = ParseDatabaseLocation("");
  ASSERT_FALSE(location);
  EXPECT_EQ(location.error().code, ErrorCode::kInvalidArgument);
}

TEST(ParseDatabaseLocationTest, AnUnknownSchemeIsRefusedWithoutQuotingTheUrl) {
  for (std::string url : {"mysql://root:hunter2secret@db/fleet", "sqlite3://x.db", "http://x"}) {
    auto location = ParseDatabaseLocation(url);
    ASSERT_FALSE(location) << url;
    EXPECT_EQ(location.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(location.error().message.find(url.substr(0, url.find("://") + 3)), std::string::npos)
        << location.error().message;
    EXPECT_EQ(location.error().message.find("hunter2secret"), std::string::npos);
  }
}

TEST(ParseDatabaseLocationTest, DisplayAndScrubHideThePassword) {
  auto location = ParseDatabaseLocation("postgresql://fleet:hunter2%21x@db.example:5432/fleet");
  ASSERT_TRUE(location);
  EXPECT_EQ(location->display().find("hunter2"), std::string::npos) << location->display();
  EXPECT_NE(location->display().find("db.example:5432/fleet"), std::string::npos);
  std::string message =
      "cannot connect to " + location->target + " (password hunter2%21x, decoded hunter2!x)";
  std::string scrubbed = location->Scrub(message);
  EXPECT_EQ(scrubbed.find("hunter2"), std::string::npos) << scrubbed;
  EXPECT_NE(scrubbed.find(location->display()), std::string::npos) << scrubbed;

  auto query = ParseDatabaseLocation("postgresql://db/fleet?user=fleet&password=s3cretpw");
  ASSERT_TRUE(query);
  EXPECT_EQ(query->Scrub("failed with s3cretpw").find("s3cretpw"), std::string::npos);
}

TEST(ParseDatabaseLocationTest, ScrubLeavesSqliteMessagesAlone) {
  auto location = ParseDatabaseLocation("/tmp/fleet.db");
  ASSERT_TRUE(location);
  EXPECT_EQ(location->Scrub("cannot open /tmp/fleet.db"), "cannot open /tmp/fleet.db");
}

}  // namespace
}  // namespace fleet::storage
