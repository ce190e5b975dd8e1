// End-to-end against a REAL n8n started by tests/real_n8n/run.sh: N8N_REAL_URL,
// N8N_REAL_API_KEY (created through n8n's REST API) and N8N_REAL_FLEET_HOME (an n8n-fleet home
// whose published keys the instance trusts, configured from `key env --server real-tx` as is).
// Without that instance the suite fails instead of passing silently.
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "cli_test_util.h"
#include "n8n/http.h"
#include "n8n/token_exchange.h"

namespace fleet::testing {
namespace {

class RealN8nTest : public CliTest {
 protected:
  void SetUp() override {
    const char* url = std::getenv("N8N_REAL_URL");
    const char* key = std::getenv("N8N_REAL_API_KEY");
    const char* fleet_home = std::getenv("N8N_REAL_FLEET_HOME");
    ASSERT_TRUE(url && key && fleet_home && *url && *key && *fleet_home)
        << "N8N_REAL_URL / N8N_REAL_API_KEY / N8N_REAL_FLEET_HOME unset: run this suite through "
           "tests/real_n8n/run.sh";
    url_ = url;
    key_ = key;
    // Each test works on its own copy of the fleet home (keys, server real-tx).
    std::filesystem::copy(fleet_home, home(), std::filesystem::copy_options::recursive);
  }

  nlohmann::json ServerTest(const std::string& name, int expected_exit) {
    auto result = Run({"server", "test", name, "--json"});
    EXPECT_EQ(result.exit_code, expected_exit) << result.out << result.err;
    auto json = nlohmann::json::parse(result.out, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << result.out << result.err;
    return json;
  }

  std::string url_, key_;
};

TEST_F(RealN8nTest, ApiKeyTestPassesWithAKeyCreatedThroughN8n) {
  Ok({"server", "create", "real", url_});
  Ok({"apikey", "add", "-", "--name", "real-key", "--server", "real"}, {.stdin_data = key_});
  auto result = Json({"apikey", "test", "real-key", "--json"});
  EXPECT_EQ(result["ok"], true) << result.dump(2);
  for (const auto& step : result["steps"]) EXPECT_EQ(step["ok"], true) << step.dump();
  EXPECT_NE(Json({"apikey", "list", "--json"})[0]["last_used"], nullptr);
}

TEST_F(RealN8nTest, ApiKeyTestFailsWithAKeyN8nDidNotIssue) {
  std::string forged = MakeApiKey("forged", 1700000000);
  Ok({"apikey", "add", forged, "--name", "forged"});
  auto result = Run({"apikey", "test", "forged", "--server-url", url_, "--json"});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["steps"][1]["step"], "reachable");
  EXPECT_EQ(json["steps"][1]["ok"], true);
  EXPECT_EQ(json["steps"][2]["step"], "authenticated");
  EXPECT_EQ(json["steps"][2]["ok"], false);
  EXPECT_NE(json["steps"][2]["detail"].get<std::string>().find("401"), std::string::npos)
      << json.dump(2);
}

TEST_F(RealN8nTest, ServerTestPassesWithAnApiKey) {
  Ok({"server", "create", "real-api", url_});
  Ok({"apikey", "add", "-", "--name", "real-key", "--server", "real-api"}, {.stdin_data = key_});
  auto report = ServerTest("real-api", 0);
  ASSERT_EQ(report["steps"].size(), 4u) << report.dump(2);
  EXPECT_EQ(report["steps"][1]["step"], "api key");
  EXPECT_EQ(report["steps"][3]["step"], "insights readable");
  EXPECT_EQ(report["ok"], true) << report.dump(2);
}

TEST_F(RealN8nTest, ServerTestPassesWithTokenExchangeSignedEs256) {
  auto started = std::chrono::steady_clock::now();
  auto report = ServerTest("real-tx", 0);
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  EXPECT_EQ(report["ok"], true) << report.dump(2);
  EXPECT_EQ(report["steps"][1]["step"], "token exchange");
  std::printf("server test with token exchange (ES256), whole command: %lld ms\n",
              static_cast<long long>(elapsed.count()));
}

TEST_F(RealN8nTest, ServerTestPassesWithTheStandbyRs256KeyOnceActivated) {
  Ok({"key", "activate", "fleet-rs256"});
  auto report = ServerTest("real-tx", 0);
  EXPECT_EQ(report["ok"], true) << report.dump(2);
}

TEST_F(RealN8nTest, AKeyTheInstanceDoesNotTrustFailsWithInvalidGrantAndItsCauses) {
  Ok({"key", "generate", "--kid", "untrusted", "--activate"});
  auto report = ServerTest("real-tx", 1);
  EXPECT_EQ(report["steps"][1]["step"], "token exchange");
  EXPECT_EQ(report["steps"][1]["ok"], false);
  std::string detail = report["steps"][1]["detail"];
  EXPECT_NE(detail.find("invalid_grant"), std::string::npos) << detail;
  EXPECT_NE(detail.find("key env"), std::string::npos) << detail;
}

TEST_F(RealN8nTest, ARetiredKeyIsNotUsedAndSaysSo) {
  Ok({"key", "retire", "fleet-es256"});
  auto report = ServerTest("real-tx", 1);
  std::string detail = report["steps"][1]["detail"];
  EXPECT_NE(detail.find("no signing key is active"), std::string::npos) << detail;
}

TEST_F(RealN8nTest, ASubjectTokenIsSingleUseAndBoundToItsAudience) {
  auto transport = n8n::MakeCurlTransport();
  auto exchange = [&](const std::string& subject) {
    auto response = transport->Send(n8n::TokenExchangeRequest({url_, true}, subject));
    EXPECT_TRUE(response.has_value());
    return n8n::ParseTokenExchangeResponse(*response, "real-tx", 0);
  };
  auto minted = Ok({"key", "mint", "real-tx"});
  std::string subject(minted.out.substr(0, minted.out.find('\n')));
  auto first = exchange(subject);
  EXPECT_TRUE(first.has_value()) << first.error().message;
  auto replay = exchange(subject);
  ASSERT_FALSE(replay.has_value());
  EXPECT_EQ(replay.error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(replay.error().message.find("invalid_grant"), std::string::npos);

  // The same instance under another URL: the token's aud is not the expectedAudience it trusts.
  std::string alias = url_;
  alias.replace(alias.find("127.0.0.1"), 9, "localhost");
  Ok({"server", "create", "alias", alias, "--auth", "token-exchange"});
  auto report = ServerTest("alias", 1);
  EXPECT_EQ(report["steps"][1]["ok"], false) << report.dump(2);
}

}  // namespace
}  // namespace fleet::testing
