#include "service/config.h"

#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

namespace fleet::service {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  std::string WriteConfig(const std::string& text) {
    std::string path = ::testing::TempDir() + "config_test_" + std::to_string(::getpid()) + "_" +
                       std::to_string(counter_++) + ".toml";
    std::ofstream(path) << text;
    paths_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const auto& p : paths_) std::remove(p.c_str());
  }

  const ConfigEntry* Entry(const LoadedConfig& loaded, const std::string& name) {
    for (const auto& e : loaded.entries) {
      if (e.name == name) return &e;
    }
    return nullptr;
  }

  int counter_{0};
  std::vector<std::string> paths_;
};

TEST_F(ConfigTest, DefaultsWithoutFileOrFlags) {
  auto loaded = LoadServiceConfig("", {});
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->config.listen, "127.0.0.1:8080");
  EXPECT_EQ(loaded->config.collect_at, "01:30");
  EXPECT_EQ(loaded->config.concurrency, 64);
  EXPECT_EQ(loaded->config.max_body_bytes, 1048576);
  EXPECT_TRUE(loaded->config.backfill);
  ASSERT_EQ(loaded->entries.size(), 18u);
  EXPECT_EQ(loaded->entries[0].name, "listen");
  EXPECT_EQ(loaded->entries[0].value, "127.0.0.1:8080");
  EXPECT_EQ(loaded->entries[0].source, "default");
  EXPECT_EQ(Entry(*loaded, "backfill")->value, "true");
  EXPECT_EQ(Entry(*loaded, "http_threads")->value, "8");
}

TEST_F(ConfigTest, FileSetsValuesAndFlagsOverrideIt) {
  std::string path = WriteConfig(
      "listen = \"0.0.0.0:9000\"\ncollect_at = \"03:15\"\nconcurrency = 16\n"
      "backfill = false\ninsecure_listen = true\nmax_body_bytes = 4096\n");
  auto loaded = LoadServiceConfig(path, {{"concurrency", "32"}, {"log_level", "debug"}});
  ASSERT_TRUE(loaded) << loaded.error().message;
  const auto& c = loaded->config;
  EXPECT_EQ(c.listen, "0.0.0.0:9000");
  EXPECT_EQ(c.collect_at, "03:15");
  EXPECT_EQ(c.concurrency, 32);
  EXPECT_FALSE(c.backfill);
  EXPECT_TRUE(c.insecure_listen);
  EXPECT_EQ(c.max_body_bytes, 4096);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(Entry(*loaded, "listen")->source, "file " + path);
  EXPECT_EQ(Entry(*loaded, "concurrency")->source, "flag --concurrency");
  EXPECT_EQ(Entry(*loaded, "concurrency")->value, "32");
  EXPECT_EQ(Entry(*loaded, "log_level")->source, "flag --log-level");
  EXPECT_EQ(Entry(*loaded, "backfill")->value, "false");
  EXPECT_EQ(Entry(*loaded, "request_timeout_seconds")->source, "default");
}

TEST_F(ConfigTest, UnknownKeyIsRefusedWithLineAndSuggestion) {
  std::string path = WriteConfig("listen = \"127.0.0.1:1\"\n\nconcurency = 8\n");
  auto loaded = LoadServiceConfig(path, {});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(loaded.error().message, "config file " + path +
                                        " line 3: unknown option 'concurency' (did you mean "
                                        "'concurrency'?)");
}

TEST_F(ConfigTest, UnknownSectionIsRefused) {
  std::string path = WriteConfig("[server]\nlisten = \"127.0.0.1:1\"\n");
  auto loaded = LoadServiceConfig(path, {});
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("line 1: unknown option 'server'"), std::string::npos)
      << loaded.error().message;
}

TEST_F(ConfigTest, WrongTypeNamesKeyAndLine) {
  std::string path = WriteConfig("concurrency = \"64\"\n");
  auto loaded = LoadServiceConfig(path, {});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message,
            "config file " + path + " line 1: concurrency must be an integer");
  path = WriteConfig("backfill = 1\n");
  loaded = LoadServiceConfig(path, {});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message,
            "config file " + path + " line 1: backfill must be true or false");
}

