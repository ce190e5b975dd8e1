// End-to-end: `n8n-fleet db ...`, `env`, file modes, encryption at rest, bad databases and keys.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "cli_test_util.h"

namespace fleet::testing {
namespace {

int Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 0777);
}

class DbCliTest : public CliTest {
 protected:
  void Seed() {
    Ok({"server", "create", "a", "http://a.example"});
    Ok({"apikey", "add", MakeApiKey("seed", 1700000000), "--name", "k", "--server", "a"});
  }
};

TEST_F(DbCliTest, InitCreatesAPrivateHomeAndDatabase) {
  if (OnPostgres()) GTEST_SKIP() << "SQLite file behaviour (PostgreSQL: cli_postgres_test.cc)";
  auto result = Json({"db", "init", "--json"});
  EXPECT_EQ(result["database"], db());
  EXPECT_GE(result["schema_version"].get<int>(), 1);
  EXPECT_EQ(Mode(home()), 0700);
  EXPECT_EQ(Mode(db()), 0600);
  EXPECT_EQ(Mode(home() + "/master.key"), 0600);
  Ok({"db", "init"});  // idempotent
}

TEST_F(DbCliTest, StatusReportsCountsAndEncryption) {
  if (OnPostgres()) GTEST_SKIP() << "SQLite file behaviour (PostgreSQL: cli_postgres_test.cc)";
  Seed();
  auto status = Json({"db", "status", "--json"});
  EXPECT_EQ(status["backend"], "sqlite");
  EXPECT_EQ(status["path"], db());
  EXPECT_EQ(status["servers"], 1);
  EXPECT_EQ(status["api_keys"], 1);
  EXPECT_EQ(status["links"], 1);
  EXPECT_GT(status["size_bytes"].get<int64_t>(), 0);
  EXPECT_NE(status["encryption"].get<std::string>().find("XSalsa20-Poly1305"), std::string::npos);
  auto table = Ok({"db", "status"});
  EXPECT_NE(table.out.find("Schema version"), std::string::npos);
}

TEST_F(DbCliTest, RawKeyBytesNeverReachTheDatabaseFiles) {
  if (OnPostgres()) GTEST_SKIP() << "SQLite file behaviour (PostgreSQL: cli_postgres_test.cc)";
  std::string key = MakeApiKey("needle-subject-0123456789", 1700000000);
  Ok({"apikey", "add", key, "--name", "k"});
  Ok({"apikey", "rotate", "k", key});
  std::string payload = key.substr(key.find('.') + 1, 40);
  for (const std::string& path : {db(), db() + "-wal", db() + "-shm"}) {
    std::string bytes = ReadAll(path);
    EXPECT_EQ(bytes.find(key), std::string::npos) << path;
    EXPECT_EQ(bytes.find(payload), std::string::npos) << path;
  }
  Ok({"db", "compact"});
  EXPECT_EQ(ReadAll(db()).find(payload), std::string::npos);
}

TEST_F(DbCliTest, AWrongMasterKeyIsRefusedAndNothingIsOverwritten) {
  if (OnPostgres()) GTEST_SKIP() << "SQLite file behaviour (PostgreSQL: cli_postgres_test.cc)";
  Seed();
  Ok({"db", "compact"});
  std::string before = ReadAll(db());
  std::string other_key(64, 'a');  // 32 bytes in hex, not this database's key
  auto result = Run({"apikey", "list", "--unmask"}, {.env = {{"N8N_FLEET_MASTER_KEY", other_key}}});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("master key does not match"), std::string::npos) << result.err;
  auto add = Run({"apikey", "add", MakeApiKey("x", 1700000000), "--name", "x"},
                 {.env = {{"N8N_FLEET_MASTER_KEY", other_key}}});
  EXPECT_EQ(add.exit_code, 1);
  EXPECT_EQ(ReadAll(db()), before);
  EXPECT_EQ(Json({"apikey", "list", "--json"}).size(), 1u);
}

