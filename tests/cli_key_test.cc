// End-to-end: `n8n-fleet key ...` and `server test` with token exchange, against fake n8n
// instances configured from exactly what `key env` prints.
#include <filesystem>
#include <fstream>

#include "cli_test_util.h"
#include "n8n/http.h"
#include "n8n/token_exchange.h"
#include "testing/fake_n8n.h"

namespace fleet::testing {
namespace {

class KeyCliTest : public CliTest {
 protected:
  // Trusts every key `key env --format json [--server S]` lists, as an instance would.
  void TrustFromKeyEnv(FakeN8n& n8n, const std::string& server = "") {
    std::vector<std::string> args = {"key", "env", "--format", "json"};
    if (!server.empty()) args.insert(args.end(), {"--server", server});
    auto env = Json(args);
    ASSERT_EQ(env["N8N_ENV_FEAT_TOKEN_EXCHANGE"], "true");
    ASSERT_EQ(env["N8N_TOKEN_EXCHANGE_ENABLED"], "true");
    auto trusted = nlohmann::json::parse(env["N8N_TOKEN_EXCHANGE_TRUSTED_KEYS"].get<std::string>());
    for (const auto& entry : trusted) {
      FakeN8n::TrustedKey key;
      key.kid = entry["kid"];
      key.issuer = entry["issuer"];
      key.public_pem = entry["key"];
      key.algorithms = entry["algorithms"].get<std::vector<std::string>>();
      key.allowed_roles = entry["allowedRoles"].get<std::vector<std::string>>();
      if (entry.contains("expectedAudience")) key.expected_audience = entry["expectedAudience"];
      n8n.TrustKey(key);
    }
  }

