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

TEST(MigrationsTest, OpeningAVersionTwoDatabaseAddsSigningKeysAndKeepsItsRows) {
  TempDir dir;
  const std::string path = dir.File("v2.db");
  {
    Database db = Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE).value();
    ASSERT_EQ(Migrate(db, FleetMigrations(), 2, 100).value(), 2);
    ASSERT_TRUE(
        db.Exec("INSERT INTO servers (name, url, created_at, updated_at) "
                "VALUES ('legacy', 'https://legacy.example.com', 5, 5); "
                "INSERT INTO api_keys (name, sealed_secret, created_at) "
                "VALUES ('k1', x'0102', 6); "
                "INSERT INTO server_api_keys (server_id, api_key_id, is_primary, linked_at) "
                "VALUES (1, 1, 1, 7); "
                "INSERT INTO meta (key, value) VALUES ('check', 'sealed')",
                "seed")
            .has_value());
    ASSERT_FALSE(db.TableExists("signing_keys"));
  }

  auto store = OpenSqliteStore({.path = path, .create = false});

  ASSERT_TRUE(store.has_value()) << store.error().message;
  const StoreStatus status = (*store)->Status().value();
  EXPECT_EQ(status.schema_version, CurrentSchemaVersion());
  EXPECT_EQ(status.servers, 1);
  EXPECT_EQ(status.api_keys, 1);
  EXPECT_EQ(status.links, 1);
  EXPECT_EQ(status.signing_keys, 0);
  EXPECT_EQ((*store)->GetApiKey("k1").value().servers, std::vector<std::string>{"legacy"});
  EXPECT_EQ((*store)->GetMeta("check").value(), "sealed");
  EXPECT_EQ((*store)->GetActiveSigningKey().error().code, ErrorCode::kNotFound);
  EXPECT_EQ(QuerySqlite(path, "SELECT description FROM schema_version WHERE version = 3"),
            "token-exchange signing keys");
}

TEST(MigrationsTest, OpeningAVersionThreeDatabaseAddsUsageAndRunsAndKeepsItsRows) {
  TempDir dir;
  const std::string path = dir.File("v3.db");
  {
    Database db = Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE).value();
    ASSERT_EQ(Migrate(db, FleetMigrations(), 3, 100).value(), 3);
    ASSERT_TRUE(
        db.Exec("INSERT INTO servers (name, url, customer, tracking_since, created_at, "
                "updated_at) VALUES ('legacy', 'https://legacy.example.com', 'acme', "
                "'2026-01-01', 5, 5); "
                "INSERT INTO signing_keys (kid, alg, issuer, sealed_private_key, public_pem, "
                "state, created_at) VALUES ('k1', 'ES256', 'https://i', x'00', 'pem', "
                "'active', 6)",
                "seed")
            .has_value());
    ASSERT_FALSE(db.TableExists("usage_daily"));
  }

  auto store = OpenSqliteStore({.path = path, .create = false});

  ASSERT_TRUE(store.has_value()) << store.error().message;
  const StoreStatus status = (*store)->Status().value();
  EXPECT_EQ(status.schema_version, CurrentSchemaVersion());
  EXPECT_EQ(status.servers, 1);
  EXPECT_EQ(status.signing_keys, 1);
  EXPECT_EQ(status.usage_rows, 0);
  EXPECT_EQ(status.runs, 0);
  EXPECT_EQ((*store)->GetActiveSigningKey().value().kid, "k1");
  DailyUsage usage;
  usage.server = "legacy";
  usage.day = "2026-01-02";
  usage.total = 3;
  ASSERT_TRUE((*store)->UpsertDailyUsage({usage}).has_value());
  EXPECT_EQ((*store)->ListDailyUsage({}).value().at(0).customer, "acme");
  EXPECT_EQ((*store)->CreateRun(CollectionRun{}).value(), 1);
  EXPECT_EQ(QuerySqlite(path, "SELECT description FROM schema_version WHERE version = 4"),
            "daily usage, unrecoverable days and collection runs");
}

