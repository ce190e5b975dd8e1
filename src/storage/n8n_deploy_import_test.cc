#include "storage/n8n_deploy_import.h"

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/storage_test_util.h"

namespace fleet::storage {
namespace {

using ::testing::HasSubstr;

// The n8n-deploy schema as its Python code creates it.
constexpr const char* kServersTable =
    "CREATE TABLE servers (id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL, "
    "name TEXT NOT NULL UNIQUE, is_active BOOLEAN DEFAULT TRUE, skip_ssl_verify BOOLEAN DEFAULT "
    "FALSE, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, last_used TIMESTAMP);";
constexpr const char* kApiKeysTable =
    "CREATE TABLE api_keys (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, "
    "api_key TEXT NOT NULL, description TEXT, is_active BOOLEAN DEFAULT TRUE, "
    "created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);";
constexpr const char* kLinksTable =
    "CREATE TABLE server_api_keys (id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER NOT "
    "NULL, api_key_id INTEGER NOT NULL, is_primary BOOLEAN DEFAULT FALSE, created_at TIMESTAMP "
    "DEFAULT CURRENT_TIMESTAMP, UNIQUE(server_id, api_key_id));";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

class N8nDeployImportTest : public ::testing::Test {
 protected:
  void Build(const std::string& sql) { ASSERT_EQ(ExecSqlite(path_, sql), ""); }