  nlohmann::json ServerTest(const std::string& name, int expected_exit) {
    auto result = Run({"server", "test", name, "--json"});
    EXPECT_EQ(result.exit_code, expected_exit) << result.out << result.err;
    auto json = nlohmann::json::parse(result.out, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << result.out << result.err;
    return json;
  }
};

TEST_F(KeyCliTest, KeysMoveThroughActiveStandbyAndRetired) {
  auto first = Json({"key", "generate", "--kid", "k1", "--json"});
  EXPECT_EQ(first["state"], "active");
  EXPECT_EQ(first["alg"], "ES256");
  EXPECT_EQ(first["issuer"], "https://n8n-fleet.local");
  auto second = Json({"key", "generate", "--alg", "RS256", "--kid", "k2", "--json"});
  EXPECT_EQ(second["state"], "standby");
  Ok({"key", "activate", "k2"});
  auto list = Json({"key", "list", "--json"});
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["state"], "standby");
  EXPECT_EQ(list[1]["state"], "active");
  Ok({"key", "retire", "k1"});
  EXPECT_EQ(Json({"key", "list", "--json"})[0]["state"], "retired");
  auto revive = Run({"key", "activate", "k1"});
  EXPECT_EQ(revive.exit_code, 1);
  auto pem = Ok({"key", "show", "k2", "--public"});
  EXPECT_EQ(pem.out.rfind("-----BEGIN PUBLIC KEY-----", 0), 0u) << pem.out;
  EXPECT_EQ(Run({"key", "generate", "--kid", "k2"}).exit_code, 1);  // kid taken
  EXPECT_EQ(Run({"key", "generate", "--alg", "HS256"}).exit_code, 1);
  EXPECT_EQ(Run({"key", "generate", "--issuer", "not a url"}).exit_code, 1);
  auto text = Ok({"key", "list"});
  EXPECT_NE(text.out.find("retired"), std::string::npos);
}

TEST_F(KeyCliTest, EnvPrintsWhatAnInstanceNeedsAndNoPrivateKey) {
  Ok({"key", "generate", "--kid", "k1", "--issuer", "https://usage.partner.example"});
  Ok({"key", "generate", "--alg", "RS256", "--kid", "k2"});
  Ok({"key", "generate", "--kid", "k3"});
  Ok({"key", "retire", "k3"});
  Ok({"server", "create", "s1", "https://s1.example"});
  auto env = Ok({"key", "env", "--server", "s1"});
  EXPECT_EQ(env.out.find("PRIVATE KEY"), std::string::npos);
  EXPECT_NE(env.out.find("N8N_ENV_FEAT_TOKEN_EXCHANGE='true'\n"), std::string::npos) << env.out;
  EXPECT_NE(env.out.find("N8N_TOKEN_EXCHANGE_ENABLED='true'\n"), std::string::npos);
  auto line_start = env.out.find("N8N_TOKEN_EXCHANGE_TRUSTED_KEYS='");
  ASSERT_NE(line_start, std::string::npos);
  auto value_start = line_start + std::string("N8N_TOKEN_EXCHANGE_TRUSTED_KEYS='").size();
  auto value = env.out.substr(value_start, env.out.find("'\n", value_start) - value_start);
  auto trusted = nlohmann::json::parse(value);
  ASSERT_EQ(trusted.size(), 2u);  // the retired key is not published
  EXPECT_EQ(trusted[0]["type"], "static");
  EXPECT_EQ(trusted[0]["kid"], "k1");
  EXPECT_EQ(trusted[0]["algorithms"], nlohmann::json::array({"ES256"}));
  EXPECT_EQ(trusted[1]["algorithms"], nlohmann::json::array({"RS256"}));
  EXPECT_EQ(trusted[0]["issuer"], "https://usage.partner.example");
  EXPECT_EQ(trusted[1]["issuer"], "https://usage.partner.example");  // inherited
  EXPECT_EQ(trusted[0]["allowedRoles"], nlohmann::json::array({"global:admin"}));
  EXPECT_EQ(trusted[0]["expectedAudience"], "https://s1.example");
  EXPECT_EQ(trusted[0]["key"].get<std::string>().rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u);
  EXPECT_EQ(value.find('\n'), std::string::npos) << "the PEM's newlines must be escaped";

  auto unbound = Json({"key", "env", "--format", "json", "--role", "global:member"});
  auto unbound_keys =
      nlohmann::json::parse(unbound["N8N_TOKEN_EXCHANGE_TRUSTED_KEYS"].get<std::string>());
  EXPECT_FALSE(unbound_keys[0].contains("expectedAudience"));
  EXPECT_EQ(unbound_keys[0]["allowedRoles"], nlohmann::json::array({"global:member"}));
  auto docker = Ok({"key", "env", "--format", "docker"});
  EXPECT_NE(docker.out.find("    environment:\n      N8N_ENV_FEAT_TOKEN_EXCHANGE: 'true'"),
            std::string::npos)
      << docker.out;
  auto k8s = Ok({"key", "env", "--format", "k8s"});
  EXPECT_NE(k8s.out.find("kind: Secret"), std::string::npos);
  EXPECT_NE(k8s.out.find("  N8N_TOKEN_EXCHANGE_TRUSTED_KEYS: '[{"), std::string::npos);
  EXPECT_EQ(Run({"key", "env", "--format", "xml"}).exit_code, 1);
}

TEST_F(KeyCliTest, EnvWithoutKeysSaysHowToCreateOne) {
  auto result = Run({"key", "env"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("key generate"), std::string::npos) << result.err;
}

TEST_F(KeyCliTest, JwksListsPublishedKeysAsJwk) {
  Ok({"key", "generate", "--kid", "ec"});
  Ok({"key", "generate", "--alg", "RS256", "--kid", "rsa"});
  Ok({"key", "generate", "--kid", "old"});
  Ok({"key", "retire", "old"});
  auto jwks = Json({"key", "jwks"});
  ASSERT_EQ(jwks["keys"].size(), 2u);
  EXPECT_EQ(jwks["keys"][0]["kid"], "ec");
  EXPECT_EQ(jwks["keys"][0]["kty"], "EC");
  EXPECT_EQ(jwks["keys"][0]["crv"], "P-256");
  EXPECT_EQ(jwks["keys"][1]["kty"], "RSA");
  EXPECT_EQ(jwks["keys"][1]["e"], "AQAB");
  EXPECT_EQ(jwks["keys"][1]["alg"], "RS256");
  EXPECT_EQ(jwks.dump().find("\"d\""), std::string::npos) << "private parameter published";
}

TEST_F(KeyCliTest, ImportsAPemKeyAndSealsItsPrivateHalf) {
  std::string pem_path = dir_.path() + "/rsa.pem";
  auto made = RunProcess({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                          "rsa_keygen_bits:2048", "-out", pem_path});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto key = Json({"key", "import", pem_path, "--kid", "imported", "--json"});
  EXPECT_EQ(key["alg"], "RS256");
  EXPECT_EQ(key["state"], "active");
  std::string pem = ReadAll(pem_path);
  std::string body = pem.substr(pem.find('\n') + 1, 64);  // a line of the private key
  EXPECT_EQ(StoredBytes().find(body), std::string::npos) << "private key stored in clear";
  std::string junk = dir_.path() + "/junk.pem";
  std::ofstream(junk) << "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n";
  auto bad = Run({"key", "import", junk});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("junk.pem"), std::string::npos) << bad.err;
}

class TokenExchangeCliTest : public KeyCliTest {
 protected:
  FakeN8n n8n_;
};

TEST_F(TokenExchangeCliTest, ServerTestPassesWithTokenExchangeAndExchangesOnce) {
  Ok({"key", "generate", "--kid", "k1"});
  Ok({"server", "create", "tx", n8n_.url(), "--auth", "token-exchange"});
  TrustFromKeyEnv(n8n_, "tx");
  auto report = ServerTest("tx", 0);
  ASSERT_EQ(report["steps"].size(), 4u) << report.dump(2);
  EXPECT_EQ(report["steps"][1]["step"], "token exchange");
  EXPECT_EQ(report["ok"], true) << report.dump(2);
  EXPECT_EQ(n8n_.ExchangeCount(), 1);
  EXPECT_TRUE(n8n_.ExchangeFailureReasons().empty());
  int bearer_calls = 0;
  for (const auto& request : n8n_.RecordedRequests()) {
    if (request.target.rfind("/api/v1/", 0) == 0) {
      EXPECT_EQ(request.Header("authorization").rfind("Bearer ", 0), 0u) << request.target;
      ++bearer_calls;
    }
  }
  EXPECT_EQ(bearer_calls, 2);  // workflows and insights, one exchanged token
  auto text = Ok({"server", "test", "tx"});
  EXPECT_NE(text.out.find("[ok]   token exchange"), std::string::npos) << text.out;
}

TEST_F(TokenExchangeCliTest, ServerTestWorksWithAnApiKeyToo) {
  std::string key = MakeApiKey("k", 1700000000);
  n8n_.AcceptApiKey(key);
  Ok({"server", "create", "plain", n8n_.url()});
  Ok({"apikey", "add", key, "--name", "k", "--server", "plain"});
  auto report = ServerTest("plain", 0);
  EXPECT_EQ(report["steps"][1]["step"], "api key");
  EXPECT_EQ(n8n_.ExchangeCount(), 0);
  Ok({"apikey", "deactivate", "k"});
  auto no_key = ServerTest("plain", 1);
  EXPECT_NE(no_key["steps"][1]["detail"].get<std::string>().find("no active API key"),
            std::string::npos);
}

TEST_F(TokenExchangeCliTest, AnUntrustedKeyFailsWithInvalidGrantAndItsLikelyCauses) {
  Ok({"key", "generate", "--kid", "trusted"});
  Ok({"server", "create", "tx", n8n_.url(), "--auth", "token-exchange"});
  TrustFromKeyEnv(n8n_);
  Ok({"key", "generate", "--kid", "new", "--activate"});
  auto report = ServerTest("tx", 1);
  std::string detail = report["steps"][1]["detail"];
  EXPECT_NE(detail.find("invalid_grant"), std::string::npos) << detail;
  EXPECT_NE(detail.find("key env"), std::string::npos) << detail;
  EXPECT_EQ(n8n_.ExchangeFailureReasons(), std::vector<std::string>{"unknown_key"});
}

TEST_F(TokenExchangeCliTest, ExplainsAModuleThatIsNotLoadedOrDisabled) {
  Ok({"key", "generate"});
  Ok({"server", "create", "tx", n8n_.url(), "--auth", "token-exchange"});
  TrustFromKeyEnv(n8n_);
  n8n_.SetTokenExchange(FakeN8n::TokenExchangeMode::kNotLoaded);
  auto not_loaded = ServerTest("tx", 1);
  EXPECT_NE(not_loaded["steps"][1]["detail"].get<std::string>().find("N8N_ENV_FEAT_TOKEN_EXCHANGE"),
            std::string::npos)
      << not_loaded.dump(2);
  n8n_.SetTokenExchange(FakeN8n::TokenExchangeMode::kDisabled);
  auto disabled = ServerTest("tx", 1);
  EXPECT_NE(disabled["steps"][1]["detail"].get<std::string>().find("N8N_TOKEN_EXCHANGE_ENABLED"),
            std::string::npos)
      << disabled.dump(2);
}

TEST_F(TokenExchangeCliTest, ARateLimitedExchangeSaysWhenToTryAgain) {
  Ok({"key", "generate"});
  Ok({"server", "create", "tx", n8n_.url(), "--auth", "token-exchange"});
  TrustFromKeyEnv(n8n_);
  n8n_.SetExchangeRateLimit(1);
  EXPECT_EQ(ServerTest("tx", 0)["ok"], true);
  auto limited = ServerTest("tx", 1);  // a new process: no cached token, the limit is reached
  std::string detail = limited["steps"][1]["detail"];
  EXPECT_NE(detail.find("429"), std::string::npos) << detail;
  EXPECT_EQ(n8n_.ExchangeCount(), 1);
}

TEST_F(TokenExchangeCliTest, RetiringTheActiveKeyStopsSigning) {
  Ok({"key", "generate", "--kid", "only"});
  Ok({"server", "create", "tx", n8n_.url(), "--auth", "token-exchange"});
  Ok({"key", "retire", "only"});
  auto report = ServerTest("tx", 1);
  EXPECT_NE(report["steps"][1]["detail"].get<std::string>().find("no signing key is active"),
            std::string::npos)
      << report.dump(2);
  EXPECT_EQ(n8n_.ExchangeCount(), 0);
}

TEST(AudienceBindingTest, ASubjectTokenCapturedByOneInstanceIsRefusedByAnother) {
  FakeN8n first, second;
  TempDir dir;
  std::string home = dir.path() + "/home";
  auto fleet = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {FleetBinary(), "--home", home, "--no-emoji"});
    auto result = RunProcess(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result;
  };
  fleet({"key", "generate", "--kid", "k"});
  fleet({"server", "create", "first", first.url(), "--auth", "token-exchange"});
  fleet({"server", "create", "second", second.url(), "--auth", "token-exchange"});
  for (auto [n8n, name] : {std::pair{&first, "first"}, std::pair{&second, "second"}}) {
    TrustKeyEnv(*n8n, nlohmann::json::parse(
                          fleet({"key", "env", "--format", "json", "--server", name}).out));
  }
  std::string captured = fleet({"key", "mint", "first"}).out;
  captured = captured.substr(0, captured.find('\n'));
  auto transport = n8n::MakeCurlTransport();
  auto replayed = transport->Send(n8n::TokenExchangeRequest({second.url(), true}, captured));
  ASSERT_TRUE(replayed.has_value());
  EXPECT_EQ(replayed->status, 400);
  EXPECT_EQ(second.ExchangeFailureReasons(), std::vector<std::string>{"audience"});
  auto genuine = transport->Send(n8n::TokenExchangeRequest({first.url(), true}, captured));
  ASSERT_TRUE(genuine.has_value());
  EXPECT_EQ(genuine->status, 200) << genuine->body;
}

}  // namespace
}  // namespace fleet::testing
