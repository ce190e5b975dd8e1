// End-to-end against a real PostgreSQL: every command through `--db postgresql://...`, the
// password never shown, `db migrate --to` from SQLite. Needs N8N_FLEET_TEST_POSTGRES (a URL of a
// database whose user may create databases and roles, e.g. from scripts/postgres.sh start);
// skipped without it unless N8N_FLEET_REQUIRE_POSTGRES=1.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>

#include <pqxx/pqxx>

#include "cli_test_util.h"
#include "core/time.h"
#include "storage/sqlite_store.h"
#include "testing/fake_n8n.h"

namespace fleet::testing {
namespace {

constexpr char kPassword[] = "Zq9-very-secret-pw";

// `url` with its database (the path) replaced by `database` and, when `userinfo` is given, its
// user[:password] replaced too.
std::string WithDatabase(const std::string& url, const std::string& database,
                         const std::string& userinfo = "") {
  size_t authority = url.find("://") + 3;
  size_t path = url.find('/', authority);
  std::string host = url.substr(authority, path == std::string::npos ? path : path - authority);
  size_t query = path == std::string::npos ? std::string::npos : url.find('?', path);
  if (!userinfo.empty()) {
    if (size_t at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
    host = userinfo + "@" + host;
  }
  return url.substr(0, authority) + host + "/" + database +
         (query == std::string::npos ? "" : url.substr(query));
}

std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::random_device random;
  return prefix + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
         std::to_string(random() % 100000);
}

// A fresh database (and possibly a role with a password) per test, dropped afterwards.
class PostgresCliTest : public CliTest {
 protected:
  void SetUp() override {
    const char* admin = std::getenv("N8N_FLEET_TEST_POSTGRES");
    if (admin == nullptr || *admin == '\0') {
      const char* require = std::getenv("N8N_FLEET_REQUIRE_POSTGRES");
      if (require != nullptr && std::string(require) == "1") {
        FAIL() << "N8N_FLEET_REQUIRE_POSTGRES=1 but N8N_FLEET_TEST_POSTGRES is unset";
      }
      GTEST_SKIP() << "set N8N_FLEET_TEST_POSTGRES (scripts/postgres.sh start DIR PORT)";
    }
    admin_ = admin;
    database_ = UniqueName("fleet_cli_");
    Admin("CREATE DATABASE " + database_);
    url_ = WithDatabase(admin_, database_);
  }

  void TearDown() override {
    if (!database_.empty()) Admin("DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
    if (!role_.empty()) {
      Admin("DROP OWNED BY " + role_);  // its grants in this database too
      Admin("DROP ROLE IF EXISTS " + role_);
    }
  }

  void Admin(const std::string& sql) {
    pqxx::connection connection(admin_);
    pqxx::nontransaction tx(connection);
    tx.exec0(sql);
  }

  // The test database's URL with a role that has a password (the test server trusts every
  // connection: the password is accepted and ignored, enough to check that it is never shown).
  std::string UrlWithPassword() {
    role_ = UniqueName("fleet_pw_");
    Admin("CREATE ROLE " + role_ + " LOGIN PASSWORD '" + kPassword + "'");
    Admin("ALTER DATABASE " + database_ + " OWNER TO " + role_);  // owns its public schema too
    return WithDatabase(admin_, database_, role_ + ":" + kPassword);
  }

  std::vector<std::string> OnPg(std::vector<std::string> args, const std::string& url = "") {
    args.insert(args.begin(), {"--db", url.empty() ? url_ : url});
    return args;
  }
  nlohmann::json PgJson(const std::vector<std::string>& args) { return Json(OnPg(args)); }

  std::string admin_, database_, role_, url_;
};

TEST_F(PostgresCliTest, ServersKeysAndUsageWorkEndToEnd) {
  FakeN8n n8n;
  Day today = DayOf(std::time(nullptr));
  for (int ago = 1; ago <= 5; ++ago) {
    n8n.SetDailyInsights(FormatDay(today - ago), {100 + ago, ago % 2, 1.0, 1000.0});
  }
  std::string key = MakeApiKey("pg", 1700000000);
  n8n.AcceptApiKey(key);
  Ok(OnPg({"server", "create", "a", n8n.url(), "--customer", "acme", "--tracking-since",
           FormatDay(today - 3)}));
  Ok(OnPg({"apikey", "add", key, "--name", "a-key", "--server", "a"}));
  auto servers = PgJson({"server", "list", "--json"});
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0]["name"], "a");
  EXPECT_EQ(servers[0]["customer"], "acme");
  auto keys = PgJson({"apikey", "list", "--json", "--unmask"});
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0]["name"], "a-key");
  EXPECT_EQ(Run(OnPg({"server", "create", "a", n8n.url()})).exit_code, 1);  // taken name

  auto run = PgJson({"collect", "--backfill", "--json"});
  EXPECT_EQ(run["status"], "succeeded") << run.dump();
  auto rows = PgJson({"usage", "show", "--server", "a", "--json"});
  ASSERT_EQ(rows.size(), 3u) << rows.dump();
  for (const auto& row : rows) {
    int64_t ago = today - ParseDay(row["day"].get<std::string>()).value();
    EXPECT_EQ(row["total"], 100 + ago) << row.dump();
  }
  // Everything went to PostgreSQL: no SQLite file, and the master key stays in the home.
  EXPECT_FALSE(std::filesystem::exists(db()));
  EXPECT_TRUE(std::filesystem::exists(home() + "/master.key"));
  auto status = PgJson({"db", "status", "--json"});
  EXPECT_EQ(status["backend"], "postgresql");
  EXPECT_EQ(status["servers"], 1);
  EXPECT_EQ(status["api_keys"], 1);
}

