// End-to-end: `n8n-fleet apikey ...`, with `apikey test` against a fake n8n on 127.0.0.1.
#include "cli_test_util.h"
#include "testing/fake_n8n.h"

namespace fleet::testing {
namespace {

constexpr int64_t kIssued = 1700000000;     // 2023-11-14
constexpr int64_t kFarFuture = 4102444800;  // 2100-01-01

class ApiKeyCliTest : public CliTest {};

TEST_F(ApiKeyCliTest, AddsFromArgumentOrStdinAndListsMasked) {
  std::string key1 = MakeApiKey("one", kIssued, kFarFuture);
  std::string key2 = MakeApiKey("two", kIssued);
  Ok({"apikey", "add", key1, "--name", "one"});
  Ok({"apikey", "add", "-", "--name", "two"}, {.stdin_data = "  " + key2 + "\n"});

  auto table = Ok({"apikey", "list"});
  EXPECT_EQ(table.out.find(key1), std::string::npos) << "secret printed without --unmask";
  EXPECT_NE(table.out.find(key1.substr(0, 6) + "\xE2\x80\xA6" + key1.substr(key1.size() - 4)),
            std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("2023-11-14"), std::string::npos);  // Created = the JWT's iat
  EXPECT_NE(table.out.find("2100-01-01"), std::string::npos);  // Expires
  EXPECT_NE(table.out.find("never"), std::string::npos);

  auto list = Json({"apikey", "list", "--json"});
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["name"], "one");
  EXPECT_EQ(list[0]["status"], "Active");
  EXPECT_FALSE(list[0].contains("key"));
  EXPECT_EQ(list[0]["created"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(list.dump().find(key1), std::string::npos);

  auto unmasked = Json({"apikey", "list", "--json", "--unmask"});
  EXPECT_EQ(unmasked[0]["key"], key1);
  EXPECT_EQ(unmasked[1]["key"], key2);  // white space trimmed
}

TEST_F(ApiKeyCliTest, ListsOneRowPerKeyWithAllItsServers) {
  Ok({"server", "create", "a", "http://a.example"});
  Ok({"server", "create", "b", "http://b.example"});
  Ok({"apikey", "add", MakeApiKey("k", kIssued), "--name", "k", "--server", "a"});
  Ok({"server", "link", "k", "b"});
  auto list = Ok({"apikey", "list"});
  size_t rows = 0;
  for (size_t pos = 0; (pos = list.out.find("\nk ", pos)) != std::string::npos; ++pos) ++rows;
  EXPECT_EQ(rows, 1u) << list.out;
  EXPECT_NE(list.out.find("a, b"), std::string::npos) << list.out;
}

TEST_F(ApiKeyCliTest, RefusesMalformedKeysWithTheReason) {
  auto two_parts = Run({"apikey", "add", "abc.def", "--name", "bad"});
  EXPECT_EQ(two_parts.exit_code, 1);
  EXPECT_NE(two_parts.err.find("three base64url parts"), std::string::npos) << two_parts.err;
  auto empty = Run({"apikey", "add", "--name", "bad"}, {.stdin_data = "\n"});
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_NE(empty.err.find("empty"), std::string::npos) << empty.err;
  auto bad_name = Run({"apikey", "add", MakeApiKey("x", kIssued), "--name", "a\\b"});
  EXPECT_EQ(bad_name.exit_code, 1);
  EXPECT_EQ(Json({"apikey", "list", "--json"}).size(), 0u);
}

TEST_F(ApiKeyCliTest, AMissingServerStoresNothing) {
  auto result =
      Run({"apikey", "add", MakeApiKey("x", kIssued), "--name", "k", "--server", "ghost"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("server create"), std::string::npos) << result.err;
  EXPECT_EQ(Json({"apikey", "list", "--json"}).size(), 0u);
}

TEST_F(ApiKeyCliTest, DuplicateKeyNameFails) {
  Ok({"apikey", "add", MakeApiKey("x", kIssued), "--name", "k"});
  auto dup = Run({"apikey", "add", MakeApiKey("y", kIssued), "--name", "k"});
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_NE(dup.err.find("already exists"), std::string::npos) << dup.err;
}

TEST_F(ApiKeyCliTest, StatusFollowsActivationAndExpiry) {
  Ok({"apikey", "add", MakeApiKey("x", kIssued), "--name", "k"});
  Ok({"apikey", "add", MakeApiKey("old", kIssued, kIssued + 60), "--name", "old"});
  Ok({"apikey", "deactivate", "k"});
  auto list = Json({"apikey", "list", "--json"});
  EXPECT_EQ(list[0]["name"], "k");
  EXPECT_EQ(list[0]["status"], "Inactive");
  EXPECT_EQ(list[1]["status"], "Expired");
  Ok({"apikey", "activate", "k"});
  EXPECT_EQ(Json({"apikey", "list", "--json"})[0]["status"], "Active");
  EXPECT_EQ(Run({"apikey", "activate", "ghost"}).exit_code, 1);
}

TEST_F(ApiKeyCliTest, DeleteAsksAndRotateKeepsLinks) {
  Ok({"server", "create", "a", "http://a.example"});
  std::string old_key = MakeApiKey("old", kIssued);
  std::string new_key = MakeApiKey("new", kIssued + 100);
  Ok({"apikey", "add", old_key, "--name", "k", "--server", "a"});
  Ok({"apikey", "rotate", "k", new_key});
  auto list = Json({"apikey", "list", "--json", "--unmask"});
  EXPECT_EQ(list[0]["key"], new_key);
  EXPECT_EQ(list[0]["servers"], nlohmann::json::array({"a"}));
  EXPECT_EQ(Run({"apikey", "rotate", "k", "not-a-key"}).exit_code, 1);

  auto refused = Run({"apikey", "delete", "k"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("--confirm"), std::string::npos);
  EXPECT_EQ(Json({"apikey", "list", "--json"}).size(), 1u);
  Ok({"apikey", "delete", "k", "--force"});
  EXPECT_EQ(Json({"apikey", "list", "--json"}).size(), 0u);
  EXPECT_EQ(Json({"server", "keys", "a", "--json"}).size(), 0u);
}

class ApiKeyTestCommandTest : public CliTest {
 protected:
  FakeN8n n8n_;
};

TEST_F(ApiKeyTestCommandTest, PassesAgainstAnInstanceThatAcceptsTheKey) {
  std::string key = MakeApiKey("good", kIssued, kFarFuture);
  n8n_.AcceptApiKey(key);
  Ok({"server", "create", "local", n8n_.url()});
  Ok({"apikey", "add", key, "--name", "good", "--server", "local"});
  auto result = Json({"apikey", "test", "good", "--json"});
  EXPECT_EQ(result["ok"], true);
  ASSERT_EQ(result["steps"].size(), 4u);
  for (const auto& step : result["steps"]) EXPECT_EQ(step["ok"], true) << step.dump();
  auto requests = n8n_.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0], "GET /healthz");
  EXPECT_EQ(requests[1], "GET /api/v1/workflows?limit=1");
  EXPECT_NE(Json({"apikey", "list", "--json"})[0]["last_used"], nullptr);
  auto text = Ok({"apikey", "test", "good"});
  EXPECT_NE(text.out.find("[ok]   authenticated"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find(key), std::string::npos);
}

TEST_F(ApiKeyTestCommandTest, FailsWhenTheInstanceRefusesTheKey) {
  Ok({"apikey", "add", MakeApiKey("refused", kIssued), "--name", "k"});
  auto result = Run({"apikey", "test", "k", "--server-url", n8n_.url(), "--json"});
  EXPECT_EQ(result.exit_code, 1);
  auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["ok"], false);
  EXPECT_EQ(json["steps"][1]["ok"], true);
  EXPECT_EQ(json["steps"][2]["step"], "authenticated");
  EXPECT_EQ(json["steps"][2]["ok"], false);
  EXPECT_NE(json["steps"][2]["detail"].get<std::string>().find("401"), std::string::npos);
  EXPECT_EQ(Json({"apikey", "list", "--json"})[0]["last_used"], nullptr);
}

TEST_F(ApiKeyTestCommandTest, FailsWhenTheInstanceIsUnreachable) {
  Ok({"apikey", "add", MakeApiKey("k", kIssued), "--name", "k"});
  int closed_port = 0;
  {
    FakeN8n gone;
    closed_port = gone.port();
  }
  auto result = Run(
      {"apikey", "test", "k", "--server-url", "http://127.0.0.1:" + std::to_string(closed_port)});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.out.find("[FAIL] reachable"), std::string::npos) << result.out;
}

TEST_F(ApiKeyTestCommandTest, FailsForAnExpiredKeyEvenWhenTheInstanceAcceptsIt) {
  std::string key = MakeApiKey("expired", kIssued, kIssued + 3600);
  n8n_.AcceptApiKey(key);
  Ok({"apikey", "add", key, "--name", "old"});
  auto result = Run({"apikey", "test", "old", "--json"}, {.env = {{"N8N_SERVER_URL", n8n_.url()}}});
  EXPECT_EQ(result.exit_code, 1);
  auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["steps"][3]["step"], "not expired");
  EXPECT_EQ(json["steps"][3]["ok"], false);
}

TEST_F(ApiKeyTestCommandTest, RefusesToUseAnInactiveKey) {
  std::string key = MakeApiKey("inactive", kIssued);
  n8n_.AcceptApiKey(key);
  Ok({"apikey", "add", key, "--name", "k"});
  Ok({"apikey", "deactivate", "k"});
  auto result = Run({"apikey", "test", "k", "--server-url", n8n_.url()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("inactive"), std::string::npos);
  EXPECT_TRUE(n8n_.Requests().empty());
}

}  // namespace
}  // namespace fleet::testing
