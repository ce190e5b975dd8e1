#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/jwt.h"
#include "testing/fake_n8n.h"
#include "testing/n8n_rules.h"
#include "testing/subprocess.h"

namespace fleet::testing {

// An n8n-shaped API key (a JWT; the signature is not checked by anything here).
inline std::string MakeApiKey(const std::string& subject, int64_t iat, int64_t exp = 0) {
  nlohmann::json payload = {{"sub", subject}, {"iss", "n8n"}, {"aud", "public-api"}, {"iat", iat}};
  if (exp) payload["exp"] = exp;
  return Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + Base64UrlEncode(payload.dump()) +
         "." + Base64UrlEncode("signature-of-" + subject);
}

// Makes `n8n` trust what `key env --format json` (parsed: `key_env`) tells an instance to trust,
// as n8n would from N8N_TOKEN_EXCHANGE_TRUSTED_KEYS.
inline void TrustKeyEnv(FakeN8n& n8n, const nlohmann::json& key_env) {
  auto keys =
      rules::ParseTrustedKeys(key_env.value("N8N_TOKEN_EXCHANGE_TRUSTED_KEYS", std::string()));
  ASSERT_TRUE(keys.has_value()) << keys.error().message << "\n" << key_env.dump();
  ASSERT_FALSE(keys->empty()) << key_env.dump();
  for (const auto& key : *keys) n8n.TrustKey(key);
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs the real binary in a temporary home, with the user's environment's n8n-fleet variables
// removed so the tests see only what they set.
//
// The whole suite runs on either backend: with N8N_FLEET_TEST_BACKEND=postgresql every test gets
// a fresh database in the PostgreSQL server of N8N_FLEET_TEST_POSTGRES (a URL; created with psql,
// dropped afterwards) and every command it runs gets that database through N8N_FLEET_DB. Tests of
// what only a SQLite file has (backup, file modes, bytes on disk) skip when OnPostgres().
class CliTest : public ::testing::Test {
 protected:
  static bool OnPostgres() {
    const char* backend = std::getenv("N8N_FLEET_TEST_BACKEND");
    return backend != nullptr && std::string(backend) == "postgresql";
  }

  void SetUp() override {
    if (!OnPostgres()) return;
    const char* admin = std::getenv("N8N_FLEET_TEST_POSTGRES");
    ASSERT_TRUE(admin != nullptr && *admin != '\0')
        << "N8N_FLEET_TEST_BACKEND=postgresql needs N8N_FLEET_TEST_POSTGRES";
    admin_url_ = admin;
    static int counter = 0;
    pg_database_ = "cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    auto created = RunProcess({"psql", admin_url_, "-qAtc", "CREATE DATABASE " + pg_database_});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    size_t path = admin_url_.find('/', admin_url_.find("://") + 3);
    size_t query = admin_url_.find('?', path);
    pg_url_ = admin_url_.substr(0, path) + "/" + pg_database_ +
              (query == std::string::npos ? "" : admin_url_.substr(query));
  }

  void TearDown() override {
    if (pg_database_.empty()) return;
    RunProcess(
        {"psql", admin_url_, "-qAtc", "DROP DATABASE IF EXISTS " + pg_database_ + " WITH (FORCE)"});
  }

  std::string home() const { return dir_.path() + "/home"; }
  std::string db() const { return home() + "/fleet.db"; }

  // Environment for a child process: the n8n-fleet variables removed, the test database set.
  void CleanEnv(ProcessOptions& options,
                std::vector<std::string> names = {"N8N_FLEET_HOME", "N8N_FLEET_DB",
                                                  "N8N_FLEET_MASTER_KEY", "N8N_SERVER_URL",
                                                  "N8N_API_KEY"}) const {
    for (const auto& name : names) {
      if (options.env.count(name)) continue;
      if (name == "N8N_FLEET_DB" && !pg_url_.empty()) {
        options.env[name] = pg_url_;
      } else {
        options.unset_env.push_back(name);
      }
    }
  }

  // Everything the database holds, as bytes to search for secrets: the SQLite file and its WAL
  // after `db compact`, or PostgreSQL's `pg_dump --data-only` (BYTEA columns appear as hex).
  std::string StoredBytes() {
    if (pg_url_.empty()) {
      auto compacted = Run({"db", "compact"});  // folds the WAL into the file
      EXPECT_EQ(compacted.exit_code, 0) << compacted.err;
      return ReadAll(db()) + ReadAll(db() + "-wal");
    }
    auto dump = RunProcess({"pg_dump", "--data-only", pg_url_});
    EXPECT_EQ(dump.exit_code, 0) << dump.err;
    EXPECT_NE(dump.out.find("COPY public.servers"), std::string::npos) << "pg_dump printed no data";
    return dump.out;
  }

  ProcessResult Run(const std::vector<std::string>& args, ProcessOptions options = {}) {
    std::vector<std::string> argv = {FleetBinary(), "--home", home(), "--no-emoji"};
    argv.insert(argv.end(), args.begin(), args.end());
    CleanEnv(options);
    return RunProcess(argv, options);
  }

  // Runs and expects exit 0, printing the output on failure.
  ProcessResult Ok(const std::vector<std::string>& args, ProcessOptions options = {}) {
    auto result = Run(args, std::move(options));
    EXPECT_EQ(result.exit_code, 0) << "stdout: " << result.out << "\nstderr: " << result.err;
    return result;
  }

  nlohmann::json Json(const std::vector<std::string>& args) {
    auto result = Ok(args);
    auto json = nlohmann::json::parse(result.out, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << result.out;
    return json;
  }

  // Per day, the stored total of `server` (from `usage show --json`); a day stored twice fails.
  std::map<std::string, int64_t> Totals(const std::string& server) {
    std::map<std::string, int64_t> totals;
    for (const auto& row : Json({"usage", "show", "--server", server, "--json"})) {
      EXPECT_EQ(totals.count(row["day"]), 0u) << "day stored twice: " << row["day"];
      totals[row["day"]] = row["total"];
    }
    return totals;
  }

  TempDir dir_;
  std::string admin_url_{};    // PostgreSQL backend: the server's admin URL
  std::string pg_database_{};  // this test's database
  std::string pg_url_{};       // its URL
};

}  // namespace fleet::testing