TEST_F(ConfigTest, NumbersOutOfRangeAreRefused) {
  std::string path = WriteConfig("\nhttp_threads = 0\n");
  auto loaded = LoadServiceConfig(path, {});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message,
            "config file " + path + " line 2: http_threads must be between 1 and 256 (got 0)");
  loaded = LoadServiceConfig("", {{"concurrency", "100000"}});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message, "--concurrency must be between 1 and 10000 (got 100000)");
  loaded = LoadServiceConfig("", {{"concurrency", "12x"}});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message, "--concurrency must be an integer (got '12x')");
}

TEST_F(ConfigTest, FormatsAreChecked) {
  struct Case {
    std::string key, value, expected;
  };
  std::vector<Case> cases = {
      {"collect_at", "25:00", "collect_at must be HH:MM in UTC, 00:00 to 23:59 (got '25:00')"},
      {"collect_at", "1:30", "collect_at must be HH:MM in UTC, 00:00 to 23:59 (got '1:30')"},
      {"log_format", "xml", "log_format must be auto, text or json (got 'xml')"},
      {"log_level", "trace", "log_level must be debug, info, warn or error (got 'trace')"},
      {"listen", "localhost", "listen listen address 'localhost' has no port"},
      {"listen", "127.0.0.1:99999", "listen listen address '127.0.0.1:99999' has a bad port"},
  };
  for (const auto& c : cases) {
    std::string path = WriteConfig(c.key + " = \"" + c.value + "\"\n");
    auto loaded = LoadServiceConfig(path, {});
    ASSERT_FALSE(loaded) << c.key << "=" << c.value;
    EXPECT_NE(loaded.error().message.find("line 1: " + c.expected), std::string::npos)
        << loaded.error().message;
  }
}

TEST_F(ConfigTest, TlsCertWithoutKeyIsRefused) {
  std::string path = WriteConfig("tls_cert = \"/etc/cert.pem\"\n");
  auto loaded = LoadServiceConfig(path, {});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message,
            "tls_cert is set (file " + path +
                ") but tls_key is not: give both the certificate and its key, or neither");
  loaded = LoadServiceConfig(path, {{"tls_key", "/etc/key.pem"}});
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->config.tls_key, "/etc/key.pem");
}

TEST_F(ConfigTest, RetryMaxBelowBaseIsRefused) {
  auto loaded = LoadServiceConfig("", {{"retry_max_seconds", "60"}});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message,
            "retry_max_seconds (60, flag --retry-max-seconds) is below retry_base_seconds (300, "
            "default)");
}

TEST_F(ConfigTest, MissingFileAndBadTomlSayWhere) {
  auto loaded = LoadServiceConfig("/nonexistent/fleet.toml", {});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, ErrorCode::kNotFound);
  EXPECT_NE(loaded.error().message.find("/nonexistent/fleet.toml cannot be read"),
            std::string::npos);
  std::string path = WriteConfig("listen = \"127.0.0.1:1\"\nconcurrency = = 3\n");
  loaded = LoadServiceConfig(path, {});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(loaded.error().message.find("config file " + path + " line 2"), std::string::npos)
      << loaded.error().message;
  EXPECT_NE(loaded.error().message.find("not valid TOML"), std::string::npos);
}

TEST_F(ConfigTest, UnknownOverrideIsRefused) {
  auto loaded = LoadServiceConfig("", {{"colect_at", "02:00"}});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message, "unknown option 'colect_at' (did you mean 'collect_at'?)");
}

TEST(SplitListenTest, SplitsHostAndPort) {
  auto v4 = SplitListen("127.0.0.1:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->first, "127.0.0.1");
  EXPECT_EQ(v4->second, 8080);
  auto v6 = SplitListen("[::1]:0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->first, "::1");
  EXPECT_EQ(v6->second, 0);
  auto name = SplitListen("fleet.example.com:443");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->first, "fleet.example.com");
  for (const char* bad : {"", ":8080", "host:", "host:-1", "::1:80", "host:80x", "a b:1"}) {
    auto r = SplitListen(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find("use HOST:PORT"), std::string::npos);
  }
}

TEST(ParseCollectAtTest, AcceptsOnlyHhMm) {
  EXPECT_EQ(ParseCollectAt("00:00"), 0);
  EXPECT_EQ(ParseCollectAt("01:30"), 90);
  EXPECT_EQ(ParseCollectAt("23:59"), 23 * 60 + 59);
  for (const char* bad : {"24:00", "12:60", "1:30", "01:3", "0130", "01:30Z", "ab:cd", ""}) {
    EXPECT_FALSE(ParseCollectAt(bad)) << bad;
  }
}

}  // namespace
}  // namespace fleet::service