TEST_F(PostgresCliTest, StatusEnvAndErrorsNeverShowThePassword) {
  std::string url = UrlWithPassword();
  auto no_password = [](const ProcessResult& r) {
    EXPECT_EQ(r.out.find(kPassword), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find(kPassword), std::string::npos) << r.err;
  };
  no_password(Ok(OnPg({"db", "init"}, url)));
  auto status = Ok(OnPg({"db", "status", "--json"}, url));
  no_password(status);
  auto json = nlohmann::json::parse(status.out);
  EXPECT_EQ(json["backend"], "postgresql");
  EXPECT_NE(json["path"].get<std::string>().find("***"), std::string::npos) << json.dump();
  EXPECT_NE(json["path"].get<std::string>().find(database_), std::string::npos) << json.dump();
  auto table = Ok(OnPg({"db", "status"}, url));
  no_password(table);
  EXPECT_NE(table.out.find("postgresql"), std::string::npos) << table.out;

  auto env = Run({"env", "--json"}, {.env = {{"N8N_FLEET_DB", url}}});
  ASSERT_EQ(env.exit_code, 0) << env.err;
  no_password(env);
  auto settings = nlohmann::json::parse(env.out);
  EXPECT_EQ(settings["database"]["source"], "env N8N_FLEET_DB");
  EXPECT_NE(settings["database"]["value"].get<std::string>().find("***"), std::string::npos);
  // N8N_FLEET_DB selects PostgreSQL for the other commands too.
  auto list = Run({"server", "list", "--json"}, {.env = {{"N8N_FLEET_DB", url}}});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_FALSE(std::filesystem::exists(db()));

  // Unreachable server, unknown database: errors name the place, never the password.
  std::string closed = "postgresql://" + role_ + ":" + kPassword + "@127.0.0.1:1/" + database_;
  auto unreachable = Run(OnPg({"server", "list"}, closed));
  EXPECT_EQ(unreachable.exit_code, 1);
  no_password(unreachable);
  auto missing = Run(OnPg({"server", "list"}, WithDatabase(url, "no_such_database_here")));
  EXPECT_EQ(missing.exit_code, 1);
  no_password(missing);
  EXPECT_NE(missing.err.find("no_such_database_here"), std::string::npos) << missing.err;
  auto scheme =
      Run({"--db", "mysql://root:" + std::string(kPassword) + "@db/fleet", "server", "list"});
  EXPECT_EQ(scheme.exit_code, 1);
  no_password(scheme);
  EXPECT_NE(scheme.err.find("mysql://"), std::string::npos) << scheme.err;
}

TEST_F(PostgresCliTest, FileCommandsPointToThePostgresTools) {
  std::string url = UrlWithPassword();
  Ok(OnPg({"db", "init"}, url));
  auto backup = Run(OnPg({"db", "backup", dir_.path() + "/b.db"}, url));
  EXPECT_EQ(backup.exit_code, 1);
  EXPECT_NE(backup.err.find("pg_dump"), std::string::npos) << backup.err;
  EXPECT_EQ(backup.err.find(kPassword), std::string::npos) << backup.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/b.db"));
  auto restore = Run(OnPg({"db", "restore", dir_.path() + "/b.db"}, url));
  EXPECT_EQ(restore.exit_code, 1);
  EXPECT_NE(restore.err.find("pg_restore"), std::string::npos) << restore.err;
  auto compact = Run(OnPg({"db", "compact"}, url));
  EXPECT_EQ(compact.exit_code, 1);
  EXPECT_NE(compact.err.find("VACUUM"), std::string::npos) << compact.err;
}

