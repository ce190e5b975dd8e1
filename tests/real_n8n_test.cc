// End-to-end against a REAL n8n started by tests/real_n8n/run.sh (N8N_REAL_URL, N8N_REAL_API_KEY).
// Without that instance the suite fails instead of passing silently.
#include <cstdlib>

#include "cli_test_util.h"

namespace fleet::testing {
namespace {

class RealN8nTest : public CliTest {
 protected:
  void SetUp() override {
    const char* url = std::getenv("N8N_REAL_URL");
    const char* key = std::getenv("N8N_REAL_API_KEY");
    ASSERT_TRUE(url && key && *url && *key)
        << "N8N_REAL_URL / N8N_REAL_API_KEY unset: run this suite through tests/real_n8n/run.sh";
    url_ = url;
    key_ = key;
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

}  // namespace
}  // namespace fleet::testing