TEST_F(DbCliTest, AMissingMasterKeyIsNotSilentlyReplaced) {
  Seed();
  std::filesystem::rename(home() + "/master.key", dir_.path() + "/saved.key");
  auto result = Run({"apikey", "list"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("master key is missing"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(home() + "/master.key"));
  std::filesystem::rename(dir_.path() + "/saved.key", home() + "/master.key");
  Ok({"apikey", "list"});
}

TEST_F(DbCliTest, MasterKeyFromTheEnvironmentWorksWithoutAFile) {
  std::string env_key(64, 'b');
  ProcessOptions with_key{.env = {{"N8N_FLEET_MASTER_KEY", env_key}}};
  Ok({"apikey", "add", MakeApiKey("x", 1700000000), "--name", "k"}, with_key);
  EXPECT_FALSE(std::filesystem::exists(home() + "/master.key"));
  auto list = Run({"apikey", "list", "--json", "--unmask"}, with_key);
  EXPECT_EQ(list.exit_code, 0) << list.err;
  auto bad = Run({"apikey", "list"}, {.env = {{"N8N_FLEET_MASTER_KEY", "short"}}});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err.find("short"), std::string::npos) << "the key value was echoed";
}

TEST_F(DbCliTest, ACorruptDatabaseGivesAClearErrorAndIsLeftAlone) {
  if (OnPostgres()) GTEST_SKIP() << "SQLite file behaviour (PostgreSQL: cli_postgres_test.cc)";
  std::filesystem::create_directories(home());
  std::ofstream(db(), std::ios::binary) << std::string(8192, 'x');
  auto result = Run({"server", "list"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find(db()), std::string::npos) << result.err;
  EXPECT_EQ(ReadAll(db()), std::string(8192, 'x'));
}

TEST_F(DbCliTest, BackupAndRestoreBringBackTheSavedState) {
  if (OnPostgres()) GTEST_SKIP() << "SQLite file behaviour (PostgreSQL: cli_postgres_test.cc)";
  Seed();
  std::string backup = dir_.path() + "/backup.db";
  Ok({"db", "backup", backup});
  EXPECT_EQ(Mode(backup), 0600);
  EXPECT_EQ(Run({"db", "backup", backup}).exit_code, 1);  // never overwrites
  Ok({"server", "remove", "a", "--confirm", "--delete-keys"});
  Ok({"server", "create", "later", "http://later.example"});
  auto restored = Json({"db", "restore", backup, "--json"});
  EXPECT_TRUE(std::filesystem::exists(restored["previous"].get<std::string>()));
  auto servers = Json({"server", "list", "--json"});
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0]["name"], "a");
  EXPECT_EQ(Json({"apikey", "list", "--json"}).size(), 1u);
  auto default_backup = Json({"db", "backup", "--json"});
  EXPECT_EQ(default_backup["backup"].get<std::string>().rfind(home() + "/backups/fleet-", 0), 0u);
}

TEST_F(DbCliTest, RestoreRefusesAnInvalidFileAndKeepsTheCurrentDatabase) {
  if (OnPostgres()) GTEST_SKIP() << "SQLite file behaviour (PostgreSQL: cli_postgres_test.cc)";
  Seed();
  std::string junk = dir_.path() + "/junk.db";
  std::ofstream(junk, std::ios::binary) << "SQLite format 3 but not really";
  auto result = Run({"db", "restore", junk});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("refusing to restore"), std::string::npos) << result.err;
  EXPECT_EQ(Json({"server", "list", "--json"}).size(), 1u);
  EXPECT_EQ(Run({"db", "restore", dir_.path() + "/absent.db"}).exit_code, 1);
}