  TempDir dir_{};
  std::string path_{dir_.File("n8n-deploy.db")};
};

TEST_F(N8nDeployImportTest, ReadsServersKeysAndLinksOfTheCurrentSchema) {
  Build(std::string(kServersTable) + kApiKeysTable + kLinksTable +
        "INSERT INTO servers (url, name, skip_ssl_verify) VALUES ('https://a.example.com', 'a', "
        "TRUE);"
        "INSERT INTO servers (url, name, is_active) VALUES ('http://b.local:5678', 'b', FALSE);"
        "INSERT INTO api_keys (name, api_key, description) VALUES ('k1', 'eyJ.secret.one', "
        "'main key');"
        "INSERT INTO api_keys (name, api_key, is_active) VALUES ('k2', 'eyJ.secret.two', 0);"
        "INSERT INTO server_api_keys (server_id, api_key_id, is_primary) VALUES (1, 1, 1);"
        "INSERT INTO server_api_keys (server_id, api_key_id) VALUES (2, 1);"
        "INSERT INTO server_api_keys (server_id, api_key_id) VALUES (2, 2);");

  auto data = ReadN8nDeployDatabase(path_);

  ASSERT_TRUE(data.has_value()) << data.error().message;
  ASSERT_EQ(data->servers.size(), 2u);
  EXPECT_EQ(data->servers[0].id, 1);
  EXPECT_EQ(data->servers[0].name, "a");
  EXPECT_EQ(data->servers[0].url, "https://a.example.com");
  EXPECT_EQ(data->servers[0].description, "");
  EXPECT_TRUE(data->servers[0].active);
  EXPECT_TRUE(data->servers[0].skip_ssl_verify);
  EXPECT_EQ(data->servers[1].name, "b");
  EXPECT_FALSE(data->servers[1].active);
  EXPECT_FALSE(data->servers[1].skip_ssl_verify);
  ASSERT_EQ(data->keys.size(), 2u);
  EXPECT_EQ(data->keys[0].name, "k1");
  EXPECT_EQ(data->keys[0].api_key, "eyJ.secret.one");
  EXPECT_EQ(data->keys[0].description, "main key");
  EXPECT_TRUE(data->keys[0].active);
  EXPECT_EQ(data->keys[1].description, "");  // NULL
  EXPECT_FALSE(data->keys[1].active);
  ASSERT_EQ(data->links.size(), 3u);
  EXPECT_EQ(data->links[0].server_id, 1);
  EXPECT_EQ(data->links[0].api_key_id, 1);
  EXPECT_TRUE(data->links[0].primary);
  EXPECT_FALSE(data->links[1].primary);
  EXPECT_EQ(data->links[2].api_key_id, 2);
}

TEST_F(N8nDeployImportTest, ReadsBooleansStoredAsText) {
  Build(std::string(kServersTable) + kApiKeysTable + kLinksTable +
        "INSERT INTO servers (url, name, is_active, skip_ssl_verify) "
        "VALUES ('https://a.example.com', 'a', 'false', 'True');"
        "INSERT INTO api_keys (name, api_key, is_active) VALUES ('k1', 's', 'true');"
        "INSERT INTO api_keys (name, api_key, is_active) VALUES ('k2', 's', 'FALSE');"
        "INSERT INTO server_api_keys (server_id, api_key_id, is_primary) VALUES (1, 1, 'true');");

  const N8nDeployData data = ReadN8nDeployDatabase(path_).value();

  EXPECT_FALSE(data.servers[0].active);
  EXPECT_TRUE(data.servers[0].skip_ssl_verify);
  EXPECT_TRUE(data.keys[0].active);
  EXPECT_FALSE(data.keys[1].active);
  EXPECT_TRUE(data.links[0].primary);
}

TEST_F(N8nDeployImportTest, AnOldSchemaWithoutLinksOrOptionalColumnsReadsDefaults) {
  Build(
      "CREATE TABLE servers (id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL, name TEXT "
      "NOT NULL UNIQUE);"
      "CREATE TABLE api_keys (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, "
      "api_key TEXT NOT NULL);"
      "INSERT INTO servers (url, name) VALUES ('https://a.example.com', 'a');"
      "INSERT INTO api_keys (name, api_key) VALUES ('k1', 'secret');");

  auto data = ReadN8nDeployDatabase(path_);

  ASSERT_TRUE(data.has_value()) << data.error().message;
  ASSERT_EQ(data->servers.size(), 1u);
  EXPECT_TRUE(data->servers[0].active);
  EXPECT_FALSE(data->servers[0].skip_ssl_verify);
  ASSERT_EQ(data->keys.size(), 1u);
  EXPECT_EQ(data->keys[0].api_key, "secret");
  EXPECT_EQ(data->keys[0].description, "");
  EXPECT_TRUE(data->keys[0].active);
  EXPECT_TRUE(data->links.empty());
}

TEST_F(N8nDeployImportTest, ALinksTableWithoutIsPrimaryReadsEveryLinkAsSecondary) {
  Build(std::string(kServersTable) + kApiKeysTable +
        "CREATE TABLE server_api_keys (server_id INTEGER, api_key_id INTEGER);"
        "INSERT INTO servers (url, name) VALUES ('https://a.example.com', 'a');"
        "INSERT INTO api_keys (name, api_key) VALUES ('k1', 'secret');"
        "INSERT INTO server_api_keys VALUES (1, 1);");

  const N8nDeployData data = ReadN8nDeployDatabase(path_).value();

  ASSERT_EQ(data.links.size(), 1u);
  EXPECT_EQ(data.links[0].server_id, 1);
  EXPECT_FALSE(data.links[0].primary);
}

TEST_F(N8nDeployImportTest, OnlyAnApiKeysTableReadsAsKeysWithoutServers) {
  Build(std::string(kApiKeysTable) + "INSERT INTO api_keys (name, api_key) VALUES ('k1', 's');");

  const N8nDeployData data = ReadN8nDeployDatabase(path_).value();

  EXPECT_EQ(data.keys.size(), 1u);
  EXPECT_TRUE(data.servers.empty());
  EXPECT_TRUE(data.links.empty());
}

TEST_F(N8nDeployImportTest, ADatabaseWithoutApiKeysIsNotAnN8nDeployDatabase) {
  Build(kServersTable);

  auto data = ReadN8nDeployDatabase(path_);

  ASSERT_FALSE(data.has_value());
  EXPECT_EQ(data.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(data.error().message, HasSubstr("not an n8n-deploy database"));
  EXPECT_THAT(data.error().message, HasSubstr(path_));
}

TEST_F(N8nDeployImportTest, RandomBytesAreCorrupt) {
  std::ofstream(path_, std::ios::binary) << std::string(5000, '\x13');

  auto data = ReadN8nDeployDatabase(path_);

  ASSERT_FALSE(data.has_value());
  EXPECT_EQ(data.error().code, ErrorCode::kCorrupt);
}

TEST_F(N8nDeployImportTest, AMissingFileIsNotFound) {
  auto data = ReadN8nDeployDatabase(path_);

  ASSERT_FALSE(data.has_value());
  EXPECT_EQ(data.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(FileMode(path_), -1);
}

TEST_F(N8nDeployImportTest, ReadingLeavesTheFileUntouched) {
  Build(std::string(kServersTable) + kApiKeysTable + kLinksTable +
        "INSERT INTO api_keys (name, api_key) VALUES ('k1', 's');");
  const std::string before = ReadFile(path_);

  ASSERT_TRUE(ReadN8nDeployDatabase(path_).has_value());

  EXPECT_EQ(ReadFile(path_), before);
}

}  // namespace
}  // namespace fleet::storage