TEST(MigrationsTest, OpeningAVersionFourDatabaseAddsTokensAndReportsAndKeepsItsUsage) {
  TempDir dir;
  const std::string path = dir.File("v4.db");
  {
    Database db = Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE).value();
    ASSERT_EQ(Migrate(db, FleetMigrations(), 4, 100).value(), 4);
    ASSERT_TRUE(
        db.Exec("INSERT INTO servers (name, url, customer, tracking_since, created_at, "
                "updated_at) VALUES ('legacy', 'https://legacy.example.com', 'acme', "
                "'2026-03-01', 5, 5); "
                "INSERT INTO usage_daily (server_id, server_name, customer, day, total, failed, "
                "collected_at, source) VALUES (1, 'legacy', 'acme', '2026-03-02', 30, 3, 70, "
                "'pull'), (1, 'legacy', 'acme', '2026-03-02', 31, 0, 80, 'push')",
                "seed")
            .has_value());
    ASSERT_FALSE(db.TableExists("api_tokens"));
  }

  auto store = OpenSqliteStore({.path = path, .create = false});

  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_EQ((*store)->Status().value().schema_version, CurrentSchemaVersion());
  EXPECT_EQ((*store)->Status().value().usage_rows, 2);
  const std::vector<MonthlyRow> totals =
      (*store)->UsageTotals("2026-03-01", "2026-03-31", GroupBy::kServer).value();
  ASSERT_EQ(totals.size(), 1u);
  EXPECT_EQ(totals[0].total, 30);
  EXPECT_EQ(totals[0].push_total, 31);
  EXPECT_EQ(totals[0].disagreements, 1);
  EXPECT_EQ((*store)->LastCollectedAt().value().at("legacy"), 70);
  ApiToken token;
  token.name = "legacy-report";
  token.token_hash = "abc123";
  token.server = "legacy";
  ASSERT_TRUE((*store)->CreateApiToken(token, 90).has_value());
  InstanceReport report;
  report.server = "legacy";
  report.batch_id = "b-1";
  ASSERT_TRUE((*store)->RecordInstanceReport(report, {}).has_value());
  EXPECT_EQ((*store)->ListInstanceReports("legacy", 0).value().size(), 1u);
  EXPECT_EQ(QuerySqlite(path, "SELECT description FROM schema_version WHERE version = 5"),
            "API tokens, instance reports and usage indexes");
  EXPECT_EQ(QuerySqlite(path,
                        "SELECT COUNT(*) FROM sqlite_master WHERE name IN "
                        "('usage_daily_by_day', 'usage_daily_push_by_day', "
                        "'usage_daily_last_collected')"),
            "3");
}

TEST(MigrationsTest, OpeningAVersionSevenDatabaseAddsLocalWorkflowsAndKeepsItsServers) {
  TempDir dir;
  const std::string path = dir.File("v7.db");
  {
    Database db = Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE).value();
    ASSERT_EQ(Migrate(db, FleetMigrations(), 7, 100).value(), 7);
    ASSERT_TRUE(db.Exec("INSERT INTO servers (name, url, created_at, updated_at) "
                        "VALUES ('legacy', 'https://legacy.example.com', 5, 5)",
                        "seed")
                    .has_value());
    ASSERT_FALSE(db.TableExists("workflows"));
  }

  auto store = OpenSqliteStore({.path = path, .create = false});

  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_EQ((*store)->Status().value().schema_version, CurrentSchemaVersion());
  EXPECT_TRUE((*store)->ListLocalWorkflows().value().empty());
  auto saved = (*store)->SaveLocalWorkflow({0, "flow", "/flows/flow.json", "", 0, 0, {}}, 90);
  ASSERT_TRUE(saved.has_value()) << saved.error().message;
  ASSERT_TRUE(
      (*store)->SaveWorkflowMapping(saved->id, {"legacy", "r1", "", "pull", 90}).has_value());
  EXPECT_EQ((*store)->ListLocalWorkflows().value().at(0).mappings.at(0).server, "legacy");
  EXPECT_EQ(QuerySqlite(path, "SELECT description FROM schema_version WHERE version = 8"),
            "local workflows and their ids on each server");
}