// A SQLite home with every kind of row: servers, keys and links, a signing key, tokens, pulled
// usage over four months, pushed usage, unrecoverable days, runs and attempts.
class MigrateCliTest : public PostgresCliTest {
 protected:
  void SeedSqlite() {
    Ok({"server", "create", "a", "http://a.example", "--customer", "acme"});
    Ok({"server", "create", "b", "http://b.example", "--customer", "globex"});
    Ok({"server", "create", "c", "http://c.example"});
    Ok({"apikey", "add", MakeApiKey("k1", 1700000000), "--name", "k1", "--server", "a"});
    Ok({"apikey", "add", MakeApiKey("k2", 1700000000), "--name", "k2", "--server", "b"});
    Ok({"apikey", "add", MakeApiKey("spare", 1700000000), "--name", "spare"});
    Ok({"server", "link", "k1", "b"});
    Ok({"key", "generate"});
    Ok({"token", "create", "reader", "--read-only"});
    Ok({"server", "report-token", "a"});

    auto store = storage::OpenSqliteStore({.path = db(), .create = false});
    ASSERT_TRUE(store) << store.error().message;
    std::vector<DailyUsage> rows;
    Day first = ParseDay("2026-01-01").value();
    for (int d = 0; d < 120; ++d) {  // January to April
      for (const char* server : {"a", "b"}) {
        DailyUsage row;
        row.server = server;
        row.day = FormatDay(first + d);
        row.total = 10 * d + (server[0] == 'a' ? 1 : 2);
        row.failed = d % 4;
        row.failure_rate = 0.25;
        row.time_saved_minutes = 1.5 * d;
        row.average_run_time_ms = 12.25;
        row.raw_json = R"({"day":")" + row.day + R"(","note":"it's \"quoted\" \\ here"})";
        row.collected_at = 1767225600 + d;
        row.n8n_version = "1.98.0";
        rows.push_back(row);
      }
    }
    ASSERT_TRUE((*store)->UpsertDailyUsage(rows));
    std::vector<DailyUsage> pushed;
    for (int d = 40; d < 70; ++d) {  // February and March
      DailyUsage row;
      row.server = "a";
      row.day = FormatDay(first + d);
      row.total = 7 * d;
      row.failed = 1;
      row.source = "push";
      row.collected_at = 1767225600 + d;
      pushed.push_back(row);
    }
    InstanceReport report{"a", "batch-1", "instance-1", "prod", "1.98.0", 1767225600, "{}"};
    ASSERT_TRUE((*store)->RecordInstanceReport(report, pushed));
    ASSERT_TRUE((*store)->MarkUnrecoverable({"c", "2025-12-01", "beyond history", 1767225600}));
    CollectionRun run;
    run.started_at = 1767225600;
    auto id = (*store)->CreateRun(run);
    ASSERT_TRUE(id);
    run.id = *id;
    run.status = RunStatus::kPartial;
    run.finished_at = 1767225700;
    run.servers_attempted = 2;
    ASSERT_TRUE((*store)->FinishRun(run));
    ASSERT_TRUE((*store)->RecordAttempts(
        {{*id, "a", "2026-01-01", "ok", 200, 12, "", 1767225601},
         {*id, "c", "2026-01-01", "timeout", 0, 30000, "timed out", 1767225602}}));
  }

  // What the CLI shows of the data, to compare both databases.
  nlohmann::json Everything(const std::vector<std::string>& db_flag) {
    auto get = [&](std::vector<std::string> args) {
      args.insert(args.begin(), db_flag.begin(), db_flag.end());
      return Json(args);
    };
    nlohmann::json all;
    all["servers"] = get({"server", "list", "--json"});
    all["keys"] = get({"apikey", "list", "--json"});
    all["secrets"] = get({"apikey", "list", "--json", "--unmask"});
    all["links_b"] = get({"server", "keys", "b", "--json"});
    all["signing"] = get({"key", "list", "--json"});
    all["tokens"] = get({"token", "list", "--json"});
    all["runs"] = get({"runs", "list", "--json"});
    all["usage"] = get({"usage", "show", "--json"});
    for (const char* month : {"2026-01", "2026-02", "2026-03", "2026-04"}) {
      all[std::string("report ") + month] = get({"usage", "report", "--month", month, "--json"});
    }
    return all;
  }
};

