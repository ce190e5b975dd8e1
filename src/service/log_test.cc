#include "service/log.h"

#include <cstdio>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/time.h"
#include "testing/fake_clock.h"

namespace fleet::service {
namespace {

// A temporary file as the log stream; Text() reads back what was written.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = std::tmpfile();
    ASSERT_NE(out_, nullptr);
  }
  void TearDown() override { std::fclose(out_); }
  std::string Text() {
    std::fflush(out_);
    std::rewind(out_);
    std::string text;
    char buffer[4096];
    while (size_t n = std::fread(buffer, 1, sizeof buffer, out_)) text.append(buffer, n);
    return text;
  }
  std::vector<std::string> Lines() {
    std::vector<std::string> lines;
    std::istringstream in(Text());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  FILE* out_{nullptr};
  testing::FakeClock clock_{*ParseTimestamp("2026-11-24T20:00:00Z")};
};

TEST_F(LogTest, TextLinesHaveTimeLevelMessageAndFields) {
  Logger log(out_, LogFormat::kText, LogLevel::kInfo, &clock_);
  log.Info("run finished", {{"run", 42}, {"status", "partial"}, {"error", "two words"}});
  log.Warn("odd", {{"empty", ""}, {"quote", "say \"hi\""}, {"ok", true}});
  EXPECT_EQ(Text(),
            "2026-11-24T20:00:00Z INFO run finished run=42 status=partial error=\"two words\"\n"
            "2026-11-24T20:00:00Z WARN odd empty=\"\" quote=\"say \\\"hi\\\"\" ok=true\n");
}

TEST_F(LogTest, JsonLinesParseBackWithTypedFields) {
  Logger log(out_, LogFormat::kJson, LogLevel::kDebug, &clock_);
  log.Error("store failed\nbadly", {{"run", int64_t{7}}, {"server", "acme"}, {"msg", "x"}});
  log.Debug("request", {});
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  auto first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["ts"], "2026-11-24T20:00:00Z");
  EXPECT_EQ(first["level"], "error");
  EXPECT_EQ(first["msg"], "store failed\nbadly");
  EXPECT_EQ(first["run"], 7);
  EXPECT_TRUE(first["run"].is_number_integer());
  EXPECT_EQ(first["server"], "acme");
  EXPECT_EQ(first["msg_"], "x");  // a field never replaces the message
  EXPECT_EQ(lines[0].substr(0, 7), "{\"ts\":\"");
  auto second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(second["level"], "debug");
  EXPECT_EQ(second.size(), 3u);
}

TEST_F(LogTest, LevelsBelowTheThresholdAreDropped) {
  Logger log(out_, LogFormat::kText, LogLevel::kWarn, &clock_);
  log.Debug("d");
  log.Info("i");
  log.Warn("w");
  log.Error("e");
  log.SetLevel(LogLevel::kDebug);
  log.Debug("d2");
  EXPECT_EQ(Lines(),
            (std::vector<std::string>{"2026-11-24T20:00:00Z WARN w", "2026-11-24T20:00:00Z ERROR e",
                                      "2026-11-24T20:00:00Z DEBUG d2"}));
  EXPECT_FALSE(Logger(out_, LogFormat::kText, LogLevel::kError).Enabled(LogLevel::kWarn));
}

TEST_F(LogTest, SecretFieldsAndTokensInTextAreRedacted) {
  const std::string jwt =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N";
  const std::string nft = "nft_3xK9abcdefghijklmnopqrstuvwxyz0123456789ABCDE";
  Logger log(out_, LogFormat::kJson, LogLevel::kInfo, &clock_);
  log.Info("exchanging with Bearer " + jwt + " for acme",
           {{"api_key", "n8n_api_plain"},
            {"Authorization", "Basic dXNlcjpwYXNz"},
            {"password", "hunter2"},
            {"token", nft},
            {"token_name", "billing"},
            {"error", "401 for header X-N8N-API-KEY: " + jwt},
            {"hint", "use " + nft + " (prefix nft_3xK9)"}});
  std::string text = Text();
  EXPECT_EQ(text.find("eyJhbGci"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos);
  EXPECT_EQ(text.find("n8n_api_plain"), std::string::npos);
  EXPECT_EQ(text.find("dXNlcjpwYXNz"), std::string::npos);
  EXPECT_EQ(text.find("abcdefghijklmnop"), std::string::npos);
  auto line = nlohmann::json::parse(Lines().at(0));
  EXPECT_EQ(line["msg"], "exchanging with Bearer [redacted] for acme");
  EXPECT_EQ(line["api_key"], "[redacted]");
  EXPECT_EQ(line["Authorization"], "[redacted]");
  EXPECT_EQ(line["password"], "[redacted]");
  EXPECT_EQ(line["token"], "[redacted]");
  EXPECT_EQ(line["token_name"], "billing");
  EXPECT_EQ(line["error"], "401 for header X-N8N-API-KEY: [redacted]");
  EXPECT_EQ(line["hint"], "use [redacted] (prefix nft_3xK9)");
}

TEST(RedactTest, SecretKeysAndFreeText) {
  for (const char* key : {"token", "api_key", "X-N8N-API-KEY", "authorization", "client_secret",
                          "private_key", "master_key", "key", "Cookie", "db_password"}) {
    EXPECT_TRUE(IsSecretKey(key)) << key;
  }
  for (const char* key : {"server", "token_name", "token_prefix", "key_id", "tls_key_path", "day",
                          "run", "error", "keys", "monkey"}) {
    EXPECT_FALSE(IsSecretKey(key)) << key;
  }
  EXPECT_EQ(RedactSecrets("authorization: bearer abc.def-ghi"), "authorization: bearer [redacted]");
  EXPECT_EQ(RedactSecrets("nothing secret here: eyJ short, nft_3xK9"),
            "nothing secret here: eyJ short, nft_3xK9");
  EXPECT_EQ(RedactSecrets("key=eyJhbGciOiJFUzI1NiJ9.e30.sig"), "key=[redacted]");
  EXPECT_EQ(RedactSecrets(""), "");
}

TEST_F(LogTest, ConcurrentWritersProduceWholeLines) {
  Logger log(out_, LogFormat::kJson, LogLevel::kInfo, &clock_);
  constexpr int kThreads = 8;
  constexpr int kLines = 250;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kLines; ++i) {
        log.Info("tick", {{"thread", t}, {"i", i}, {"pad", std::string(200, 'x')}});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto lines = Lines();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLines));
  std::set<std::pair<int, int>> seen;
  for (const auto& line : lines) {
    auto json = nlohmann::json::parse(line);  // throws (fails the test) on a torn line
    seen.emplace(json["thread"].get<int>(), json["i"].get<int>());
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kLines));
}

TEST(LogFormatTest, ParsesNamesAndPicksJsonForFiles) {
  FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(ParseLogFormat("auto", file), LogFormat::kJson);  // not a terminal
  EXPECT_EQ(ParseLogFormat("text", file), LogFormat::kText);
  EXPECT_EQ(ParseLogFormat("json", file), LogFormat::kJson);
  std::fclose(file);
  EXPECT_EQ(ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(ParseLogLevel("info"), LogLevel::kInfo);
  EXPECT_EQ(LogLevelName(LogLevel::kWarn), "warn");
}

}  // namespace
}  // namespace fleet::service