TEST_F(DbCliTest, RestoreRefusesABackupSealedWithAnotherMasterKey) {
  if (OnPostgres()) GTEST_SKIP() << "SQLite file behaviour (PostgreSQL: cli_postgres_test.cc)";
  std::string other_home = dir_.path() + "/other";
  auto other = RunProcess({FleetBinary(), "--home", other_home, "apikey", "add",
                           MakeApiKey("x", 1700000000), "--name", "foreign"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  Seed();
  auto result = Run({"db", "restore", other_home + "/fleet.db"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("master key does not match"), std::string::npos) << result.err;
  EXPECT_EQ(Json({"apikey", "list", "--json"})[0]["name"], "k");
}

TEST_F(DbCliTest, EnvShowsValuesAndWhereTheyCameFrom) {
  std::string api_key = MakeApiKey("env", 1700000000);
  auto result = Run({"env", "--json"}, {.env = {{"N8N_FLEET_DB", dir_.path() + "/x.db"},
                                                {"N8N_SERVER_URL", "http://n8n.example"},
                                                {"N8N_API_KEY", api_key}}});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto env = nlohmann::json::parse(result.out);
  EXPECT_EQ(env["home"]["value"], home());
  EXPECT_EQ(env["home"]["source"], "flag --home");
  EXPECT_EQ(env["database"]["source"], "env N8N_FLEET_DB");
  EXPECT_EQ(env["server url"]["value"], "http://n8n.example");
  EXPECT_EQ(env["api key"]["source"], "env N8N_API_KEY");
  EXPECT_EQ(result.out.find(api_key), std::string::npos) << "N8N_API_KEY printed in clear";
  auto defaults =
      RunProcess({FleetBinary(), "env", "--json"},
                 {.env = {{"HOME", dir_.path()}}, .unset_env = {"N8N_FLEET_HOME", "N8N_FLEET_DB"}});
  auto env2 = nlohmann::json::parse(defaults.out);
  EXPECT_EQ(env2["home"]["value"], dir_.path() + "/.n8n-fleet");
  EXPECT_EQ(env2["home"]["source"], "default");
  EXPECT_EQ(env2["database"]["value"], dir_.path() + "/.n8n-fleet/fleet.db");
}

TEST_F(DbCliTest, EnvShowsTheServiceConfigurationMergedFromItsFile) {
  std::string config = dir_.path() + "/fleet.toml";
  std::ofstream(config) << "collect_at = \"04:15\"\nconcurrency = 16\n";
  auto env = Json({"env", "--json", "--config", config});
  EXPECT_EQ(env["serve.config"]["value"], config);
  EXPECT_EQ(env["serve.collect_at"]["value"], "04:15");
  EXPECT_EQ(env["serve.collect_at"]["source"], "file " + config);
  EXPECT_EQ(env["serve.concurrency"]["value"], "16");
  EXPECT_EQ(env["serve.listen"]["value"], "127.0.0.1:8080");
  EXPECT_EQ(env["serve.listen"]["source"], "default");
  // <home>/config.toml is picked up without --config; a typo in it is an error naming the key.
  std::filesystem::create_directories(home());
  std::ofstream(home() + "/config.toml") << "colect_at = \"04:15\"\n";
  auto typo = Run({"env"});
  EXPECT_EQ(typo.exit_code, 1);
  EXPECT_NE(typo.err.find("colect_at"), std::string::npos) << typo.err;
}

TEST_F(DbCliTest, DbFlagAndHomeFromTheEnvironmentAreHonoured) {
  if (OnPostgres()) GTEST_SKIP() << "SQLite file behaviour (PostgreSQL: cli_postgres_test.cc)";
  std::string custom = dir_.path() + "/custom.db";
  auto result = RunProcess({FleetBinary(), "--db", custom, "server", "create", "a", "http://a.x"},
                           {.env = {{"N8N_FLEET_HOME", home()}}});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(std::filesystem::exists(custom));
  EXPECT_FALSE(std::filesystem::exists(db()));
  EXPECT_EQ(Mode(custom), 0600);
}

}  // namespace
}  // namespace fleet::testing
