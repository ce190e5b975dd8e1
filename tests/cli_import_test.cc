// End-to-end: bulk `server import` / `server export`, and `db import-n8n-deploy`.
#include <sqlite3.h>

#include <fstream>

#include "cli_test_util.h"
#include "core/time.h"

namespace fleet::testing {
namespace {

class ImportCliTest : public CliTest {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
};

TEST_F(ImportCliTest, CsvImportIsIdempotentAndCountsWhatChanged) {
  std::string csv = Write("fleet.csv",
                          "name,url,customer,description,auth\n"
                          "a,http://a.example,acme,\"first, with comma\",api-key\n"
                          "b,http://b.example,acme,,token-exchange\n");
  auto first = Json({"server", "import", csv, "--json"});
  EXPECT_EQ(first, nlohmann::json({{"created", 2}, {"updated", 0}, {"unchanged", 0}}));
  auto second = Json({"server", "import", csv, "--json"});
  EXPECT_EQ(second, nlohmann::json({{"created", 0}, {"updated", 0}, {"unchanged", 2}}));
  std::string changed = Write("changed.csv",
                              "name,url,customer,description,auth\n"
                              "a,http://a.example,globex,\"first, with comma\",api-key\n"
                              "c,http://c.example,,,\n");
  auto third = Json({"server", "import", changed, "--json"});
  EXPECT_EQ(third, nlohmann::json({{"created", 1}, {"updated", 1}, {"unchanged", 0}}));
  auto a = Json({"server", "show", "a", "--json"});
  EXPECT_EQ(a["customer"], "globex");
  EXPECT_EQ(a["description"], "first, with comma");
  EXPECT_EQ(Json({"server", "show", "b", "--json"})["auth"], "token-exchange");
}

TEST_F(ImportCliTest, ABadRowIsReportedByLineAndNothingIsApplied) {
  std::string csv = Write("bad.csv",
                          "name,url,customer\n"
                          "good,http://good.example,acme\n"
                          "bad,not-a-url,acme\n");
  auto result = Run({"server", "import", csv});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("line 3"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("nothing was imported"), std::string::npos) << result.err;
  EXPECT_EQ(Json({"server", "list", "--json"}).size(), 0u);

  std::string dup = Write("dup.csv", "name,url\nx,http://x.example\nx,http://y.example\n");
  auto dup_result = Run({"server", "import", dup});
  EXPECT_EQ(dup_result.exit_code, 1);
  EXPECT_NE(dup_result.err.find("line 3"), std::string::npos) << dup_result.err;
  std::string typo = Write("typo.csv", "name,url,custmer\nx,http://x.example,acme\n");
  auto typo_result = Run({"server", "import", typo});
  EXPECT_NE(typo_result.err.find("unknown column 'custmer'"), std::string::npos);
  EXPECT_EQ(Json({"server", "list", "--json"}).size(), 0u);
}

TEST_F(ImportCliTest, JsonlImportAndExportRoundTrip) {
  std::string jsonl = Write("fleet.jsonl",
                            "{\"name\":\"a\",\"url\":\"http://a.example\",\"customer\":\"acme\","
                            "\"tracking_since\":\"2026-01-15\"}\n"
                            "\n"
                            "{\"name\":\"b\",\"url\":\"http://b.example\"}\n");
  Ok({"server", "import", jsonl});
  std::string today = FormatDay(DayOf(std::time(nullptr)));  // b's default tracking start
  auto exported = Ok({"server", "export", "--format", "jsonl"});
  EXPECT_EQ(exported.out,
            "{\"auth\":\"api-key\",\"customer\":\"acme\",\"description\":\"\",\"name\":\"a\","
            "\"tracking_since\":\"2026-01-15\",\"url\":\"http://a.example\"}\n"
            "{\"auth\":\"api-key\",\"customer\":\"\",\"description\":\"\",\"name\":\"b\","
            "\"tracking_since\":\"" +
                today + "\",\"url\":\"http://b.example\"}\n");
  std::string csv_path = dir_.path() + "/out.csv";
  Ok({"server", "export", csv_path});
  EXPECT_EQ(ReadAll(csv_path),
            "name,url,customer,description,auth,tracking_since\r\n"
            "a,http://a.example,acme,,api-key,2026-01-15\r\n"
            "b,http://b.example,,,api-key," +
                today + "\r\n");
  auto again = Json({"server", "import", csv_path, "--json"});
  EXPECT_EQ(again["unchanged"], 2);
  auto bad = Run({"server", "import",
                  Write("bad.csv", "name,url,tracking_since\nx,http://x.example,2026-13-01\n")});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("line 2"), std::string::npos) << bad.err;
}

TEST_F(ImportCliTest, ImportsAThousandServersInOneTransaction) {
  std::string csv = "name,url,customer\n";
  for (int i = 0; i < 1000; ++i) {
    csv += "n8n-" + std::to_string(i) + ",https://i" + std::to_string(i) + ".example,c" +
           std::to_string(i % 10) + "\n";
  }
  auto result = Json({"server", "import", Write("big.csv", csv), "--json"});
  EXPECT_EQ(result["created"], 1000);
  EXPECT_EQ(Json({"server", "list", "--customer", "c3", "--json"}).size(), 100u);
}

// A database with n8n-deploy's schema (its current version).
void MakeN8nDeployDatabase(const std::string& path, const std::vector<std::string>& inserts) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string sql = R"(
    CREATE TABLE servers (id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL,
      name TEXT NOT NULL UNIQUE, is_active BOOLEAN DEFAULT TRUE, skip_ssl_verify BOOLEAN DEFAULT FALSE,
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, last_used TIMESTAMP);
    CREATE TABLE api_keys (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
      api_key TEXT NOT NULL, description TEXT, is_active BOOLEAN DEFAULT TRUE,
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
    CREATE TABLE server_api_keys (id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER NOT NULL,
      api_key_id INTEGER NOT NULL, is_primary BOOLEAN DEFAULT FALSE,
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
      FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE,
      FOREIGN KEY (api_key_id) REFERENCES api_keys (id) ON DELETE CASCADE,
      UNIQUE (server_id, api_key_id));
  )";
  for (const auto& insert : inserts) sql += insert + ";\n";
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

TEST_F(ImportCliTest, ImportsAnN8nDeployDatabaseIdempotentlyAndSealsItsKeys) {
  std::string key_a = MakeApiKey("prod-key", 1700000000);
  std::string key_b = MakeApiKey("stage-key", 1700000000, 4102444800);
  std::string path = dir_.path() + "/n8n-deploy.db";
  MakeN8nDeployDatabase(
      path, {
                "INSERT INTO servers (id, url, name, skip_ssl_verify) VALUES (1, "
                "'http://prod.example:5678/', 'prod', 0)",
                "INSERT INTO servers (id, url, name, skip_ssl_verify) VALUES (2, "
                "'https://stage.example', 'stage', 1)",
                "INSERT INTO servers (id, url, name) VALUES (3, 'not a url', 'broken')",
                "INSERT INTO api_keys (id, name, api_key, description) VALUES (1, 'prod-key', '" +
                    key_a + "', 'main')",
                "INSERT INTO api_keys (id, name, api_key, is_active) VALUES (2, 'stage-key', '" +
                    key_b + "', 0)",
                "INSERT INTO api_keys (id, name, api_key) VALUES (3, 'junk', 'not-a-jwt')",
                "INSERT INTO server_api_keys (server_id, api_key_id, is_primary) VALUES (1, 1, 1)",
                "INSERT INTO server_api_keys (server_id, api_key_id) VALUES (2, 2)",
                "INSERT INTO server_api_keys (server_id, api_key_id) VALUES (1, 2)",
            });

  auto first = Json({"db", "import-n8n-deploy", path, "--json"});
  EXPECT_EQ(first["servers"]["created"], 2);
  EXPECT_EQ(first["api_keys"]["created"], 2);
  EXPECT_EQ(first["links_created"], 3);
  ASSERT_EQ(first["skipped"].size(), 2u) << first.dump();
  EXPECT_NE(first["skipped"][0].get<std::string>().find("broken"), std::string::npos);
  EXPECT_NE(first["skipped"][1].get<std::string>().find("junk"), std::string::npos);

  auto prod = Json({"server", "show", "prod", "--json"});
  EXPECT_EQ(prod["url"], "http://prod.example:5678");
  EXPECT_EQ(prod["keys"][0]["name"], "prod-key");
  EXPECT_EQ(prod["keys"][0]["primary"], true);
  EXPECT_EQ(Json({"server", "show", "stage", "--json"})["skip_tls_verify"], true);
  auto keys = Json({"apikey", "list", "--json", "--unmask"});
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0]["key"], key_a);
  EXPECT_EQ(keys[1]["status"], "Inactive");

  auto second = Json({"db", "import-n8n-deploy", path, "--json"});
  EXPECT_EQ(second["servers"]["created"], 0);
  EXPECT_EQ(second["servers"]["unchanged"], 2);
  EXPECT_EQ(second["api_keys"]["unchanged"], 2);
  EXPECT_EQ(second["links_created"], 0);

  std::string bytes = StoredBytes();
  EXPECT_EQ(bytes.find(key_a), std::string::npos);
  EXPECT_EQ(bytes.find(key_b), std::string::npos);
}

TEST_F(ImportCliTest, RefusesAFileThatIsNotAnN8nDeployDatabase) {
  std::string text = Write("notes.txt", "just text, not sqlite");
  auto result = Run({"db", "import-n8n-deploy", text});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("notes.txt"), std::string::npos) << result.err;
  auto missing = Run({"db", "import-n8n-deploy", dir_.path() + "/absent.db"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("absent.db"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace fleet::testing