TEST(MigrationsTest, TheSchemaItselfMapsARemoteWorkflowToOneLocalWorkflow) {
  Database db = OpenMemory();
  ASSERT_TRUE(Migrate(db, FleetMigrations(), 8, 100).has_value());
  ASSERT_TRUE(
      db.Exec("PRAGMA foreign_keys = ON; "
              "INSERT INTO servers (id, name, url, created_at, updated_at) "
              "VALUES (1, 'a', 'https://a', 1, 1); "
              "INSERT INTO workflows (id, name, file, created_at, updated_at) "
              "VALUES (1, 'x', '/x.json', 1, 1), (2, 'y', '/y.json', 1, 1)",
              "seed"));
  const std::string insert =
      "INSERT INTO workflow_mappings (workflow_id, server_id, remote_id, last_action, last_at) "
      "VALUES ";
  ASSERT_TRUE(db.Exec(insert + "(1, 1, 'r1', 'pull', 1)", "t"));

  auto same_remote = db.Exec(insert + "(2, 1, 'r1', 'pull', 1)", "t");
  auto second_for_server = db.Exec(insert + "(1, 1, 'r2', 'pull', 1)", "t");
  auto unknown_server = db.Exec(insert + "(2, 9, 'r3', 'pull', 1)", "t");
  auto empty_remote = db.Exec(insert + "(2, 1, '', 'pull', 1)", "t");
  auto same_file = db.Exec(
      "INSERT INTO workflows (name, file, created_at, updated_at) VALUES ('z', '/x.json', 1, 1)",
      "t");

  ASSERT_FALSE(same_remote.has_value());
  EXPECT_EQ(same_remote.error().code, ErrorCode::kAlreadyExists);
  ASSERT_FALSE(second_for_server.has_value());
  EXPECT_EQ(second_for_server.error().code, ErrorCode::kAlreadyExists);
  EXPECT_FALSE(unknown_server.has_value());
  EXPECT_FALSE(empty_remote.has_value());
  ASSERT_FALSE(same_file.has_value());
  EXPECT_EQ(same_file.error().code, ErrorCode::kAlreadyExists);
  ASSERT_TRUE(db.Exec("DELETE FROM servers WHERE id = 1", "t"));
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM workflow_mappings", "t").value(), 0);
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM workflows", "t").value(), 2);
}

TEST(MigrationsTest, TheSchemaItselfRefusesImpossibleUsage) {
  Database db = OpenMemory();
  ASSERT_TRUE(Migrate(db, FleetMigrations(), 4, 100).has_value());
  const std::string insert =
      "INSERT INTO usage_daily (server_name, day, total, failed, collected_at, source) VALUES ";
  ASSERT_TRUE(db.Exec(insert + "('a', '2026-01-01', 5, 5, 1, 'pull')", "t"));

  auto twice = db.Exec(insert + "('a', '2026-01-01', 6, 0, 1, 'pull')", "t");
  auto failed_above_total = db.Exec(insert + "('a', '2026-01-02', 5, 6, 1, 'pull')", "t");
  auto negative = db.Exec(insert + "('a', '2026-01-03', -1, 0, 1, 'pull')", "t");
  auto unknown_source = db.Exec(insert + "('a', '2026-01-04', 1, 0, 1, 'guess')", "t");

  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code, ErrorCode::kAlreadyExists);
  ASSERT_FALSE(failed_above_total.has_value());
  EXPECT_EQ(failed_above_total.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(negative.has_value());
  EXPECT_FALSE(unknown_source.has_value());
  EXPECT_TRUE(db.Exec(insert + "('a', '2026-01-01', 9, 0, 1, 'push')", "t").has_value());
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM usage_daily", "t").value(), 2);
}

TEST(MigrationsTest, TheSchemaItselfAllowsOnlyOneActiveSigningKey) {
  Database db = OpenMemory();
  ASSERT_TRUE(Migrate(db, FleetMigrations(), 3, 100).has_value());
  const std::string insert =
      "INSERT INTO signing_keys (kid, alg, issuer, sealed_private_key, public_pem, state, "
      "created_at) VALUES ";
  ASSERT_TRUE(db.Exec(insert + "('a', 'ES256', 'https://i', x'00', 'pem', 'active', 1)", "t"));
  ASSERT_TRUE(db.Exec(insert + "('b', 'RS256', 'https://i', x'00', 'pem', 'standby', 1)", "t"));

  auto second_active =
      db.Exec(insert + "('c', 'ES256', 'https://i', x'00', 'pem', 'active', 1)", "t");
  auto hmac = db.Exec(insert + "('d', 'HS256', 'https://i', x'00', 'pem', 'standby', 1)", "t");
  auto unknown_state = db.Exec(insert + "('e', 'ES256', 'https://i', x'00', 'pem', 'on', 1)", "t");

  ASSERT_FALSE(second_active.has_value());
  EXPECT_EQ(second_active.error().code, ErrorCode::kAlreadyExists);
  EXPECT_FALSE(hmac.has_value());
  EXPECT_FALSE(unknown_state.has_value());
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM signing_keys", "t").value(), 2);
}

}  // namespace
}  // namespace fleet::storage