TEST_F(MigrateCliTest, CopiesEverythingVerifiesAndIsIdempotent) {
  SeedSqlite();
  auto copy = Json({"db", "migrate", "--to", url_, "--json"});
  EXPECT_TRUE(copy["verified"].get<bool>()) << copy.dump(2);
  std::map<std::string, int64_t> counts;
  for (const auto& t : copy["tables"]) {
    EXPECT_EQ(t["source_rows"], t["target_rows"]) << t.dump();
    counts[t["table"]] = t["source_rows"];
  }
  EXPECT_EQ(counts["servers"], 3);
  EXPECT_EQ(counts["api_keys"], 3);
  EXPECT_EQ(counts["server_api_keys"], 3);
  EXPECT_EQ(counts["signing_keys"], 1);
  EXPECT_EQ(counts["api_tokens"], 2);
  EXPECT_EQ(counts["instance_reports"], 1);
  EXPECT_EQ(counts["usage_daily"], 240 + 30);
  EXPECT_EQ(counts["usage_unrecoverable"], 1);
  EXPECT_EQ(counts["runs"], 1);
  EXPECT_EQ(counts["run_attempts"], 2);
  EXPECT_GE(counts["meta"], 1);
  ASSERT_EQ(copy["months"].size(), 4u + 2u);
  for (const auto& m : copy["months"]) EXPECT_TRUE(m["equal"].get<bool>()) << m.dump();

  // The CLI on PostgreSQL (same home, same master key) shows exactly what it showed on SQLite.
  auto on_sqlite = Everything({});
  EXPECT_EQ(Everything({"--db", url_}), on_sqlite);

  // Again: the same data, still verified.
  auto again = Json({"db", "migrate", "--to", url_, "--json"});
  EXPECT_TRUE(again["verified"].get<bool>()) << again.dump(2);
  EXPECT_EQ(again["tables"], copy["tables"]);
  EXPECT_EQ(Everything({"--db", url_}), on_sqlite);

  // Ids continue after the copied ones.
  Ok(OnPg({"server", "create", "d", "http://d.example"}));
  Ok(OnPg({"apikey", "add", MakeApiKey("k4", 1700000000), "--name", "k4", "--server", "d"}));
  Ok(OnPg({"token", "create", "writer"}));
  EXPECT_EQ(PgJson({"server", "list", "--json"}).size(), 4u);

  // Now PostgreSQL holds rows SQLite lacks: the copy does not verify and is rolled back.
  auto diverged = Run({"db", "migrate", "--to", url_});
  EXPECT_EQ(diverged.exit_code, 1);
  EXPECT_NE(diverged.out.find("MISMATCH"), std::string::npos) << diverged.out;
  EXPECT_NE(diverged.err.find("rolled back"), std::string::npos) << diverged.err;
  EXPECT_EQ(PgJson({"server", "list", "--json"}).size(), 4u);
}

TEST_F(MigrateCliTest, RefusesATargetSealedWithAnotherMasterKey) {
  std::string other_home = dir_.path() + "/other";
  auto other = RunProcess({FleetBinary(), "--home", other_home, "--db", url_, "server", "create",
                           "foreign", "http://foreign.example"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  SeedSqlite();
  auto result = Run({"db", "migrate", "--to", url_});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("master key does not match"), std::string::npos) << result.err;
  auto servers =
      RunProcess({FleetBinary(), "--home", other_home, "--db", url_, "server", "list", "--json"});
  ASSERT_EQ(servers.exit_code, 0) << servers.err;
  EXPECT_EQ(nlohmann::json::parse(servers.out).size(), 1u);
}

TEST_F(MigrateCliTest, CopiesFromSqliteIntoPostgresOnly) {
  SeedSqlite();
  EXPECT_EQ(Run({"db", "migrate", "--to", dir_.path() + "/other.db"}).exit_code, 1);
  EXPECT_EQ(Run({"db", "migrate", "--to", "mysql://db/fleet"}).exit_code, 1);
  auto from_pg = Run(OnPg({"db", "migrate", "--to", url_}));
  EXPECT_EQ(from_pg.exit_code, 1);
  EXPECT_NE(from_pg.err.find("--db"), std::string::npos) << from_pg.err;
  // With N8N_FLEET_DB naming the target (and no --db), the source is the home's database.
  auto from_env = Run({"db", "migrate", "--to", url_, "--json"}, {.env = {{"N8N_FLEET_DB", url_}}});
  ASSERT_EQ(from_env.exit_code, 0) << from_env.err;
  auto report = nlohmann::json::parse(from_env.out);
  EXPECT_EQ(report["source"], db());
  EXPECT_TRUE(report["verified"].get<bool>());
}

}  // namespace
}  // namespace fleet::testing
